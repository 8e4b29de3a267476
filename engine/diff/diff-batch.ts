/**
 * The per-file work of a diff: text hunks for a batch of (old blob, new blob) pairs, as a pure
 * function of the blobs' bytes, so a caller can run batches in the actor or fan them out to
 * PackWorker slots unchanged.
 * Invariants:
 * - A side with a NUL in its first 8000 bytes makes the pair binary (git's test): no hunks.
 * - A side larger than `maxFileBytes` gives `tooLarge` and no hunks; every line comparison comes
 *   out of the shared `budget` (see myers.ts), so a batch's time is bounded.
 * - With a `pace`, the batch yields to the event loop between files once a slice of work (diff
 *   steps plus bytes) is used up; one file's diff is one slice at most of its step budget.
 * Spec: git-diff(1) "-U<n>", "Binary files … differ".
 */
import { GitError } from "../errors.ts";
import type { Oid } from "../oid.ts";
import { bytesToText } from "../object/object-header.ts";
import { buildHunks, splitLines, type Hunk } from "./hunks.ts";
import { diffLines, type DiffBudget } from "./myers.ts";
import type { Pacer } from "../pace.ts";

export interface DiffPair {
  /** null: the file is new (or deleted, for `newOid`). */
  oldOid: Oid | null;
  newOid: Oid | null;
}

export interface FileDiff {
  binary: boolean;
  tooLarge: boolean;
  hunks: Hunk[];
}

export interface DiffBatchOptions {
  context: number;
  maxFileBytes: number;
  budget: DiffBudget;
  /** Counts each file's diff steps and bytes; the batch waits whenever it says so. */
  pace?: Pacer;
}

const BINARY_PROBE = 8000;
/** Work between yields for a caller's Pacer: Myers steps and bytes split into lines are a few ns each. */
export const DIFF_SLICE_UNITS = 500_000;

export async function diffBatch(
  objects: ReadonlyMap<Oid, Uint8Array>, batch: readonly DiffPair[], opts: DiffBatchOptions,
): Promise<FileDiff[]> {
  const out: FileDiff[] = [];
  for (const pair of batch) {
    const a = pair.oldOid ? blob(objects, pair.oldOid) : new Uint8Array(0);
    const b = pair.newOid ? blob(objects, pair.newOid) : new Uint8Array(0);
    const stepsBefore = opts.budget.steps;
    out.push(diffPair(a, b, opts));
    const wait = opts.pace?.tick(stepsBefore - opts.budget.steps + a.length + b.length);
    if (wait) await wait;
  }
  return out;
}

function diffPair(a: Uint8Array, b: Uint8Array, opts: DiffBatchOptions): FileDiff {
  if (a.length > opts.maxFileBytes || b.length > opts.maxFileBytes) return { binary: false, tooLarge: true, hunks: [] };
  if (a.subarray(0, BINARY_PROBE).includes(0) || b.subarray(0, BINARY_PROBE).includes(0)) return { binary: true, tooLarge: false, hunks: [] };
  const la = splitLines(bytesToText(a));
  const lb = splitLines(bytesToText(b));
  return { binary: false, tooLarge: false, hunks: buildHunks(la, lb, diffLines(la, lb, opts.budget), opts.context) };
}

function blob(objects: ReadonlyMap<Oid, Uint8Array>, oid: Oid): Uint8Array {
  const data = objects.get(oid);
  if (!data) throw new GitError("object-missing", `blob ${oid} was not supplied`);
  return data;
}
