/**
 * `log`: a page of commits from a revision (or a cursor), newest first, optionally only those that
 * change a path; commit details are read from the objects, the walk itself from the commit graph.
 * Invariants:
 * - A cursor is bound to the path it was made for and names only commits the refs reach; anything
 *   else is `cursor-invalid`.
 */
import { GitError, decodeCommit, isOid, type Oid, type Signature } from "../../../engine/index.ts";
import { lookupPath, resolveCommit, walkLog } from "../../../engine/rev/index.ts";
import type { RpcErrorCode, RpcParsedInput, RpcResult } from "../../../protocol/rpc/index.ts";
import type { RpcContext } from "./context.ts";
import { readTree, revContext } from "./rev-context.ts";
import { reachableObjects } from "../reachability.ts";

/** Commits visited per call at most: bounds the work a rare path can cost. */
const MAX_VISITS = 10_000;

interface Cursor {
  path: string;
  frontier: Oid[];
}

export async function log(ctx: RpcContext, input: RpcParsedInput<"log">): Promise<RpcResult<"log">> {
  const start =
    input.cursor !== undefined
      ? (await decodeCursor(ctx, input.cursor, input.path)).frontier
      : [await resolveCommit(revContext(ctx), input.rev)];
  const page = await walkLog(
    {
      commits: (oids) => ctx.store.commits(oids),
      entryAt: async (tree, path) => {
        const e = await lookupPath((oid) => readTree(ctx, oid), tree, path);
        return e ? `${e.mode} ${e.oid}` : null;
      },
    },
    start,
    { limit: input.limit, path: input.path, maxVisits: MAX_VISITS },
  );
  const commits = [];
  for (const node of page.commits) {
    const c = decodeCommit((await ctx.objects.require(node.oid)).data);
    commits.push({ oid: node.oid, tree: c.tree, parents: c.parents, author: person(c.author), committer: person(c.committer), message: c.message });
  }
  return { commits, cursor: page.frontier.length ? encodeCursor({ path: input.path, frontier: page.frontier }) : null };
}

function person(s: Signature) {
  return { name: s.name, email: s.email, date: new Date(s.timestamp * 1000), timezone: s.timezone };
}

function encodeCursor(c: Cursor): string {
  return btoa(JSON.stringify(c)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

async function decodeCursor(ctx: RpcContext, text: string, path: string): Promise<Cursor> {
  const bad = (cause?: unknown) => new GitError<RpcErrorCode>("cursor-invalid", "the cursor is not one this log handed out for this path", { cause });
  let c: Cursor;
  try {
    c = JSON.parse(atob(text.replaceAll("-", "+").replaceAll("_", "/"))) as Cursor;
  } catch (e) {
    throw bad(e);
  }
  if (!c || c.path !== path || !Array.isArray(c.frontier) || c.frontier.length === 0 || c.frontier.length > MAX_VISITS || !c.frontier.every((o) => typeof o === "string" && isOid(o)))
    throw bad();
  // A forged cursor must not start a walk from a commit no ref reaches.
  const reachable = await reachableObjects(ctx, c.frontier);
  if (!c.frontier.every((o) => reachable.get(o) === "commit")) throw bad();
  return c;
}
