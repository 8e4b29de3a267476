/**
 * The `diff` job: a batch of file pairs (old and new blob, either may be absent) with their delta
 * chains' bases; each slot reads the blobs from R2 and computes hunks with the same pure
 * `diffBatch` the actor uses.
 * Invariants:
 * - One result per item, in item order: that pair's FileDiff as JSON.
 * - Every batch carries its own step budget for the line diff.
 */
import { Pacer, utf8, type ObjectLocation, type Oid } from "../../engine/index.ts";
import { DIFF_SLICE_UNITS, diffBatch } from "../../engine/diff/index.ts";
import { batchObjectReader } from "./batch-objects.ts";
import type { JobContext } from "./jobs.ts";

export interface DiffJobBatch {
  items: { old?: ObjectLocation; new?: ObjectLocation }[];
  /** Every base on the items' delta chains that is not itself an item. */
  context: ObjectLocation[];
  contextLines: number;
  maxFileBytes: number;
  steps: number;
}

export async function* runDiffJob(ctx: JobContext, batch: DiffJobBatch): AsyncGenerator<Uint8Array> {
  const sides = batch.items.flatMap((i) => [i.old, i.new].filter((l): l is ObjectLocation => l !== undefined));
  const objects = batchObjectReader(ctx, [...batch.context, ...sides]);
  const budget = { steps: batch.steps };
  const pace = new Pacer(DIFF_SLICE_UNITS);
  for (const item of batch.items) {
    const blobs = new Map<Oid, Uint8Array>();
    for (const side of [item.old, item.new]) if (side) blobs.set(side.oid, (await objects.readAt(side)).data);
    const [d] = await diffBatch(blobs, [{ oldOid: item.old?.oid ?? null, newOid: item.new?.oid ?? null }],
      { context: batch.contextLines, maxFileBytes: batch.maxFileBytes, budget, pace });
    yield utf8(JSON.stringify(d));
  }
}
