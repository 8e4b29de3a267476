/**
 * Runs a compiled regex over one line with a Pike VM: every live thread advances in lock step, one
 * input character at a time, and two threads at the same instruction are merged. Time is
 * O(program × line) whatever the pattern, so `(a+)+$` cannot backtrack.
 * Invariants:
 * - Threads are kept in priority order, so the result is the leftmost-first match (Perl's choice).
 * - Every instruction visit spends one step of the shared budget; an empty budget throws
 *   `grep-budget-exceeded` (retryable with a smaller request), never runs on.
 * Spec: Russ Cox, "Regular Expression Matching: the Virtual Machine Approach" (2009), for the idea.
 */
import { GitError } from "../errors.ts";
import type { CharClass } from "./regex-parse.ts";
import type { Inst, Program } from "./regex-compile.ts";

export type PikeVmErrorCode = "grep-budget-exceeded";

/** Steps left for a whole request; shared by every line and blob it searches. */
export interface MatchBudget {
  steps: number;
}

/** A list of threads: dense order plus a per-instruction generation mark for O(1) dedupe. */
class Threads {
  pcs: Int32Array;
  starts: Int32Array;
  size = 0;
  constructor(n: number) {
    this.pcs = new Int32Array(n);
    this.starts = new Int32Array(n);
  }
}

export class PikeVm {
  readonly #insts: Inst[];
  readonly #marks: Uint32Array;
  #gen = 0;
  #stack: Int32Array;

  constructor(program: Program) {
    this.#insts = program.insts;
    this.#marks = new Uint32Array(program.insts.length);
    this.#stack = new Int32Array(program.insts.length * 2 + 2);
  }

  /** The first (leftmost-first) match in `text` as [start, end) in UTF-16 units, or null. */
  firstMatch(text: string, budget: MatchBudget): [number, number] | null {
    const n = this.#insts.length;
    let clist = new Threads(n);
    let nlist = new Threads(n);
    let match: [number, number] | null = null;
    this.#newGeneration();
    for (let pos = 0; ; ) {
      if (!match) this.#add(clist, 0, pos, pos, text, budget);
      else if (clist.size === 0) break; // nothing left that could beat the match found
      const cp = pos < text.length ? text.codePointAt(pos)! : -1;
      const next = pos + (cp > 0xffff ? 2 : 1);
      this.#newGeneration();
      nlist.size = 0;
      for (let i = 0; i < clist.size; i++) {
        if (--budget.steps < 0) throw budgetExceeded();
        const pc = clist.pcs[i]!;
        const inst = this.#insts[pc]!;
        if (inst.op === "match") {
          match = [clist.starts[i]!, pos];
          break; // lower-priority threads lose to this one
        }
        if (cp >= 0 && consumes(inst, cp)) this.#add(nlist, pc + 1, clist.starts[i]!, next, text, budget);
      }
      if (cp < 0) break;
      [clist, nlist] = [nlist, clist];
      pos = next;
    }
    return match;
  }

  #newGeneration() {
    if (++this.#gen === 0xffffffff) {
      this.#marks.fill(0);
      this.#gen = 1;
    }
  }

  /** Follows jumps, splits and assertions from `pc` at `pos`, appending the threads that wait for input. */
  #add(list: Threads, pc0: number, start: number, pos: number, text: string, budget: MatchBudget) {
    const stack = this.#stack;
    let sp = 0;
    stack[sp++] = pc0;
    while (sp > 0) {
      const pc = stack[--sp]!;
      if (this.#marks[pc] === this.#gen) continue;
      this.#marks[pc] = this.#gen;
      if (--budget.steps < 0) throw budgetExceeded();
      const inst = this.#insts[pc]!;
      switch (inst.op) {
        case "jmp":
          stack[sp++] = inst.x;
          break;
        case "split":
          stack[sp++] = inst.y;
          stack[sp++] = inst.x; // popped first: x has priority
          break;
        case "assert":
          if (holds(inst.what, text, pos)) stack[sp++] = pc + 1;
          break;
        default:
          list.pcs[list.size] = pc;
          list.starts[list.size] = start;
          list.size++;
      }
    }
  }
}

function consumes(inst: Inst, cp: number): boolean {
  switch (inst.op) {
    case "char":
      return inst.cp === cp;
    case "any":
      return cp !== 0x0a;
    case "class":
      if (!inst.fold) return inClass(inst.cls, cp);
      return inClass(inst.cls, cp) || inClass(inst.cls, lower(cp)) || inClass(inst.cls, upper(cp));
    default:
      return false;
  }
}

function inClass(cls: CharClass, cp: number): boolean {
  let hit = false;
  for (const [a, b] of cls.ranges)
    if (cp >= a && cp <= b) {
      hit = true;
      break;
    }
  return hit !== cls.negate;
}

function holds(what: "bol" | "eol" | "word" | "not-word", text: string, pos: number): boolean {
  if (what === "bol") return pos === 0;
  if (what === "eol") return pos === text.length;
  const boundary = isWord(text.charCodeAt(pos - 1)) !== isWord(text.charCodeAt(pos));
  return what === "word" ? boundary : !boundary;
}

function isWord(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;
}

function lower(cp: number): number {
  if (cp < 0x80) return cp >= 0x41 && cp <= 0x5a ? cp + 32 : cp;
  const s = String.fromCodePoint(cp).toLowerCase();
  return [...s].length === 1 ? s.codePointAt(0)! : cp;
}

function upper(cp: number): number {
  if (cp < 0x80) return cp >= 0x61 && cp <= 0x7a ? cp - 32 : cp;
  const s = String.fromCodePoint(cp).toUpperCase();
  return [...s].length === 1 ? s.codePointAt(0)! : cp;
}

function budgetExceeded(): GitError<PikeVmErrorCode> {
  return new GitError("grep-budget-exceeded", "the search ran out of its time budget; narrow the paths or the pattern", { retryable: false });
}
