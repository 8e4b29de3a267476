/**
 * The commit walk behind `log`: newest first by committer time, optionally only commits that change
 * one path (git's default history simplification), resumable from its frontier.
 * Invariants:
 * - Pops in (time, generation) order, largest first; with sane clocks every parent ranks below its
 *   child, so nothing popped is reachable from the remaining frontier and a resumed page repeats
 *   nothing (with skewed clocks a later page may repeat a commit, never skip one).
 * - With a path, a commit whose entry equals a parent's is hidden and only that (first) parent is
 *   followed; otherwise it is shown and every parent followed.
 * - At most `maxVisits` commits per call: a page may hold fewer than `limit` and still continue.
 * Spec: git-log(1) "History Simplification" (default mode); git's revision.c priority queue.
 */
import { GitError } from "../errors.ts";
import type { Oid } from "../oid.ts";
import type { CommitNode } from "../storage.ts";

export interface LogWalkContext {
  commits(oids: readonly Oid[]): Promise<Map<Oid, CommitNode>>;
  /** The entry at `path` in `tree` as "<mode> <id>", or null if there is none. */
  entryAt(tree: Oid, path: string): Promise<string | null>;
}

export interface LogWalkOptions {
  limit: number;
  /** Only commits that change this path (a file or a directory). "" or absent: every commit. */
  path?: string;
  maxVisits: number;
}

export interface LogPage {
  commits: CommitNode[];
  /** Commits still to visit; empty when the walk is done. */
  frontier: Oid[];
}

export async function walkLog(ctx: LogWalkContext, start: readonly Oid[], opts: LogWalkOptions): Promise<LogPage> {
  const heap = new CommitHeap();
  const queued = new Set<Oid>();
  const enqueue = async (oids: readonly Oid[]) => {
    const fresh = oids.filter((o) => !queued.has(o));
    if (fresh.length === 0) return;
    const nodes = await ctx.commits(fresh);
    for (const o of fresh) {
      const node = nodes.get(o);
      if (!node) throw new GitError("object-missing", `commit ${o} is not in the commit graph`);
      queued.add(o);
      heap.push(node);
    }
  };
  await enqueue(start);

  const shown: CommitNode[] = [];
  const path = opts.path ?? "";
  for (let visits = 0; heap.size > 0 && shown.length < opts.limit && visits < opts.maxVisits; visits++) {
    const c = heap.pop()!;
    if (path === "") {
      shown.push(c);
      await enqueue(c.parents);
      continue;
    }
    const mine = await ctx.entryAt(c.tree, path);
    if (c.parents.length === 0) {
      if (mine !== null) shown.push(c);
      continue;
    }
    const parents = await ctx.commits(c.parents);
    let same: Oid | undefined;
    for (const p of c.parents) {
      const node = parents.get(p);
      if (!node) throw new GitError("object-missing", `commit ${p} is not in the commit graph`);
      if ((await ctx.entryAt(node.tree, path)) === mine) {
        same = p;
        break;
      }
    }
    if (same) await enqueue([same]);
    else {
      shown.push(c);
      await enqueue(c.parents);
    }
  }
  return { commits: shown, frontier: heap.drain() };
}

/** A binary max-heap on (time, generation), ties broken by id so the order is total. */
class CommitHeap {
  #items: CommitNode[] = [];

  get size(): number {
    return this.#items.length;
  }

  push(c: CommitNode) {
    const a = this.#items;
    a.push(c);
    for (let i = a.length - 1; i > 0; ) {
      const up = (i - 1) >> 1;
      if (!before(a[i]!, a[up]!)) break;
      [a[i], a[up]] = [a[up]!, a[i]!];
      i = up;
    }
  }

  pop(): CommitNode | undefined {
    const a = this.#items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let best = i;
        if (l < a.length && before(a[l]!, a[best]!)) best = l;
        if (r < a.length && before(a[r]!, a[best]!)) best = r;
        if (best === i) break;
        [a[i], a[best]] = [a[best]!, a[i]!];
        i = best;
      }
    }
    return top;
  }

  /** Every queued id, best first. */
  drain(): Oid[] {
    const out: Oid[] = [];
    for (let c = this.pop(); c; c = this.pop()) out.push(c.oid);
    return out;
  }
}

function before(x: CommitNode, y: CommitNode): boolean {
  if (x.time !== y.time) return x.time > y.time;
  if (x.generation !== y.generation) return x.generation > y.generation;
  return x.oid < y.oid;
}
