/**
 * Chooses the objects a fetch sends: the trees and blobs of each sent commit that differ from all of
 * its parents' (a tree equal to a parent's is skipped whole, never walked), plus tags and other
 * non-commit roots. Cost follows the change, not the size of the tree.
 * Invariants:
 * - Every object reachable from a sent commit is either returned or reachable from one of its
 *   parents: a parent is itself sent, or the client has it (it is in the boundary).
 * - Old-side objects met while diffing against a boundary commit are ones the client has; they are
 *   reported in `clientHas` so deltas against them may go out thin.
 * Spec: gitprotocol-pack(5), "Packfile Data"; git's revision walk (mark_edges_uninteresting).
 */
import type { Oid } from "../oid.ts";
import { decodeTree, entryKind, type TreeEntry } from "../object/tree.ts";
import { decodeTag } from "../object/tag.ts";
import type { ObjectReader } from "../object-reader.ts";
import type { CommitNode } from "../storage.ts";
import { GitError } from "../errors.ts";
import type { ObjectFilter } from "./object-filter.ts";

export interface EnumerateInput {
  /** Commits to send, each with its tree and parents. */
  commits: readonly CommitNode[];
  /** Trees of commits the client has that are parents of sent commits, by commit id. */
  boundaryTrees: ReadonlyMap<Oid, Oid>;
  /** Other objects to send with everything they reach (annotated tags, trees or blobs wanted directly). */
  roots: readonly Oid[];
  /** Sent commits whose parents the client will not have (a shallow boundary): trees go out whole. */
  boundary?: ReadonlySet<Oid>;
  filter?: ObjectFilter;
}

export interface EnumerateResult {
  oids: Oid[];
  clientHas: Set<Oid>;
}

export async function enumerateObjects(reader: ObjectReader, input: EnumerateInput): Promise<EnumerateResult> {
  const sent = new Set<Oid>();
  const clientHas = new Set<Oid>();
  const oids: Oid[] = [];
  const add = (oid: Oid) => {
    if (sent.has(oid)) return false;
    sent.add(oid);
    oids.push(oid);
    return true;
  };
  const treeOf = new Map<Oid, Oid>(input.boundaryTrees);
  for (const c of input.commits) treeOf.set(c.oid, c.tree);

  const readTree = async (oid: Oid): Promise<TreeEntry[]> => {
    const obj = await reader.require(oid);
    if (obj.type !== "tree") throw new GitError("object-corrupt", `${oid} is a ${obj.type}, expected a tree`);
    return decodeTree(obj.data);
  };

  const filter = input.filter;
  const skipTree = (depth: number) => filter?.treeDepth !== undefined && depth >= filter.treeDepth;
  const skipBlob = (depth: number) => filter?.noBlobs === true || (filter?.treeDepth !== undefined && depth >= filter.treeDepth);

  /** Sends `tree` (at `depth` below a root tree) and what in it differs from every one of `olds`. */
  const diffTree = async (tree: Oid, olds: { oid: Oid; held: boolean }[], depth = 0, wanted = false): Promise<void> => {
    if (olds.some((o) => o.oid === tree) || (skipTree(depth) && !wanted)) return;
    if (!add(tree)) return;
    const entries = await readTree(tree);
    const oldMaps = await Promise.all(
      olds.map(async (o) => ({ held: o.held, byName: new Map((await readTree(o.oid)).map((e) => [e.name, e])) })),
    );
    for (const e of entries) {
      const kind = entryKind(e.mode);
      if (kind === "commit") continue; // gitlinks name commits of other repositories
      const prev = oldMaps.flatMap((m) => {
        const p = m.byName.get(e.name);
        return p ? [{ entry: p, held: m.held }] : [];
      });
      if (prev.some((p) => p.entry.oid === e.oid)) continue;
      for (const p of prev) if (p.held) clientHas.add(p.entry.oid);
      if (kind === "tree") {
        const oldTrees = prev.filter((p) => entryKind(p.entry.mode) === "tree").map((p) => ({ oid: p.entry.oid, held: p.held }));
        await diffTree(e.oid, oldTrees, depth + 1);
      } else if (!skipBlob(depth + 1)) add(e.oid);
    }
  };

  const byGeneration = [...input.commits].sort((a, b) => a.generation - b.generation);
  for (const c of byGeneration) {
    add(c.oid);
    const parents = input.boundary?.has(c.oid) ? [] : c.parents;
    const olds = parents.flatMap((p) => {
      const t = treeOf.get(p);
      return t ? [{ oid: t, held: input.boundaryTrees.has(p) }] : [];
    });
    await diffTree(c.tree, olds);
  }

  for (const root of input.roots) await addClosure(root);
  return { oids, clientHas };

  async function addClosure(oid: Oid): Promise<void> {
    if (sent.has(oid)) return;
    const obj = await reader.require(oid);
    if (obj.type === "tag") {
      add(oid);
      const tag = decodeTag(obj.data);
      // A tagged commit is among `commits` or held by the client: the caller peels tags.
      if (tag.type !== "commit") await addClosure(tag.object);
    } else if (obj.type === "tree") {
      await diffTree(oid, [], 0, true); // wanted by id: sent whatever the filter says
    } else if (obj.type === "blob") {
      add(oid);
    } else {
      throw new GitError("object-corrupt", `commit ${oid} must be sent as a commit, not a root`);
    }
  }
}
