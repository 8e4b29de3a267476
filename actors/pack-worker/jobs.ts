/**
 * The kinds of work a PackWorker slot (or the caller itself, as a fallback) runs. A job turns one
 * bounded batch into one result per item, as bytes; the fan-out frames, counts and retries them.
 * To add a kind, write its handler and add it to `JOBS`.
 * Invariants:
 * - A job reads only through its context (R2 ranges, never the caller's actor), so the same batch
 *   gives the same results on any slot or locally.
 * - A batch's `items` is the unit of accounting: a job yields exactly `items.length` results.
 */
import type { PackReader } from "../../engine/index.ts";
import { resolveWholeEntries } from "./whole-entries.ts";
import { runGrepJob } from "./grep-job.ts";
import { runDiffJob } from "./diff-job.ts";
import { runTreeDiffJob } from "./tree-diff-job.ts";

export interface JobContext {
  packs: PackReader;
}

export interface JobBatch {
  items: readonly unknown[];
}

export type JobHandler<B extends JobBatch> = (ctx: JobContext, batch: B) => AsyncIterable<Uint8Array>;

export const JOBS = {
  "whole-entries": resolveWholeEntries,
  grep: runGrepJob,
  diff: runDiffJob,
  "tree-diff": runTreeDiffJob,
} as const;

export type JobKind = keyof typeof JOBS;
export type JobInput<K extends JobKind> = Parameters<(typeof JOBS)[K]>[1];

export function isJobKind(kind: string): kind is JobKind {
  return Object.hasOwn(JOBS, kind);
}

/** Runs one batch of `kind` with `ctx`. */
export function runJob<K extends JobKind>(ctx: JobContext, kind: K, batch: JobInput<K>): AsyncIterable<Uint8Array> {
  // Each kind's handler takes its own batch type; the kind ties them together.
  const handler = JOBS[kind] as unknown as JobHandler<JobInput<K>>;
  return handler(ctx, batch);
}
