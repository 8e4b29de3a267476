/**
 * Compares two trees and lists the changed paths, descending only into subtrees whose ids differ,
 * so the cost follows the change, not the size of the trees.
 * Invariants:
 * - Paths come out in git's tree order (a subtree sorts as if its name ended in "/"), the order of
 *   `git diff --name-status` before rename detection.
 * - A blob replaced by a tree (or the reverse) is a delete plus an add; a symlink replaced by a file
 *   at the same path is a type change; a mode or content change is a modify.
 * - At most `maxChanges` changes are returned; `truncated` says when more were cut.
 * Spec: git-diff-tree(1) "RAW OUTPUT FORMAT" (status letters A, D, M, T).
 */
import type { Oid } from "../oid.ts";
import { entryKind, type TreeEntry } from "../object/tree.ts";
import { textToBytes } from "../object/object-header.ts";

export type ChangeStatus = "added" | "deleted" | "modified" | "type-changed";

export interface Side {
  mode: string;
  oid: Oid;
}

export interface TreeChange {
  status: ChangeStatus;
  path: string;
  old?: Side;
  new?: Side;
}

export interface TreeDiffOptions {
  /** Keep only paths this accepts; `mayContain` lets the walk skip a directory no accepted path is under. */
  filter?: { accepts(path: string): boolean; mayContain(dir: string): boolean };
  maxChanges: number;
}

export interface TreeDiff {
  changes: TreeChange[];
  truncated: boolean;
}

export async function diffTrees(readTree: (oid: Oid) => Promise<TreeEntry[]>, a: Oid | null, b: Oid | null, opts: TreeDiffOptions): Promise<TreeDiff> {
  const out: TreeDiff = { changes: [], truncated: false };
  const emit = (c: TreeChange): boolean => {
    if (opts.filter && !opts.filter.accepts(c.path)) return true;
    if (out.changes.length >= opts.maxChanges) {
      out.truncated = true;
      return false;
    }
    out.changes.push(c);
    return true;
  };

  /** Emits everything under a tree that exists on one side only. */
  const oneSide = async (tree: Oid, prefix: string, status: "added" | "deleted"): Promise<boolean> => {
    for (const e of await readTree(tree)) {
      const path = prefix + e.name;
      if (entryKind(e.mode) === "tree") {
        if (opts.filter && !opts.filter.mayContain(path)) continue;
        if (!(await oneSide(e.oid, path + "/", status))) return false;
      } else if (!emit({ status, path, [status === "added" ? "new" : "old"]: { mode: e.mode, oid: e.oid } })) return false;
    }
    return true;
  };

  const walk = async (ta: Oid | null, tb: Oid | null, prefix: string): Promise<boolean> => {
    const left = ta ? await readTree(ta) : [];
    const right = tb ? await readTree(tb) : [];
    const key = (e: TreeEntry) => e.name + (entryKind(e.mode) === "tree" ? "/" : "");
    const byKey = new Map<string, [TreeEntry | undefined, TreeEntry | undefined]>();
    for (const e of left) byKey.set(key(e), [e, undefined]);
    for (const e of right) byKey.set(key(e), [byKey.get(key(e))?.[0], e]);
    const keys = [...byKey.keys()].sort(compareTreeOrder);
    for (const k of keys) {
      const [l, r] = byKey.get(k)!;
      const path = prefix + (l ?? r)!.name;
      const isTree = k.endsWith("/");
      if (isTree) {
        if (l && r && l.oid === r.oid) continue;
        if (opts.filter && !opts.filter.mayContain(path)) continue;
        if (l && r) {
          if (!(await walk(l.oid, r.oid, path + "/"))) return false;
        } else if (!(await oneSide((l ?? r)!.oid, path + "/", l ? "deleted" : "added"))) return false;
        continue;
      }
      let ok = true;
      if (l && r) {
        if (l.oid === r.oid && l.mode === r.mode) continue;
        const typeChanged = fileType(l.mode) !== fileType(r.mode);
        ok = emit({ status: typeChanged ? "type-changed" : "modified", path, old: { mode: l.mode, oid: l.oid }, new: { mode: r.mode, oid: r.oid } });
      } else if (l) ok = emit({ status: "deleted", path, old: { mode: l.mode, oid: l.oid } });
      else ok = emit({ status: "added", path, new: { mode: r!.mode, oid: r!.oid } });
      if (!ok) return false;
    }
    return true;
  };

  await walk(a, b, "");
  return out;
}

/** Regular file, symlink or gitlink: a change between these is git's `T`. */
function fileType(mode: string): number {
  return parseInt(mode, 8) & 0o170000;
}

/** git's order: bytewise on the names, subtrees taken to end in "/". */
export function compareTreeOrder(x: string, y: string): number {
  const a = textToBytes(x);
  const b = textToBytes(y);
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}
