/**
 * The `tree-diff` job: one group of a fetch's tree walk (trees of one level, each with the same
 * path's trees in its parents); each slot reads the trees from R2 and diffs them with the same pure
 * `diffTreePairs` the walk uses locally.
 * Invariants:
 * - One result per item, in item order: that pair's changed entries and held ids as JSON.
 * - A batch's context holds every tree its items name and every base on their delta chains.
 */
import { diffTreePairs, utf8, type ObjectLocation, type TreeDiffPair } from "../../engine/index.ts";
import { batchObjectReader } from "./batch-objects.ts";
import type { JobContext } from "./jobs.ts";

export interface TreeDiffBatch {
  items: TreeDiffPair[];
  /** The items' trees and every base on their delta chains. */
  context: ObjectLocation[];
}

export async function* runTreeDiffJob(ctx: JobContext, batch: TreeDiffBatch): AsyncGenerator<Uint8Array> {
  const objects = batchObjectReader(ctx, batch.context);
  const wanted = new Set(batch.items.flatMap((i) => [i.tree, ...i.olds]));
  const trees = await objects.readManyAt(batch.context.filter((l) => wanted.has(l.oid)));
  for (const changes of diffTreePairs(trees, batch.items)) yield utf8(JSON.stringify(changes));
}
