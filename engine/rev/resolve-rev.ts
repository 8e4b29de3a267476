/**
 * Evaluates a parsed revision against a repository: names through git's ref search order, then
 * ancestry and peeling steps, then an optional path.
 * Invariants:
 * - A name is tried as `refs/…` itself, then under refs/, refs/tags/, refs/heads/, refs/remotes/
 *   (and refs/remotes/<name>/HEAD), before being read as an abbreviated id (4 to 39 hex digits).
 * - An abbreviated id matching two objects is `rev-ambiguous`, never a guess.
 * - Only the id a revision starts from is checked with the context (`typeOf`, `expandPrefix`):
 *   ancestry, peeling and paths from an object the caller may name lead only to such objects.
 * Spec: gitrevisions(7) "SPECIFYING REVISIONS"; git-rev-parse(1) "--verify".
 */
import { GitError } from "../errors.ts";
import { isOid, type Oid } from "../oid.ts";
import { decodeCommit } from "../object/commit.ts";
import { decodeTag } from "../object/tag.ts";
import { decodeTree, entryKind } from "../object/tree.ts";
import type { GitObject, ObjectType } from "../object/types.ts";
import { parseRev, type RevErrorCode, type RevExpr } from "./parse-rev.ts";
import { lookupPath } from "./tree-path.ts";

export interface RevContext {
  /** The id a full ref name, or "HEAD", points at. */
  ref(name: string): Oid | undefined;
  /**
   * Up to two ids starting with `hex` (enough to tell unique from ambiguous), among the objects a
   * caller may name by id (a server: those its refs reach).
   */
  expandPrefix(hex: string): Promise<Oid[]>;
  /** The type of an object a caller may name by id, without inflating it; undefined if it may not (or is not stored). */
  typeOf(oid: Oid): Promise<ObjectType | undefined>;
  /** A stored object's content; throws if it is missing. */
  read(oid: Oid): Promise<GitObject>;
}

export interface Resolved {
  oid: Oid;
  type: ObjectType;
  /** Set when the revision ended in `:path`: the entry's mode. */
  mode?: string;
}

const DWIM = ["refs/", "refs/tags/", "refs/heads/", "refs/remotes/"];

export async function resolveRev(ctx: RevContext, rev: string): Promise<Resolved> {
  return evaluate(ctx, parseRev(rev), rev);
}

/** The tree a revision names, peeling commits and tags (`rev^{tree}`). */
export async function resolveTree(ctx: RevContext, rev: string): Promise<Oid> {
  return (await peel(ctx, await resolveRev(ctx, rev), "tree", rev)).oid;
}

/** The commit a revision names, peeling tags (`rev^{commit}`). */
export async function resolveCommit(ctx: RevContext, rev: string): Promise<Oid> {
  return (await peel(ctx, await resolveRev(ctx, rev), "commit", rev)).oid;
}

async function evaluate(ctx: RevContext, e: RevExpr, rev: string): Promise<Resolved> {
  switch (e.kind) {
    case "name":
      return resolveName(ctx, e.name, rev);
    case "ancestor": {
      let c = await peel(ctx, await evaluate(ctx, e.base, rev), "commit", rev);
      for (let i = 0; i < e.n; i++) {
        const first = decodeCommit((await ctx.read(c.oid)).data).parents[0];
        if (!first) throw notFound(rev, `${c.oid} has no parent`);
        c = { oid: first, type: "commit" };
      }
      return c;
    }
    case "parent": {
      const c = await peel(ctx, await evaluate(ctx, e.base, rev), "commit", rev);
      if (e.n === 0) return c;
      const p = decodeCommit((await ctx.read(c.oid)).data).parents[e.n - 1];
      if (!p) throw notFound(rev, `${c.oid} has no parent ${e.n}`);
      return { oid: p, type: "commit" };
    }
    case "peel": {
      const base = await evaluate(ctx, e.base, rev);
      if (e.to === "object") return base;
      if (e.to === "peel") return peelTags(ctx, base);
      return peel(ctx, base, e.to, rev);
    }
    case "path": {
      const tree = await peel(ctx, await evaluate(ctx, e.base, rev), "tree", rev);
      const entry = await lookupPath(async (oid) => decodeTree((await ctx.read(oid)).data), tree.oid, e.path);
      if (!entry) throw new GitError<RevErrorCode>("path-not-found", `path ${JSON.stringify(e.path.slice(0, 200))} does not exist in ${JSON.stringify(rev.slice(0, 100))}`, { data: { rev: rev.slice(0, 200), path: e.path.slice(0, 200) } });
      return { oid: entry.oid, type: entryKind(entry.mode), mode: entry.mode };
    }
  }
}

async function resolveName(ctx: RevContext, name: string, rev: string): Promise<Resolved> {
  if (name === "HEAD") {
    const head = ctx.ref("HEAD");
    if (!head) throw notFound(rev, "HEAD points at a branch that does not exist yet");
    return typed(ctx, head, rev);
  }
  if (isOid(name) && (await ctx.typeOf(name))) return typed(ctx, name, rev);
  const candidates = [...(name.startsWith("refs/") ? [name] : []), ...DWIM.map((p) => p + name), `refs/remotes/${name}/HEAD`];
  for (const ref of candidates) {
    const oid = ctx.ref(ref);
    if (oid) return typed(ctx, oid, rev);
  }
  if (/^[0-9a-f]{4,39}$/.test(name)) {
    const ids = await ctx.expandPrefix(name);
    if (ids.length > 1) throw new GitError<RevErrorCode>("rev-ambiguous", `short object id ${name} is ambiguous`, { data: { rev: rev.slice(0, 200) } });
    if (ids.length === 1) return typed(ctx, ids[0]!, rev);
  }
  throw notFound(rev, `unknown revision ${JSON.stringify(name.slice(0, 100))}`);
}

async function typed(ctx: RevContext, oid: Oid, rev: string): Promise<Resolved> {
  const type = await ctx.typeOf(oid);
  if (!type) throw notFound(rev, `object ${oid} is not stored`);
  return { oid, type };
}

async function peelTags(ctx: RevContext, r: Resolved): Promise<Resolved> {
  let cur = r;
  for (let depth = 0; cur.type === "tag"; depth++) {
    if (depth > 32) throw new GitError<RevErrorCode>("rev-wrong-type", `tag chain at ${r.oid} is too long`);
    const t = decodeTag((await ctx.read(cur.oid)).data);
    cur = { oid: t.object, type: t.type };
  }
  return cur;
}

/** Peels tags (and a commit to its tree) until the object has type `want`. */
async function peel(ctx: RevContext, r: Resolved, want: ObjectType, rev: string): Promise<Resolved> {
  if (r.type === want) return r;
  let cur = want === "tag" ? r : await peelTags(ctx, r);
  if (cur.type === "commit" && want === "tree") cur = { oid: decodeCommit((await ctx.read(cur.oid)).data).tree, type: "tree" };
  if (cur.type !== want)
    throw new GitError<RevErrorCode>("rev-wrong-type", `${JSON.stringify(rev.slice(0, 100))} names a ${cur.type}, not a ${want}`, {
      data: { rev: rev.slice(0, 200), type: cur.type, expected: want },
    });
  return cur;
}

function notFound(rev: string, reason: string): GitError<RevErrorCode> {
  return new GitError("rev-not-found", `${JSON.stringify(rev.slice(0, 100))}: ${reason}`, { data: { rev: rev.slice(0, 200) } });
}
