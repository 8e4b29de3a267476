/**
 * Finds the entry at a slash-separated path inside a tree, reading one tree per component.
 * Invariants:
 * - The empty path names the tree itself (mode 40000); a component under a non-tree is not found.
 * Spec: gitrevisions(7), "<rev>:<path>".
 */
import type { Oid } from "../oid.ts";
import { entryKind, type TreeEntry } from "../object/tree.ts";

export type ReadTree = (oid: Oid) => Promise<TreeEntry[]>;

export const TREE_MODE = "40000";

export async function lookupPath(readTree: ReadTree, tree: Oid, path: string): Promise<TreeEntry | null> {
  let entry: TreeEntry = { mode: TREE_MODE, name: "", oid: tree };
  if (path === "") return entry;
  for (const name of path.split("/")) {
    if (entryKind(entry.mode) !== "tree") return null;
    const next = (await readTree(entry.oid)).find((e) => e.name === name);
    if (!next) return null;
    entry = next;
  }
  return entry;
}
