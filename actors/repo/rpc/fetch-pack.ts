/**
 * `fetchPack` for Worker code: the pack git's upload-pack would send for these wants and haves, as
 * raw pack bytes (no side-band, no negotiation round trips: the caller says what it has).
 * Invariants:
 * - Each want must be reachable from a ref (`not-our-ref` otherwise), as for git clients; haves
 *   no ref reaches are ignored.
 * Spec: gitformat-pack(5); gitprotocol-pack(5) "Packfile Data".
 */
import type { Oid } from "../../../engine/index.ts";
import { resolveRev } from "../../../engine/rev/index.ts";
import type { FetchPackParsed } from "../../../protocol/rpc/index.ts";
import { checkWants } from "../choose-objects.ts";
import { streamPack, type PackContext } from "../pack-response.ts";
import type { RpcContext } from "./context.ts";
import { revContext } from "./rev-context.ts";
import { reachableObjects } from "../reachability.ts";

export async function fetchPack(ctx: RpcContext, packs: PackContext, input: FetchPackParsed): Promise<AsyncGenerator<Uint8Array>> {
  const rc = revContext(ctx);
  const wants: Oid[] = [];
  for (const w of input.wants) wants.push((await resolveRev(rc, w)).oid);
  await checkWants(ctx, wants);
  // Only haves the refs reach count: an unreachable one would change the pack, and so tell it exists.
  const known = await reachableObjects(ctx, input.haves);
  const common = input.haves.filter((h) => known.get(h) === "commit");
  return streamPack(packs, { wants, common, ofsDelta: input.ofsDelta, thinPack: input.thinPack, includeTag: false, sideBand: "none", progress: false });
}
