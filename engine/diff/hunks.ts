/**
 * Turns a line edit script into unified-diff hunks as git prints them: changes closer than twice
 * the context are one hunk; the header names the nearest "function line" above the hunk.
 * Invariants:
 * - Hunk lines start with " ", "-" or "+", or are the marker "\ No newline at end of file" right
 *   after the line it describes.
 * - Counts and starts follow git: a side with no lines prints the line before it (`-0,0` for an
 *   empty old file) and a count of 1 is left out.
 * Spec: git-diff(1) "Combined diff format" / diffutils "Unified Format"; git's xdiff/xemit.c for
 *   hunk grouping and the default function-line rule (a line starting with a letter, `_` or `$`).
 */
import { bytesToText, textToBytes } from "../object/object-header.ts";
import { DEL, KEEP, type DiffOp } from "./myers.ts";

export interface Hunk {
  oldStart: number;
  oldLines: number;
  newStart: number;
  newLines: number;
  /** The `@@ … @@` line, with the function line when there is one. */
  header: string;
  lines: string[];
}

/** A file's lines, each with its newline if it had one, so "x" and "x\n" compare unequal as in git. */
export function splitLines(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  while (start < text.length) {
    const nl = text.indexOf("\n", start);
    const end = nl < 0 ? text.length : nl + 1;
    out.push(text.slice(start, end));
    start = end;
  }
  return out;
}

export const NO_NEWLINE = "\\ No newline at end of file";
const FUNC_BYTES = 80;

export function buildHunks(a: readonly string[], b: readonly string[], ops: readonly DiffOp[], context: number): Hunk[] {
  // Changes as runs: [aStart, aEnd, bStart, bEnd] in line indexes.
  const runs: [number, number, number, number][] = [];
  let i = 0;
  let j = 0;
  for (let k = 0; k < ops.length; ) {
    if (ops[k] === KEEP) {
      i++;
      j++;
      k++;
      continue;
    }
    const [ai, bj] = [i, j];
    while (k < ops.length && ops[k] !== KEEP) {
      if (ops[k] === DEL) i++;
      else j++;
      k++;
    }
    runs.push([ai, i, bj, j]);
  }

  const hunks: Hunk[] = [];
  let func = "";
  let funcSearchedTo = -1;
  for (let r = 0; r < runs.length; ) {
    let last = r;
    while (last + 1 < runs.length && runs[last + 1]![0] - runs[last]![1] <= 2 * context) last++;
    const first = runs[r]!;
    const end = runs[last]!;
    const lead = Math.min(context, first[0]);
    const trail = Math.min(context, a.length - end[1]);
    const aStart = first[0] - lead;
    const bStart = first[2] - lead;
    const aEnd = end[1] + trail;
    const bEnd = end[3] + trail;

    for (let l = aStart - 1; l > funcSearchedTo; l--) {
      const f = functionLine(a[l]!);
      if (f !== null) {
        func = f;
        break;
      }
    }
    funcSearchedTo = aStart - 1;

    const lines: string[] = [];
    const push = (op: string, line: string) => {
      if (line.endsWith("\n")) lines.push(op + line.slice(0, -1));
      else lines.push(op + line, NO_NEWLINE);
    };
    let x = aStart;
    let y = bStart;
    const keepUntil = (stop: number) => {
      for (; x < stop; x++, y++) push(" ", a[x]!);
    };
    for (let q = r; q <= last; q++) {
      const [a0, a1, , b1] = runs[q]!;
      keepUntil(a0);
      for (; x < a1; x++) push("-", a[x]!);
      for (; y < b1; y++) push("+", b[y]!);
    }
    keepUntil(aEnd);

    const oldLines = aEnd - aStart;
    const newLines = bEnd - bStart;
    const range = (start: number, count: number) => `${count ? start + 1 : start}${count === 1 ? "" : `,${count}`}`;
    const header = `@@ -${range(aStart, oldLines)} +${range(bStart, newLines)} @@${func ? ` ${func}` : ""}`;
    hunks.push({ oldStart: oldLines ? aStart + 1 : aStart, oldLines, newStart: newLines ? bStart + 1 : bStart, newLines, header, lines });
    r = last + 1;
  }
  return hunks;
}

/** git's default function line: starts with a letter, `_` or `$`; cut to 80 bytes, trailing blanks dropped. */
function functionLine(line: string): string | null {
  if (!/^[A-Za-z_$]/.test(line)) return null;
  const bytes = textToBytes(line).subarray(0, FUNC_BYTES);
  let n = bytes.length;
  while (n > 0 && (bytes[n - 1] === 0x20 || (bytes[n - 1]! >= 0x09 && bytes[n - 1]! <= 0x0d))) n--;
  return bytesToText(bytes.subarray(0, n));
}
