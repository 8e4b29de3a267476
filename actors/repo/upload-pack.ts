/**
 * git-upload-pack over stateless HTTP, protocol v0 and v2: negotiation against the commit graph,
 * then the pack from pack-response.ts.
 * Invariants:
 * - Every request is complete in itself (stateless RPC): the client resends all wants and haves.
 * - Errors found before the response starts are thrown (HTTP 4xx); a want the server won't serve
 *   is answered with git's `ERR` line.
 * Spec: gitprotocol-pack(5) "Packfile Negotiation"; gitprotocol-v2(5) "ls-refs", "fetch";
 *       gitprotocol-http(5) "Smart Service git-upload-pack".
 */
import { ByteReader, GitError, concatBytes, parseObjectFilter, type ObjectFilter, type Oid } from "../../engine/index.ts";
import {
  PACKFILE_SECTION_HEADER, PKT_FLUSH, parseFetchArgs, parseLsRefsArgs, parseUploadPackRequest, parseV2Request, pktLine,
  unadvertisedCapability, uploadPackV0Capabilities, writeAck, writeShallowInfo, writeShallowUpdate, writeAcknowledgments, writeLsRefsResponse, writeNak, type LsRefsRef,
} from "../../protocol/index.ts";
import { withPeeled } from "./advertise.ts";
import { headTarget } from "./head.ts";
import { checkWants, peelWants } from "./choose-objects.ts";
import { deepens, planShallow, type ShallowPlan } from "./shallow-plan.ts";
import { streamPack, type PackContext } from "./pack-response.ts";

export async function uploadPackV0(ctx: PackContext, body: AsyncIterable<Uint8Array>): Promise<AsyncGenerator<Uint8Array>> {
  const req = await parseUploadPackRequest(new ByteReader(body));
  const unknown = unadvertisedCapability(req.capabilities, uploadPackV0Capabilities({ headSymref: "" }));
  if (unknown) throw new GitError("capability-not-advertised", `capability ${JSON.stringify(unknown.slice(0, 40))} was not advertised`);
  return (async function* (): AsyncGenerator<Uint8Array> {
    const caps = req.capabilities;
    const multiAck = caps.has("multi_ack_detailed") ? 2 : caps.has("multi_ack") ? 1 : 0;
    const common = commonHaves(ctx, req.haves);
    // v0 asks for relative depth and for filtering with capabilities, v2 with arguments.
    const prep = await prepareFetch(ctx, { ...req, deepenRelative: caps.has("deepen-relative") }, common, caps.has("filter"));
    if (!prep.ok) {
      yield prep.err;
      return;
    }
    const { shallow, filter } = prep;
    if (shallow) yield writeShallowUpdate(shallow);
    // A want-only round (stateless shallow fetches start with one) is answered by the update alone.
    if (req.haves.length === 0 && !req.done) return;
    const last = common[common.length - 1];
    const lines: Uint8Array[] = [];
    for (const c of common) {
      if (multiAck === 2) lines.push(writeAck(c, "common"));
      else if (multiAck === 1) lines.push(writeAck(c, "continue"));
      else if (c === common[0]) lines.push(writeAck(c));
    }
    let sendPack = req.done;
    if (req.done) {
      if (last && multiAck) lines.push(writeAck(last));
      else if (!last) lines.push(writeNak());
    } else {
      const gotOther = req.haves.length > common.length;
      const ready = multiAck === 2 && last !== undefined && !gotOther && okToGiveUp(ctx, req.wants, common);
      if (ready) lines.push(writeAck(last, "ready"));
      if (common.length === 0 || multiAck) lines.push(writeNak());
      if (caps.has("no-done") && ready) {
        lines.push(writeAck(last));
        sendPack = true;
      }
    }
    yield concatBytes(lines);
    if (!sendPack) return;
    const sideBand = caps.has("side-band-64k") ? "64k" : caps.has("side-band") ? "small" : "none";
    yield* streamPack(ctx, {
      wants: req.wants,
      common,
      ofsDelta: caps.has("ofs-delta"),
      thinPack: caps.has("thin-pack"),
      includeTag: caps.has("include-tag"),
      sideBand,
      progress: !caps.has("no-progress"),
      shallow,
      filter,
    });
    if (sideBand !== "none") yield PKT_FLUSH;
  })();
}

