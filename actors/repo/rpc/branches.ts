/**
 * `createBranch`, `deleteBranch` and `createTag`: single-ref writes by compare-and-swap, each logged
 * with its own source so subscribers can tell them from pushes and commits.
 * Invariants:
 * - A branch always points at a commit (the `from` revision is peeled through tags).
 * - An annotated tag's object is stored and indexed in the same transaction that creates its ref.
 */
import { encodeTag, hashObject, type Oid } from "../../../engine/index.ts";
import { resolveCommit, resolveRev } from "../../../engine/rev/index.ts";
import { rpcError, type RpcParsedInput, type RpcResult } from "../../../protocol/rpc/index.ts";
import { signature } from "./commit.ts";
import type { RpcContext } from "./context.ts";
import { casRef, checkRef } from "./ref-write.ts";
import { revContext } from "./rev-context.ts";
import { writeObjectsPack } from "./write-objects.ts";

export async function createBranch(ctx: RpcContext, input: RpcParsedInput<"createBranch">): Promise<RpcResult<"createBranch">> {
  const oid = await resolveCommit(revContext(ctx), input.from);
  const seq = ctx.store.transact(() => casRef(ctx.store, input.name, null, oid, "create-branch"));
  ctx.publish([seq]);
  return { ref: input.name, old: null, new: oid, seq };
}

export function deleteBranch(ctx: RpcContext, input: RpcParsedInput<"deleteBranch">): RpcResult<"deleteBranch"> {
  const current = ctx.store.ref(input.name);
  if (!current) throw rpcError("ref-not-found", `${input.name} does not exist`, { ref: input.name });
  const old = input.expected ?? current;
  const seq = ctx.store.transact(() => casRef(ctx.store, input.name, old, null, "delete-branch"));
  ctx.publish([seq]);
  return { ref: input.name, old, new: null, seq };
}

export async function createTag(ctx: RpcContext, input: RpcParsedInput<"createTag">): Promise<RpcResult<"createTag">> {
  const { store } = ctx;
  const target = await resolveRev(revContext(ctx), input.target);
  checkRef(store, input.name, null);
  if (input.message === undefined) {
    const seq = store.transact(() => casRef(store, input.name, null, target.oid, "create-tag"));
    ctx.publish([seq]);
    return { ref: input.name, old: null, new: target.oid, seq };
  }
  if (!input.tagger) throw rpcError("rpc-bad-input", "an annotated tag (one with a message) needs a tagger");
  const data = encodeTag({
    object: target.oid,
    type: target.type,
    tag: input.name.slice("refs/tags/".length),
    tagger: signature(input.tagger, new Date()),
    extraHeaders: [],
    message: input.message.endsWith("\n") ? input.message : input.message + "\n",
  });
  const oid: Oid = hashObject("tag", data);
  const pack = store.existing([oid]).has(oid) ? undefined : await writeObjectsPack(ctx, [{ oid, type: "tag", data }]);
  let seq: number;
  try {
    seq = store.transact(() => {
      const s = casRef(store, input.name, null, oid, "create-tag");
      if (pack) {
        store.insertObjects(pack.packId, pack.entries);
        store.setPackState(pack.packId, "live", { bytes: pack.bytes, objects: pack.entries.length });
      }
      store.insertTag(oid, target.oid, target.type);
      return s;
    });
  } catch (e) {
    if (pack) store.setPackState(pack.packId, "garbage", { reason: "refused" });
    throw e;
  }
  ctx.publish([seq]);
  return { ref: input.name, old: null, new: oid, seq };
}
