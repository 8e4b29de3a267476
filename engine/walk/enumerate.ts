/**
 * Chooses the objects a fetch sends: the trees and blobs of each sent commit that differ from all of
 * its parents' (a tree equal to a parent's is skipped whole, never walked), plus tags and other
 * non-commit roots. Cost follows the change, not the size of the tree. The walk goes breadth first,
 * one tree depth at a time across many commits, so a level's trees cost one index look-up and a few
 * coalesced reads (`ObjectReader.readManyAt`) instead of one of each per tree.
 * Invariants:
 * - Every object reachable from a sent commit is either returned or reachable from one of its
 *   parents: a parent is itself sent, or the client has it (it is in the boundary).
 * - Boundary commits' root trees, and every entry of each tree the client has that a diff reads
 *   (each such tree is expanded once), are ones the client has: they are reported in `clientHas`
 *   so deltas against them may go out thin, and none of them is ever returned. An object the client
 *   has is not sent wherever else it appears, as git's upload-pack marks such objects uninteresting.
 * - Memory follows one level of one slice of commits, and trees are held a group of `GROUP_BYTES` at a time.
 * - Who diffs a group's trees (here, or a PackWorker slot through `TreeDiffer`) changes nothing:
 *   results are applied group by group, in order.
 * Spec: gitprotocol-pack(5), "Packfile Data"; git's revision walk (mark_edges_uninteresting).
 */
import type { Oid } from "../oid.ts";
import { decodeTag } from "../object/tag.ts";
import { decodeTree, entryKind } from "../object/tree.ts";
import type { ObjectReader } from "../object-reader.ts";
import type { CommitNode, ObjectLocation } from "../storage.ts";
import { GitError } from "../errors.ts";
import type { ObjectFilter } from "./object-filter.ts";
import { changedEntries, type TreeChanges } from "./tree-diff.ts";

export type { ChangedEntry, TreeChanges } from "./tree-diff.ts";

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

/**
 * Trees of one level to diff, each against the same path's trees in its parents, with every tree's
 * location. `expand` names the olds (by index) whose every entry id is to be reported as held.
 */
export interface TreeDiffGroup {
  pairs: TreeDiffPair[];
  locations: ObjectLocation[];
}

export interface TreeDiffPair {
  tree: Oid;
  olds: Oid[];
  expand?: number[];
}

/** Diffs groups of trees, yielding each group's results (one per pair) in group order. */
export type TreeDiffer = (groups: readonly TreeDiffGroup[]) => AsyncIterable<TreeChanges[]>;

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
/**
 * Boundary root trees every sent root tree is also diffed against (beyond them, only its parents'):
 * a mirror's fetch after a busy day has a boundary commit per branch. Each adds at most one old
 * tree per changed path, and a path's trees shared by many commits count once.
 */
const HELD_ROOTS = 64;
/** Tree bytes (new and old sides) read at once. */
const GROUP_BYTES = 4 << 20;

/** A parent's tree at the same path, and whether the client has it. */
interface OldTree {
  oid: Oid;
  held: boolean;
}

