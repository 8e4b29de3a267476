/**
 * `commit`: writes and deletes files on a branch as one new commit built server-side, then moves
 * the branch by compare-and-swap against `expectedParent`.
 * Invariants:
 * - New objects are stored (writeObjectsPack) before the transaction; the transaction re-checks
 *   the branch, indexes the objects and the commit, makes the pack live and moves the ref, or does
 *   none of it. Two racing commits on one branch: exactly one wins, the other gets `ref-conflict`.
 */
import { encodeCommit, hashObject, utf8, type Oid, type Signature } from "../../../engine/index.ts";
import { rpcError, type RpcParsedInput, type RpcResult } from "../../../protocol/rpc/index.ts";
import { applyChanges, type FileChange } from "./apply-changes.ts";
import type { RpcContext } from "./context.ts";
import { casRef, checkRef } from "./ref-write.ts";
import { readTree } from "./rev-context.ts";
import { writeObjectsPack, type NewObject } from "./write-objects.ts";

export async function commit(ctx: RpcContext, input: RpcParsedInput<"commit">): Promise<RpcResult<"commit">> {
  const { store } = ctx;
  if (store.getMeta("created") === undefined && !(ctx.mayCreate && input.expectedParent === null)) throw rpcError("repo-not-found", "repository not found");
  checkRef(store, input.branch, input.expectedParent);

  let baseTree: Oid | null = null;
  let generation = 1;
  if (input.expectedParent) {
    const parent = store.commitsSync([input.expectedParent]).get(input.expectedParent);
    if (!parent) throw rpcError("ref-conflict", `${input.branch} does not point at a commit`, { ref: input.branch });
    baseTree = parent.tree;
    generation = parent.generation + 1;
  }
  const changes: FileChange[] = input.changes.map((c) =>
    "delete" in c ? { path: c.path, delete: true } : { path: c.path, content: typeof c.content === "string" ? utf8(c.content) : c.content, ...(c.mode ? { mode: c.mode } : {}) },
  );
  const { tree, objects } = await applyChanges((oid) => readTree(ctx, oid), baseTree, changes);
  if (tree === baseTree && !input.allowEmpty) throw rpcError("nothing-to-commit", "the changes leave the tree as it was (pass allowEmpty to commit anyway)");

  const now = new Date();
  const parents = input.expectedParent ? [input.expectedParent] : [];
  const author = signature(input.author, now);
  const committer = input.committer ? signature(input.committer, now) : author;
  const data = encodeCommit({
    tree,
    parents,
    author,
    committer,
    extraHeaders: [],
    message: input.message.endsWith("\n") ? input.message : input.message + "\n",
  });
  const oid = hashObject("commit", data);
  const have = store.existing([...objects.map((o) => o.oid), oid]);
  const fresh: NewObject[] = [...objects, { oid, type: "commit" as const, data }].filter((o) => !have.has(o.oid));

  const pack = fresh.length ? await writeObjectsPack(ctx, fresh) : undefined;
  let seq: number;
  try {
    seq = store.transact(() => {
      if (store.getMeta("created") === undefined) store.setMeta("created", now.toISOString());
      const s = casRef(store, input.branch, input.expectedParent, oid, "commit");
      if (pack) {
        store.insertObjects(pack.packId, pack.entries);
        store.setPackState(pack.packId, "live", { bytes: pack.bytes, objects: pack.entries.length });
      }
      store.insertCommits([{ row: { oid, tree, parents, time: committer.timestamp }, generation }]);
      return s;
    });
  } catch (e) {
    if (pack) store.setPackState(pack.packId, "garbage", { reason: "refused" });
    throw e;
  }
  ctx.publish([seq]);
  return { commit: oid, tree, parent: input.expectedParent, ref: input.branch, seq };
}

export function signature(s: { name: string; email: string; date?: Date | undefined; timezone: string }, now: Date): Signature {
  return { name: s.name, email: s.email, timestamp: Math.floor((s.date ?? now).getTime() / 1000), timezone: s.timezone };
}
