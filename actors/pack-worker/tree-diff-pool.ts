/**
 * A fetch's tree walk fanned out: the `TreeDiffer` that `enumerateObjects` calls with each level's
 * groups sends them to the PackWorker pool as `tree-diff` batches once they hold `threshold` trees
 * or more, and diffs smaller levels here.
 * Invariants:
 * - Each group comes back whole and in order: its batches (at most `batchObjects` pairs each, with
 *   their trees' delta chains) are run by `runBatches`, which accounts for every one.
 */
import {
  ByteLru, GitError, fromUtf8, localTreeDiffer, type ObjectIndex, type ObjectLocation, type ObjectReader, type Oid,
  type TreeChanges, type TreeDiffGroup, type TreeDiffer,
} from "../../engine/index.ts";
import { runBatches, type PackPool } from "./pool.ts";
import type { JobContext } from "./jobs.ts";
import type { TreeDiffBatch } from "./tree-diff-job.ts";
import { chainBases } from "./whole-entries.ts";

export function poolTreeDiffer(pool: PackPool, index: ObjectIndex, reader: ObjectReader, local: JobContext): TreeDiffer {
  const here = localTreeDiffer(reader);
  return async function* (groups) {
    const trees = groups.reduce((n, g) => n + g.locations.length, 0);
    if (trees < pool.threshold) {
      yield* here(groups);
      return;
    }
    const results = runBatches(pool, "tree-diff", planBatches(index, groups, pool.batchObjects), { local });
    for (const g of groups) {
      const changes: TreeChanges[] = [];
      while (changes.length < g.pairs.length) {
        const next = await results.next();
        if (next.done) throw new GitError("pack-worker-failed", "tree-diff batches ended before their groups");
        for (const r of next.value) changes.push(JSON.parse(fromUtf8(r)) as TreeChanges);
      }
      yield changes;
    }
  };
}

/** Each group cut into batches of at most `pairs` pairs, each with its trees and their delta chains. */
async function* planBatches(index: ObjectIndex, groups: readonly TreeDiffGroup[], pairs: number): AsyncGenerator<TreeDiffBatch> {
  const seen = new ByteLru<Oid, ObjectLocation>(4 << 20, () => 200);
  for (const g of groups) {
    const where = new Map(g.locations.map((l) => [l.oid, l]));
    for (let i = 0; i < g.pairs.length; i += pairs) {
      const items = g.pairs.slice(i, i + pairs);
      const trees = [...new Set(items.flatMap((p) => [p.tree, ...p.olds]))].map((oid) => where.get(oid)!);
      yield { items, context: [...trees, ...(await chainBases(index, trees, seen))] };
    }
  }
}
