/**
 * `refs` and `resolve`: the ref list with HEAD and peeled tags, and revision resolution.
 */
import { resolveRev } from "../../../engine/rev/index.ts";
import type { RpcParsedInput, RpcResult } from "../../../protocol/rpc/index.ts";
import { headTarget } from "../head.ts";
import type { RpcContext } from "./context.ts";
import { revContext } from "./rev-context.ts";

export function listRefs(ctx: RpcContext, input: RpcParsedInput<"refs">): RpcResult<"refs"> {
  const { store } = ctx;
  const target = headTarget(store);
  const refs = store
    .refs()
    .filter((r) => r.name.startsWith(input.prefix))
    .map((r) => (store.isTag(r.oid) ? { name: r.name, oid: r.oid, peeled: store.peel(r.oid).oid } : { name: r.name, oid: r.oid }));
  return { head: { target, oid: store.ref(target) ?? null }, refs };
}

export async function resolve(ctx: RpcContext, input: RpcParsedInput<"resolve">): Promise<RpcResult<"resolve">> {
  return resolveRev(revContext(ctx), input.rev);
}
