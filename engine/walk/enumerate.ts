/**
 * Chooses the objects a fetch sends: the trees and blobs of each sent commit that differ from all of
 * its parents' (a tree equal to a parent's is skipped whole, never walked), plus tags and other
 * non-commit roots. Cost follows the change, not the size of the tree. The walk goes breadth first,
 * one tree depth at a time across many commits, so a level's trees cost one index look-up and a few
 * coalesced reads (`ObjectReader.readManyAt`) instead of one of each per tree.
 * Invariants:
 * - Every object reachable from a sent commit is either returned or reachable from one of its
 *   parents: a parent is itself sent, or the client has it (it is in the boundary).
 * - Old-side objects met while diffing against a boundary commit, and boundary commits' root trees,
 *   are ones the client has; they are reported in `clientHas` so deltas against them may go out thin.
 * - Memory follows one level of one slice of commits, and trees are held a group of `GROUP_BYTES` at a time.
 * - Who diffs a group's trees (here, or a PackWorker slot through `TreeDiffer`) changes nothing:
 *   results are applied group by group, in order.
 * Spec: gitprotocol-pack(5), "Packfile Data"; git's revision walk (mark_edges_uninteresting).
 */
import type { Oid } from "../oid.ts";
import { decodeTag } from "../object/tag.ts";
import type { ObjectReader } from "../object-reader.ts";
import type { CommitNode, ObjectLocation } from "../storage.ts";
import { GitError } from "../errors.ts";
import type { ObjectFilter } from "./object-filter.ts";
import { changedEntries, type ChangedEntry } from "./tree-diff.ts";

export type { ChangedEntry } from "./tree-diff.ts";

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

/** Trees of one level to diff, each against the same path's trees in its parents, with every tree's location. */
export interface TreeDiffGroup {
  pairs: { tree: Oid; olds: Oid[] }[];
  locations: ObjectLocation[];
}

/** Diffs groups of trees, yielding each group's changed entries (one list per pair) in group order. */
export type TreeDiffer = (groups: readonly TreeDiffGroup[]) => AsyncIterable<ChangedEntry[][]>;

export interface EnumerateResult {
  oids: Oid[];
  clientHas: Set<Oid>;
  /** Locations of returned objects the walk looked up anyway (its trees): no need to look them up again. */
  located: Map<Oid, ObjectLocation>;
}

/** Commits walked together: their root trees make the first level. */
const COMMITS_PER_WALK = 1024;
/** Trees of one level located with one index look-up. */
const VISITS_PER_LOOKUP = 2048;
/** Tree bytes (new and old sides) read at once. */
const GROUP_BYTES = 4 << 20;

/** A parent's tree at the same path, and whether the client has it. */
interface OldTree {
  oid: Oid;
  held: boolean;
}

/** A tree to send, to be diffed against the same path's trees in the parents. */
interface Visit {
  tree: Oid;
  olds: OldTree[];
  /** Depth below a root tree (0 for a root tree, -1 for a tree wanted by id). */
  depth: number;
}

