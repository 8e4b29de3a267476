/**
 * The repository as engine/rev sees it: refs (HEAD through meta), id prefixes and types from the
 * object index, contents through the object reader. Plus the tree reader every RPC uses.
 * Invariants:
 * - Types come from the index, so checking a revision's type never inflates a blob.
 */
import { GitError, decodeTree, type Oid, type TreeEntry } from "../../../engine/index.ts";
import type { RevContext } from "../../../engine/rev/index.ts";
import { headTarget } from "../head.ts";
import type { RpcContext } from "./context.ts";

export function revContext(ctx: RpcContext): RevContext {
  return {
    ref: (name) => ctx.store.ref(name === "HEAD" ? headTarget(ctx.store) : name),
    // Hex digits sort below "g", so [hex, hex + "g") is every id that starts with hex.
    expandPrefix: (hex) =>
      ctx.store.sql
        .exec<{ oid: string }>(`SELECT oid FROM objects WHERE oid >= ? AND oid < ? ORDER BY oid LIMIT 2`, hex, hex + "g")
        .toArray()
        .map((r) => r.oid as Oid),
    typeOf: async (oid) => ctx.store.locateSync([oid]).get(oid)?.type,
    read: (oid) => ctx.objects.require(oid),
  };
}

export async function readTree(ctx: RpcContext, oid: Oid): Promise<TreeEntry[]> {
  const obj = await ctx.objects.require(oid);
  if (obj.type !== "tree") throw new GitError("object-corrupt", `${oid} is a ${obj.type}, expected a tree`);
  return decodeTree(obj.data);
}