export async function uploadPackV2(ctx: PackContext, body: AsyncIterable<Uint8Array>): Promise<AsyncGenerator<Uint8Array>> {
  const req = await parseV2Request(new ByteReader(body));
  if (req.command === "ls-refs") {
    const args = parseLsRefsArgs(req.args);
    return (async function* () {
      yield concatBytes(writeLsRefsResponse(lsRefs(ctx, args.refPrefixes), args));
    })();
  }
  if (req.command !== "fetch") throw new GitError("v2-request-malformed", `unknown command ${JSON.stringify(req.command.slice(0, 40))}`);
  const args = parseFetchArgs(req.args);
  return (async function* (): AsyncGenerator<Uint8Array> {
    const common = commonHaves(ctx, args.haves);
    const prep = await prepareFetch(ctx, args, common, true);
    if (!prep.ok) {
      yield prep.err;
      return;
    }
    const { shallow, filter } = prep;
    if (!args.done) {
      const ready = !args.waitForDone && okToGiveUp(ctx, args.wants, common);
      yield concatBytes(writeAcknowledgments({ common, ready }));
      if (!ready) return;
    }
    if (shallow) yield writeShallowInfo(shallow);
    yield PACKFILE_SECTION_HEADER;
    yield* streamPack(ctx, {
      wants: args.wants,
      common,
      ofsDelta: args.ofsDelta,
      thinPack: args.thinPack,
      includeTag: args.includeTag,
      sideBand: "64k",
      progress: !args.noProgress,
      shallow,
      filter,
    });
    yield PKT_FLUSH;
  })();
}

interface ShallowRequestArgs {
  shallows: readonly Oid[];
  deepen?: number;
  deepenSince?: number;
  deepenNot: readonly string[];
  deepenRelative?: boolean;
}

type FetchShape = ShallowRequestArgs & { wants: readonly Oid[]; filter?: string };
type Prepared = { ok: true; shallow?: ShallowPlan; filter?: ObjectFilter } | { ok: false; err: Uint8Array };

/**
 * Checks the wants and plans what a fetch needs before any pack byte: the shallow plan and the
 * object filter. A request the server won't serve gets git's `ERR` line.
 */
async function prepareFetch(ctx: PackContext, req: FetchShape, common: readonly Oid[], filterNegotiated: boolean): Promise<Prepared> {
  try {
    await checkWants(ctx, req.wants);
    const shallow = planFor(ctx, req.wants, common, req);
    if (req.filter !== undefined && !filterNegotiated) throw new GitError("capability-not-advertised", "filtering capability not negotiated");
    return { ok: true, shallow, filter: req.filter === undefined ? undefined : parseObjectFilter(req.filter) };
  } catch (e) {
    if (e instanceof GitError) return { ok: false, err: pktLine(`ERR ${e.message}\n`) };
    throw e;
  }
}

/** A shallow plan when the client deepens or is itself shallow; otherwise none. */
function planFor(
  ctx: PackContext,
  wants: readonly Oid[],
  common: readonly Oid[],
  req: ShallowRequestArgs,
): ShallowPlan | undefined {
  const depth = req.deepen;
  if (!deepens({ depth, deepenSince: req.deepenSince, deepenNot: req.deepenNot }) && req.shallows.length === 0) return undefined;
  const { store } = ctx;
  const deepenNot = req.deepenNot.map((name) => {
    const oid = [name, `refs/heads/${name}`, `refs/tags/${name}`].map((n) => store.ref(n)).find((o) => o !== undefined);
    if (!oid) throw new GitError("not-our-ref", `deepen-not: no ref ${JSON.stringify(name.slice(0, 80))}`);
    return store.peel(oid).oid;
  });
  return planShallow(store, {
    wants: peelWants(store, wants).commits,
    common,
    clientShallows: req.shallows.filter((s) => store.commitsSync([s]).size > 0),
    depth,
    deepenRelative: req.deepenRelative ?? false,
    deepenSince: req.deepenSince,
    deepenNot,
  });
}

/**
 * git's rule for `ready` (ok_to_give_up): every wanted commit reaches a commit the client has, a
 * common commit or a parent of one, through commits no older than the oldest common one. Readiness
 * stops the client's haves, so saying it sooner (say, once a round's haves were all known, or
 * through old history) leaves out the client's other branches, and the pack resends what it has.
 */
function okToGiveUp(ctx: PackContext, wants: readonly Oid[], common: readonly Oid[]): boolean {
  if (common.length === 0) return false;
  const nodes = [...ctx.store.commitsSync(common).values()];
  const held = [...new Set([...common, ...nodes.flatMap((c) => c.parents)])];
  const oldest = Math.min(...nodes.map((c) => c.time));
  return peelWants(ctx.store, wants).commits.every((w) => ctx.store.reachesAny(w, held, oldest));
}

/** The haves the repository has, as commits (the only haves negotiation uses). */
function commonHaves(ctx: PackContext, haves: readonly Oid[]): Oid[] {
  if (haves.length === 0) return [];
  const known = ctx.store.commitsSync(haves);
  return haves.filter((h) => known.has(h));
}

function lsRefs(ctx: PackContext, prefixes: readonly string[]): LsRefsRef[] {
  const { store } = ctx;
  const match = (name: string) => prefixes.length === 0 || prefixes.some((p) => name.startsWith(p));
  const refs = store.refs();
  const head = headTarget(store);
  const out: LsRefsRef[] = [];
  if (match("HEAD")) {
    const oid = refs.find((r) => r.name === head)?.oid;
    out.push({ name: "HEAD", oid: oid ?? "unborn", symrefTarget: head });
  }
  for (const r of refs) if (match(r.name)) out.push(withPeeled(store, r.name, r.oid));
  return out;
}