/** One level's trees to send, by id, in the order first met. */
type Level = Map<Oid, Visit>;

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
  /** Held trees whose entries were asked for already. */
  const expanded = new Set<Oid>();
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

  /**
   * Sends `tree` and queues its diff against `olds`, unless a parent has it, the filter drops it, or
   * it is sent already. A tree met again at another path of the level still being built is also
   * diffed against the trees the client has at that path (a copied directory against the
   * original's), so what the client has at any of its paths is not sent. Only held trees are added:
   * trees to be sent could skip each other's entries in a cycle (a directory edited, then reverted)
   * and send neither.
   */
  const visit = (into: Level, tree: Oid, olds: OldTree[], depth: number, wanted = false) => {
    if (olds.some((o) => o.oid === tree) || clientHas.has(tree) || (skipTree(depth) && !wanted)) return;
    const queued = into.get(tree);
    if (queued) {
      for (const o of olds) if (o.held && !queued.olds.some((q) => q.oid === o.oid)) queued.olds.push(o);
    } else if (add(tree)) into.set(tree, { tree, olds, depth });
  };

  /**
   * Applies one group's diffs: what the client holds first, so a tree or blob it has is not sent
   * from another path of the same group; then subtrees that differ go to `next`.
   */
  const applyGroup = (group: readonly Visit[], changes: readonly TreeChanges[], next: Level) => {
    for (const c of changes) for (const id of c.held) clientHas.add(id);
    group.forEach((v, i) => {
      for (const e of changes[i]!.changed) {
        if (!e.isTree) {
          if (!skipBlob(v.depth + 1) && !clientHas.has(e.oid)) add(e.oid);
          continue;
        }
        const olds = distinctOlds(e.prev.map((p) => ({ oid: p.oid, held: v.olds[p.parent]!.held })));
        visit(next, e.oid, olds, v.depth + 1);
      }
    });
  };

  /** Diffs visits of one level with one look-up, in groups bounded by their trees' bytes. */
  const diffSlice = async (visits: readonly Visit[], next: Level) => {
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
    const pair = (v: Visit): TreeDiffPair => {
      const expand: number[] = [];
      v.olds.forEach((o, i) => {
        if (!o.held || expanded.has(o.oid)) return;
        expanded.add(o.oid);
        expand.push(i);
      });
      return { tree: v.tree, olds: v.olds.map((o) => o.oid), ...(expand.length ? { expand } : {}) };
    };
    const diffs = diffGroups(groups.map((g) => ({ pairs: g.visits.map(pair), locations: [...g.locs.values()] })));
    let at = 0;
    for await (const changes of diffs) {
      const g = groups[at++];
      if (!g || changes.length !== g.visits.length) throw new GitError("object-corrupt", `tree diff of group ${at - 1} answered ${changes.length} results`);
      applyGroup(g.visits, changes, next);
    }
    if (at !== groups.length) throw new GitError("object-corrupt", `tree diff answered ${at} of ${groups.length} groups`);
  };

  const walk = async (queued: Level) => {
    // A tree found held after it was queued (at another path of its level) is not walked.
    for (let level = [...queued.values()]; (level = level.filter((v) => !clientHas.has(v.tree))).length; ) {
      const next: Level = new Map();
      for (let i = 0; i < level.length; i += VISITS_PER_LOOKUP) await diffSlice(level.slice(i, i + VISITS_PER_LOOKUP), next);
      level = [...next.values()];
    }
  };

  const byGeneration = [...input.commits].sort((a, b) => a.generation - b.generation);
  // Every sent tree is also diffed against the client's trees at its path, from the boundary
  // commits' roots down, as git's sparse walk marks what the client has by path: a directory
  // renamed or copied in a commit the client lacks is not resent because its parent lacked it too.
  // Not for a shallow fetch, whose boundary trees go out whole, as git sends them.
  const heldRoots = input.boundary ? [] : [...new Set(input.boundaryTrees.values())].slice(0, HELD_ROOTS);
  for (const t of heldRoots) clientHas.add(t);
  for (let i = 0; i < byGeneration.length; i += COMMITS_PER_WALK) {
    const roots: Level = new Map();
    for (const c of byGeneration.slice(i, i + COMMITS_PER_WALK)) {
      add(c.oid);
      const parents = input.boundary?.has(c.oid) ? [] : c.parents;
      const olds = parents.flatMap((p) => {
        const t = treeOf.get(p);
        return t ? [{ oid: t, held: input.boundaryTrees.has(p) }] : [];
      });
      for (const t of heldRoots) if (!olds.some((o) => o.oid === t)) olds.push({ oid: t, held: true });
      for (const o of olds) if (o.held) clientHas.add(o.oid);
      visit(roots, c.tree, olds, 0);
    }
    await walk(roots);
  }

  await walk(await rootVisits(input.roots));
  await holdWalkedContents();
  // A pack never both sends an object and uses it as a thin base: what the client has is dropped.
  for (const o of located.keys()) if (clientHas.has(o)) located.delete(o);
  return { oids: oids.filter((o) => !clientHas.has(o)), clientHas, located };

  /**
   * A tree walked (so its entries were sent) before the walk learnt the client has it, at a deeper
   * level of the held side (a directory moved up), holds only what the client has: its walked
   * subtrees are read again, level by level, and everything in them joins `clientHas`.
   */
  async function holdWalkedContents() {
    for (let late = [...located.values()].filter((l) => clientHas.has(l.oid)); late.length; ) {
      const next: ObjectLocation[] = [];
      for (let i = 0; i < late.length; ) {
        const chunk: ObjectLocation[] = [];
        for (let bytes = 0; i < late.length && (chunk.length === 0 || bytes + late[i]!.size <= GROUP_BYTES); i++) {
          bytes += late[i]!.size;
          chunk.push(late[i]!);
        }
        for (const obj of (await reader.readManyAt(chunk)).values())
          for (const e of decodeTree(obj.data)) {
            if (entryKind(e.mode) === "commit") continue;
            const walkedTree = located.get(e.oid);
            if (walkedTree && !clientHas.has(e.oid)) next.push(walkedTree);
            clientHas.add(e.oid);
          }
      }
      late = next;
    }
  }

  /** Sends tags and blobs wanted (peeling tag chains a level at a time) and returns the trees to walk. */
  async function rootVisits(roots: readonly Oid[]): Promise<Level> {
    const trees: Level = new Map();
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

/** Each old tree once: held if any of its paths' parents is a commit the client has. */
function distinctOlds(olds: OldTree[]): OldTree[] {
  if (olds.length < 2) return olds;
  const byId = new Map<Oid, OldTree>();
  for (const o of olds) {
    const seen = byId.get(o.oid);
    if (!seen) byId.set(o.oid, o);
    else if (o.held && !seen.held) byId.set(o.oid, o);
  }
  return byId.size === olds.length ? olds : [...byId.values()];
}

/** Diffs each group here: its trees read with one coalesced batch. */
export function localTreeDiffer(reader: ObjectReader): TreeDiffer {
  return async function* (groups) {
    for (const g of groups) yield diffTreePairs(await reader.readManyAt(g.locations), g.pairs);
  };
}

/** Each pair's diff, from trees already read (every id of `pairs` is in `objects`). */
export function diffTreePairs(
  objects: ReadonlyMap<Oid, { type: string; data: Uint8Array }>,
  pairs: readonly TreeDiffPair[],
): TreeChanges[] {
  const tree = (oid: Oid) => {
    const obj = objects.get(oid);
    if (!obj) throw new GitError("object-missing", `tree ${oid} was not read`);
    if (obj.type !== "tree") throw new GitError("object-corrupt", `${oid} is a ${obj.type}, expected a tree`);
    return { oid, data: obj.data };
  };
  return pairs.map((p) => changedEntries(tree(p.tree), p.olds.map(tree), p.expand));
}
