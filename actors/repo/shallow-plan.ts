/**
 * Plans a shallow fetch: which commits to send, which become the client's new shallow boundary
 * (`shallow` lines) and which of its old boundary commits stop being shallow (`unshallow`).
 * Invariants:
 * - What the client has is the closure of its common commits, cut at its shallow commits: it has
 *   a shallow commit but none of that commit's parents.
 * - A commit in `boundary` is sent without its parents; its tree goes out whole.
 * Spec: gitprotocol-pack(5) "Shallow lines"; gitprotocol-v2(5) fetch `deepen`, `deepen-relative`,
 *       `deepen-since`, `deepen-not`, "shallow-info".
 */
import type { Oid } from "../../engine/index.ts";
import type { RepoStore } from "./repo-store.ts";

/** git's "infinite" depth, as `fetch --unshallow` sends it. */
export const INFINITE_DEPTH = 0x7fffffff;

export interface ShallowRequest {
  /** Wanted commits (tags already peeled). */
  wants: readonly Oid[];
  common: readonly Oid[];
  /** The client's current shallow commits. */
  clientShallows: readonly Oid[];
  depth?: number;
  deepenRelative: boolean;
  deepenSince?: number;
  /** Commits named by `deepen-not` refs. */
  deepenNot: readonly Oid[];
}

export interface ShallowPlan {
  send: Oid[];
  /** Commits the client has that are parents of sent commits. */
  held: Oid[];
  /** Sent commits cut from their parents: the new shallow boundary. */
  boundary: Set<Oid>;
  shallow: Oid[];
  unshallow: Oid[];
}

export function deepens(req: { depth?: number; deepenSince?: number; deepenNot: readonly unknown[] }): boolean {
  return (req.depth ?? 0) > 0 || req.deepenSince !== undefined || req.deepenNot.length > 0;
}

export function planShallow(store: RepoStore, req: ShallowRequest): ShallowPlan {
  const clientShallow = new Set(req.clientShallows);
  const has = store.closure(req.common, { stop: req.clientShallows });
  let included: Set<Oid>;
  let boundary: Set<Oid>;
  const parents = (oids: Iterable<Oid>) => store.commitsSync([...oids]);

  if ((req.depth ?? 0) > 0 && req.depth! < INFINITE_DEPTH) {
    const depth = req.depth!;
    // Relative depth counts from the client's shallow commits (each at depth 1, their parents 2…).
    const roots = req.deepenRelative ? req.clientShallows : req.wants;
    const limit = req.deepenRelative ? depth + 1 : depth;
    const depths = store.walkDepth(roots, limit);
    included = new Set(depths.keys());
    if (req.deepenRelative) for (const c of store.closure(req.wants, { stop: [...req.clientShallows, ...req.common] })) included.add(c);
    // As git does, a commit at the depth limit is shallow even when it is a root.
    boundary = new Set([...depths].filter(([, d]) => d === limit).map(([oid]) => oid));
  } else {
    const deep = (req.depth ?? 0) >= INFINITE_DEPTH;
    included = store.closure(req.wants, deep ? {} : { since: req.deepenSince, exclude: req.deepenNot });
    const nodes = parents(included);
    boundary = new Set([...included].filter((oid) => nodes.get(oid)!.parents.some((p) => !included.has(p))));
  }

  const send = [...included].filter((c) => !has.has(c));
  const sendNodes = parents(send);
  const held = new Set<Oid>();
  for (const n of sendNodes.values()) if (!boundary.has(n.oid)) for (const p of n.parents) if (has.has(p)) held.add(p);
  return {
    send,
    held: [...held],
    boundary,
    shallow: [...boundary].filter((c) => !clientShallow.has(c)),
    unshallow: req.clientShallows.filter((s) => included.has(s) && !boundary.has(s)),
  };
}
