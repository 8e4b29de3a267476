/**
 * Pairs deleted and added files into renames: first by identical content, then by similarity of at
 * least `minScore`, best pairs first, each file in at most one pair.
 * Invariants:
 * - Similarity is git's estimate: content cut into lines (or 64-byte pieces of long lines), and the
 *   score is the bytes both sides share divided by the larger size.
 * - Inexact pairing compares at most `maxCandidates` × `maxCandidates` files; beyond that only exact
 *   renames are found, as git does past its rename limit.
 * Spec: git-diff(1) "-M[<n>]"; git's diffcore-rename.c and diffcore-delta.c for the scoring.
 */
import type { Oid } from "../oid.ts";
import type { Side, TreeChange } from "./tree-diff.ts";

export interface RenamedChange {
  status: "renamed";
  path: string;
  oldPath: string;
  old: Side;
  new: Side;
  /** 0..100, as git prints after R. */
  similarity: number;
}

export interface RenameOptions {
  /** 0..1; git's default is 0.5. */
  minScore: number;
  maxCandidates: number;
}

const CHUNK = 64;

/**
 * Replaces paired deletes and adds by renames. `contents` holds the blobs of the unpaired deletes
 * and adds the caller chose to load (any missing one is simply not a candidate).
 */
export function detectRenames(changes: readonly TreeChange[], contents: ReadonlyMap<Oid, Uint8Array>, opts: RenameOptions): (TreeChange | RenamedChange)[] {
  const deleted = changes.filter((c) => c.status === "deleted" && isFile(c.old!.mode));
  const added = changes.filter((c) => c.status === "added" && isFile(c.new!.mode));
  const pairs = new Map<TreeChange, { from: TreeChange; score: number }>(); // keyed by the add
  const usedFrom = new Set<TreeChange>();

  // Exact: same blob id. Prefer the source with the same file name, as git does.
  for (const add of added) {
    const same = deleted.filter((d) => !usedFrom.has(d) && d.old!.oid === add.new!.oid);
    if (same.length === 0) continue;
    const from = same.find((d) => basename(d.path) === basename(add.path)) ?? same[0]!;
    usedFrom.add(from);
    pairs.set(add, { from, score: 1 });
  }

  const srcs = deleted.filter((d) => !usedFrom.has(d) && contents.has(d.old!.oid));
  const dsts = added.filter((a) => !pairs.has(a) && contents.has(a.new!.oid));
  if (srcs.length && dsts.length && srcs.length <= opts.maxCandidates && dsts.length <= opts.maxCandidates) {
    const srcChunks = new Map(srcs.map((s) => [s, chunkCounts(contents.get(s.old!.oid)!)]));
    const candidates: { from: TreeChange; to: TreeChange; score: number }[] = [];
    for (const to of dsts) {
      const toData = contents.get(to.new!.oid)!;
      const toChunks = chunkCounts(toData);
      for (const from of srcs) {
        const fromData = contents.get(from.old!.oid)!;
        const larger = Math.max(fromData.length, toData.length);
        if (larger === 0) continue;
        // A size difference alone can rule the pair out before counting.
        if (Math.min(fromData.length, toData.length) / larger < opts.minScore) continue;
        const score = sharedBytes(srcChunks.get(from)!, toChunks) / larger;
        if (score >= opts.minScore) candidates.push({ from, to, score });
      }
    }
    candidates.sort((x, y) => y.score - x.score);
    for (const c of candidates) {
      if (usedFrom.has(c.from) || pairs.has(c.to)) continue;
      usedFrom.add(c.from);
      pairs.set(c.to, { from: c.from, score: c.score });
    }
  }

  const out: (TreeChange | RenamedChange)[] = [];
  for (const c of changes) {
    if (usedFrom.has(c)) continue;
    const pair = pairs.get(c);
    if (!pair) out.push(c);
    else
      out.push({
        status: "renamed",
        path: c.path,
        oldPath: pair.from.path,
        old: pair.from.old!,
        new: c.new!,
        similarity: Math.floor(pair.score * 100),
      });
  }
  return out;
}

function isFile(mode: string): boolean {
  return (parseInt(mode, 8) & 0o170000) === 0o100000 || (parseInt(mode, 8) & 0o170000) === 0o120000;
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** Bytes per distinct chunk: lines, with lines longer than CHUNK cut into CHUNK-byte pieces. */
function chunkCounts(data: Uint8Array): Map<string, number> {
  const counts = new Map<string, number>();
  let start = 0;
  while (start < data.length) {
    let end = start;
    while (end < data.length && end - start < CHUNK && data[end] !== 0x0a) end++;
    if (end < data.length && data[end] === 0x0a) end++;
    const key = keyOf(data, start, end);
    counts.set(key, (counts.get(key) ?? 0) + (end - start));
    start = end;
  }
  return counts;
}

function keyOf(data: Uint8Array, start: number, end: number): string {
  let s = "";
  for (let i = start; i < end; i++) s += String.fromCharCode(data[i]!);
  return s;
}

function sharedBytes(a: Map<string, number>, b: Map<string, number>): number {
  let n = 0;
  for (const [k, v] of b) n += Math.min(v, a.get(k) ?? 0);
  return n;
}