export async function enumerateObjects(reader: ObjectReader, input: EnumerateInput, diffGroups: TreeDiffer = localTreeDiffer(reader)): Promise<EnumerateResult> {
  const sent = new Set<Oid>();
  const clientHas = new Set<Oid>();
  const located = new Map<Oid, ObjectLocation>();
  const oids: Oid[] = [];
  const add = (oid: Oid) => {
    if (sent.has(oid)) return false;
    sent.add(oid);
    oids.push(oid);
    return true;
  };
  const treeOf = new Map<Oid, Oid>(input.boundaryTrees);
  for (const c of input.commits) treeOf.set(c.oid, c.tree);

  const filter = input.filter;
  const skipTree = (depth: number) => filter?.treeDepth !== undefined && depth >= filter.treeDepth;
  const skipBlob = (depth: number) => filter?.noBlobs === true || (filter?.treeDepth !== undefined && depth >= filter.treeDepth);

  /** Sends `tree` and queues its diff against `olds`, unless a parent has it, the filter drops it, or it is sent already. */
  const visit = (into: Visit[], tree: Oid, olds: OldTree[], depth: number, wanted = false) => {
    if (olds.some((o) => o.oid === tree) || (skipTree(depth) && !wanted)) return;
    if (add(tree)) into.push({ tree, olds, depth });
  };

  /** Applies one group's diffs: subtrees that differ go to `next`. */
  const applyGroup = (group: readonly Visit[], changes: readonly ChangedEntry[][], next: Visit[]) => {
    group.forEach((v, i) => {
      for (const e of changes[i]!) {
        for (const p of e.prev) if (v.olds[p.parent]!.held) clientHas.add(p.oid);
        if (e.isTree) visit(next, e.oid, e.prev.map((p) => ({ oid: p.oid, held: v.olds[p.parent]!.held })), v.depth + 1);
        else if (!skipBlob(v.depth + 1)) add(e.oid);
      }
    });
  };

  /** Diffs visits of one level with one look-up, in groups bounded by their trees' bytes. */
  const diffSlice = async (visits: readonly Visit[], next: Visit[]) => {
    const ids = new Set<Oid>();
    for (const v of visits) {
      ids.add(v.tree);
      for (const o of v.olds) ids.add(o.oid);
    }
    const found = await reader.locateAll([...ids]);
    const where = (id: Oid) => {
      const l = found.get(id);
      if (!l) throw new GitError("object-missing", `object ${id} is missing`);
      return l;
    };
    const groups: { visits: Visit[]; locs: Map<Oid, ObjectLocation> }[] = [];
    let group: Visit[] = [];
    let locs = new Map<Oid, ObjectLocation>();
    let bytes = 0;
    for (const v of visits) {
      let more = locs.has(v.tree) ? 0 : where(v.tree).size;
      for (const o of v.olds) if (!locs.has(o.oid)) more += where(o.oid).size;
      if (group.length && bytes + more > GROUP_BYTES) {
        groups.push({ visits: group, locs });
        group = [];
        locs = new Map();
        bytes = 0;
      }
      for (const id of [v.tree, ...v.olds.map((o) => o.oid)]) {
        if (locs.has(id)) continue;
        const l = where(id);
        locs.set(id, l);
        bytes += l.size;
      }
      located.set(v.tree, locs.get(v.tree)!);
      group.push(v);
    }
    if (group.length) groups.push({ visits: group, locs });
    const diffs = diffGroups(groups.map((g) => ({ pairs: g.visits.map((v) => ({ tree: v.tree, olds: v.olds.map((o) => o.oid) })), locations: [...g.locs.values()] })));
    let at = 0;
    for await (const changes of diffs) {
      const g = groups[at++];
      if (!g || changes.length !== g.visits.length) throw new GitError("object-corrupt", `tree diff of group ${at - 1} answered ${changes.length} results`);
      applyGroup(g.visits, changes, next);
    }
    if (at !== groups.length) throw new GitError("object-corrupt", `tree diff answered ${at} of ${groups.length} groups`);
  };

  const walk = async (level: Visit[]) => {
    while (level.length) {
      const next: Visit[] = [];
      for (let i = 0; i < level.length; i += VISITS_PER_LOOKUP) await diffSlice(level.slice(i, i + VISITS_PER_LOOKUP), next);
      level = next;
    }
  };

  const byGeneration = [...input.commits].sort((a, b) => a.generation - b.generation);
  for (let i = 0; i < byGeneration.length; i += COMMITS_PER_WALK) {
    const roots: Visit[] = [];
    for (const c of byGeneration.slice(i, i + COMMITS_PER_WALK)) {
      add(c.oid);
      const parents = input.boundary?.has(c.oid) ? [] : c.parents;
      const olds = parents.flatMap((p) => {
        const t = treeOf.get(p);
        return t ? [{ oid: t, held: input.boundaryTrees.has(p) }] : [];
      });
      for (const o of olds) if (o.held) clientHas.add(o.oid);
      visit(roots, c.tree, olds, 0);
    }
    await walk(roots);
  }

  await walk(await rootVisits(input.roots));
  return { oids, clientHas, located };

  /** Sends tags and blobs wanted (peeling tag chains a level at a time) and returns the trees to walk. */
  async function rootVisits(roots: readonly Oid[]): Promise<Visit[]> {
    const trees: Visit[] = [];
    for (let pending = [...new Set(roots)]; pending.length; ) {
      const located = await reader.locateAll(pending.filter((o) => !sent.has(o)));
      const tags = await reader.readManyAt([...located.values()].filter((l) => l.type === "tag"));
      const targets: Oid[] = [];
      for (const oid of pending) {
        if (sent.has(oid)) continue;
        const loc = located.get(oid);
        if (!loc) throw new GitError("object-missing", `object ${oid} is missing`);
        if (loc.type === "tag") {
          add(oid);
          const tag = decodeTag(tags.get(oid)!.data);
          // A tagged commit is among `commits` or held by the client: the caller peels tags.
          if (tag.type !== "commit") targets.push(tag.object);
        } else if (loc.type === "tree") {
          // Wanted by id: sent whatever the filter says, and its entries count as depth 0, as in
          // git (pack-objects and rev-list filter a tree given by id one level lower than a root tree).
          visit(trees, oid, [], -1, true);
        } else if (loc.type === "blob") {
          add(oid);
        } else {
          throw new GitError("object-corrupt", `commit ${oid} must be sent as a commit, not a root`);
        }
      }
      pending = targets;
    }
    return trees;
  }
}

/** Diffs each group here: its trees read with one coalesced batch. */
export function localTreeDiffer(reader: ObjectReader): TreeDiffer {
  return async function* (groups) {
    for (const g of groups) yield diffTreePairs(await reader.readManyAt(g.locations), g.pairs);
  };
}

/** The changed entries of each pair, from trees already read (every id of `pairs` is in `objects`). */
export function diffTreePairs(objects: ReadonlyMap<Oid, { type: string; data: Uint8Array }>, pairs: TreeDiffGroup["pairs"]): ChangedEntry[][] {
  const tree = (oid: Oid) => {
    const obj = objects.get(oid);
    if (!obj) throw new GitError("object-missing", `tree ${oid} was not read`);
    if (obj.type !== "tree") throw new GitError("object-corrupt", `${oid} is a ${obj.type}, expected a tree`);
    return { oid, data: obj.data };
  };
  return pairs.map((p) => changedEntries(tree(p.tree), p.olds.map(tree)));
}
