/**
 * `tree` (one directory at a revision, blob sizes from the index) and `blob` (a byte range of a file).
 * Invariants:
 * - A blob larger than the repo's object limit is refused before it is read (`blob-too-large`);
 *   a reply carries at most `maxBytes` of it.
 */
import { GitError, entryKind, type Oid } from "../../../engine/index.ts";
import { isBinary } from "../../../engine/grep/index.ts";
import { lookupPath, resolveTree, type RevErrorCode } from "../../../engine/rev/index.ts";
import { rpcError, type RpcParsedInput, type RpcResult } from "../../../protocol/rpc/index.ts";
import type { RpcContext } from "./context.ts";
import { readTree, revContext } from "./rev-context.ts";

export async function listTree(ctx: RpcContext, input: RpcParsedInput<"tree">): Promise<RpcResult<"tree">> {
  const entry = await entryAt(ctx, input.rev, input.path);
  if (entryKind(entry.mode) !== "tree") throw wrongType(input.path, "a tree", entryKind(entry.mode));
  const entries = await readTree(ctx, entry.oid);
  const sizes = ctx.store.locateSync(entries.filter((e) => entryKind(e.mode) === "blob").map((e) => e.oid));
  return {
    oid: entry.oid,
    path: input.path,
    entries: entries.map((e) => {
      const type = entryKind(e.mode);
      const size = type === "blob" ? sizes.get(e.oid)?.size : undefined;
      const path = input.path === "" ? e.name : `${input.path}/${e.name}`;
      return size === undefined ? { name: e.name, path, mode: e.mode, type, oid: e.oid } : { name: e.name, path, mode: e.mode, type, oid: e.oid, size };
    }),
  };
}

export async function readBlob(ctx: RpcContext, input: RpcParsedInput<"blob">): Promise<RpcResult<"blob">> {
  const entry = await entryAt(ctx, input.rev, input.path);
  if (entryKind(entry.mode) !== "blob") throw wrongType(input.path, "a file", entryKind(entry.mode));
  const size = ctx.store.locateSync([entry.oid]).get(entry.oid)?.size;
  if (size === undefined) throw new GitError("object-missing", `blob ${entry.oid} is not stored`);
  if (size > ctx.limits.maxObjectBytes) throw rpcError("blob-too-large", `${input.path} is ${size} bytes; the limit is ${ctx.limits.maxObjectBytes}`, { size });
  if (input.offset > size) throw rpcError("range-invalid", `offset ${input.offset} is past the end of ${input.path} (${size} bytes)`, { size });
  const data = (await ctx.objects.require(entry.oid)).data;
  const wanted = input.length === undefined ? size : Math.min(size, input.offset + input.length);
  const end = Math.min(wanted, input.offset + input.maxBytes);
  return { oid: entry.oid, mode: entry.mode, size, offset: input.offset, content: data.slice(input.offset, end), truncated: end < wanted, binary: isBinary(data) };
}

async function entryAt(ctx: RpcContext, rev: string, path: string) {
  const root: Oid = await resolveTree(revContext(ctx), rev);
  const entry = await lookupPath((oid) => readTree(ctx, oid), root, path);
  if (!entry)
    throw new GitError<RevErrorCode>("path-not-found", `path ${JSON.stringify(path.slice(0, 200))} does not exist in ${JSON.stringify(rev.slice(0, 100))}`, {
      data: { rev: rev.slice(0, 200), path: path.slice(0, 200) },
    });
  return entry;
}

function wrongType(path: string, wanted: string, got: string) {
  return new GitError<RevErrorCode>("rev-wrong-type", `${JSON.stringify(path.slice(0, 200))} is a ${got}, not ${wanted}`, { data: { path: path.slice(0, 200), type: got } });
}
