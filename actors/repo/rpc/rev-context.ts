/**
 * The repository as engine/rev sees it: refs (HEAD through meta), id prefixes and types from the
 * object index, contents through the object reader. Plus the tree reader every RPC uses.
 * Invariants:
 * - Types come from the index, so checking a revision's type never inflates a blob.
 * - A revision may start at an id (full or abbreviated) only if the refs reach it; otherwise it
 *   fails as an id the repository lacks does (reachability.ts).
 */
import { GitError, decodeTree, type Oid, type TreeEntry } from "../../../engine/index.ts";
import type { RevContext } from "../../../engine/rev/index.ts";
import { headTarget } from "../head.ts";
import { expandReachablePrefix, reachableObjects } from "../reachability.ts";
import type { RpcContext } from "./context.ts";

export function revContext(ctx: RpcContext): RevContext {
  return {
    ref: (name) => ctx.store.ref(name === "HEAD" ? headTarget(ctx.store) : name),
    expandPrefix: (hex) => expandReachablePrefix(ctx, hex),
    typeOf: async (oid) => (await reachableObjects(ctx, [oid])).get(oid),
    read: (oid) => ctx.objects.require(oid),
  };
}

export async function readTree(ctx: RpcContext, oid: Oid): Promise<TreeEntry[]> {
  const obj = await ctx.objects.require(oid);
  if (obj.type !== "tree") throw new GitError("object-corrupt", `${oid} is a ${obj.type}, expected a tree`);
  return decodeTree(obj.data);
}
