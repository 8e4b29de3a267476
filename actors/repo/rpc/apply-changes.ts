/**
 * Builds the tree of a server-side commit: the parent's tree with files written and paths deleted,
 * reading and rewriting only the directories on the changed paths.
 * Invariants:
 * - Every new tree passes fsck's rules (`validateTree`): no `.git`, `..`, duplicate or bad names.
 * - A directory left empty by deletes disappears, as in git. Writing a file where a directory is,
 *   or through a file, is `path-conflict`; deleting a missing path is `path-not-found`.
 * - Returned objects are every blob and tree the new tree needs that its parent did not have.
 * Spec: git-mktree(1); git's index-to-tree rules (no empty trees, sorted entries).
 */
import { decodeTree, encodeTree, entryKind, hashObject, validateTree, type Oid, type TreeEntry } from "../../../engine/index.ts";
import { rpcError } from "../../../protocol/rpc/index.ts";
import type { NewObject } from "./write-objects.ts";

export type FileChange = { path: string; content: Uint8Array; mode?: "100644" | "100755" | "120000" } | { path: string; delete: true };

interface Node {
  children: Map<string, Node>;
  change?: FileChange;
}

const EMPTY_TREE_DATA = new Uint8Array(0);

export async function applyChanges(readTree: (oid: Oid) => Promise<TreeEntry[]>, base: Oid | null, changes: readonly FileChange[]): Promise<{ tree: Oid; objects: NewObject[] }> {
  const root: Node = { children: new Map() };
  for (const c of changes) {
    let node = root;
    for (const name of c.path.split("/")) {
      if (node.change) throw rpcError("path-conflict", `${c.path} goes through ${node.change.path}, which this commit also changes`, { path: c.path });
      let next = node.children.get(name);
      if (!next) node.children.set(name, (next = { children: new Map() }));
      node = next;
    }
    if (node.change) throw rpcError("rpc-bad-input", `${c.path} is changed twice`, { path: c.path });
    if (node.children.size) throw rpcError("path-conflict", `${c.path} is also a directory this commit changes`, { path: c.path });
    node.change = c;
  }

  const objects = new Map<Oid, NewObject>();
  const build = async (tree: Oid | null, node: Node, prefix: string): Promise<Oid | null> => {
    const entries = new Map((tree ? await readTree(tree) : []).map((e) => [e.name, e]));
    for (const [name, child] of node.children) {
      const path = prefix + name;
      const existing = entries.get(name);
      const c = child.change;
      if (c && "delete" in c) {
        if (!existing) throw rpcError("path-not-found", `cannot delete ${path}: it does not exist`, { path });
        entries.delete(name);
      } else if (c) {
        if (existing && entryKind(existing.mode) === "tree") throw rpcError("path-conflict", `cannot write ${path}: it is a directory`, { path });
        const mode = c.mode ?? (existing && entryKind(existing.mode) === "blob" ? existing.mode : "100644");
        const oid = hashObject("blob", c.content);
        objects.set(oid, { oid, type: "blob", data: c.content });
        entries.set(name, { mode, name, oid });
      } else {
        if (existing && entryKind(existing.mode) !== "tree") throw rpcError("path-conflict", `cannot write under ${path}: it is a file`, { path });
        const sub = await build(existing?.oid ?? null, child, path + "/");
        if (sub) entries.set(name, { mode: "40000", name, oid: sub });
        else entries.delete(name);
      }
    }
    if (entries.size === 0) return null;
    const data = encodeTree([...entries.values()]);
    const reason = validateTree(decodeTree(data));
    if (reason) throw rpcError("rpc-bad-input", `the new tree under ${JSON.stringify(prefix || "/")} is not valid: ${reason}`, { path: prefix });
    const oid = hashObject("tree", data);
    if (oid !== tree) objects.set(oid, { oid, type: "tree", data });
    return oid;
  };

  const top = await build(base, root, "");
  if (top) return { tree: top, objects: [...objects.values()] };
  const empty = hashObject("tree", EMPTY_TREE_DATA);
  objects.set(empty, { oid: empty, type: "tree", data: EMPTY_TREE_DATA });
  return { tree: empty, objects: [...objects.values()] };
}
