/**
 * The `grep` job: a batch of blobs (with their delta chains' bases) and a pattern; each slot reads
 * the blobs from R2 and searches them with the same pure `grepBatch` the actor uses.
 * Invariants:
 * - One result per item, in item order: a JSON record of that blob's matches and whether it was
 *   binary, so the caller merges batches exactly as if it had searched them itself.
 * - Every batch carries its own step budget: no slot can spin past it.
 */
import { Pacer, utf8 } from "../../engine/index.ts";
import { GREP_SLICE_UNITS, compileGrepPattern, grepBatch, type GrepMatch } from "../../engine/grep/index.ts";
import type { ObjectLocation } from "../../engine/index.ts";
import { batchObjectReader } from "./batch-objects.ts";
import type { JobContext } from "./jobs.ts";

export interface GrepJobBatch {
  /** The blobs to search, with the path each was found at. */
  items: { location: ObjectLocation; path: string }[];
  /** Every base on the items' delta chains that is not itself an item. */
  context: ObjectLocation[];
  pattern: string;
  ignoreCase: boolean;
  fixed: boolean;
  maxMatches: number;
  maxLineChars: number;
  steps: number;
}

export interface GrepJobResult {
  matches: GrepMatch[];
  binary: boolean;
  stopped: "max-results" | "budget" | null;
}

export async function* runGrepJob(ctx: JobContext, batch: GrepJobBatch): AsyncGenerator<Uint8Array> {
  const vm = compileGrepPattern(batch.pattern, { ignoreCase: batch.ignoreCase, fixed: batch.fixed });
  const objects = batchObjectReader(ctx, [...batch.context, ...batch.items.map((i) => i.location)]);
  const budget = { steps: batch.steps };
  const pace = new Pacer(GREP_SLICE_UNITS);
  let left = batch.maxMatches;
  for (const item of batch.items) {
    const data = (await objects.readAt(item.location)).data;
    const target = { path: item.path, oid: item.location.oid };
    const opts = { maxMatches: left, maxLineChars: batch.maxLineChars, budget, pace };
    const r = left > 0 && budget.steps > 0 ? await grepBatch(new Map([[target.oid, data]]), [target], vm, opts) : undefined;
    left -= r?.matches.length ?? 0;
    const result: GrepJobResult = { matches: r?.matches ?? [], binary: (r?.binarySkipped ?? 0) > 0, stopped: r ? r.stopped : left <= 0 ? "max-results" : "budget" };
    yield utf8(JSON.stringify(result));
  }
}
