/**
 * Lists the files under a tree in git's order, entering only directories a filter may need: the
 * targets of a grep, produced lazily so a huge tree is never held as one list.
 * Invariants:
 * - Files come out in tree order (the order `git grep <rev>` prints); gitlinks are skipped, symlinks
 *   are files (their content is the link target), as git grep treats them.
 */
import type { Oid } from "../oid.ts";
import { entryKind, type TreeEntry } from "../object/tree.ts";

export interface TreeFile {
  path: string;
  mode: string;
  oid: Oid;
}

export async function* treeFiles(
  readTree: (oid: Oid) => Promise<TreeEntry[]>,
  tree: Oid,
  filter: { accepts(path: string): boolean; mayContain(dir: string): boolean },
  prefix = "",
): AsyncGenerator<TreeFile> {
  for (const e of await readTree(tree)) {
    const path = prefix + e.name;
    const kind = entryKind(e.mode);
    if (kind === "tree") {
      if (filter.mayContain(path)) yield* treeFiles(readTree, e.oid, filter, path + "/");
    } else if (kind === "blob" && filter.accepts(path)) yield { path, mode: e.mode, oid: e.oid };
  }
}
