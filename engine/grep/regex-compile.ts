/**
 * Compiles a regex syntax tree into a program for the Pike VM: one instruction per character test,
 * with `split`/`jmp` for choice and loops, and zero-width assertions.
 * Invariants:
 * - A program has at most MAX_PROGRAM instructions; a larger one is `grep-pattern-too-complex`, so
 *   matching costs at most MAX_PROGRAM steps per input character.
 * - `split` prefers its first branch: greedy loops list the body first, lazy loops the exit.
 * Spec: Thompson's construction (Thompson 1968), as run by a Pike VM (Pike, sam(1), 1987).
 */
import { GitError } from "../errors.ts";
import type { CharClass, GrepErrorCode, RegexNode } from "./regex-parse.ts";

export const MAX_PROGRAM = 20_000;

export type Inst =
  | { op: "char"; cp: number }
  | { op: "class"; cls: CharClass; fold: boolean }
  | { op: "any" }
  | { op: "assert"; what: "bol" | "eol" | "word" | "not-word" }
  | { op: "split"; x: number; y: number }
  | { op: "jmp"; x: number }
  | { op: "match" };

export interface Program {
  insts: Inst[];
}

export function compileRegex(root: RegexNode, ignoreCase: boolean): Program {
  const insts: Inst[] = [];
  const emit = (i: Inst): number => {
    if (insts.length >= MAX_PROGRAM)
      throw new GitError<GrepErrorCode>("grep-pattern-too-complex", `pattern compiles to more than ${MAX_PROGRAM} instructions`, {
        data: { limit: MAX_PROGRAM },
      });
    insts.push(i);
    return insts.length - 1;
  };

  const gen = (n: RegexNode): void => {
    switch (n.kind) {
      case "empty":
        return;
      case "char": {
        const variants = ignoreCase ? caseVariants(n.cp) : [n.cp];
        if (variants.length === 1) emit({ op: "char", cp: n.cp });
        else emit({ op: "class", cls: { ranges: variants.map((v) => [v, v] as const), negate: false }, fold: false });
        return;
      }
      case "class":
        emit({ op: "class", cls: n.cls, fold: ignoreCase });
        return;
      case "any":
        emit({ op: "any" });
        return;
      case "assert":
        emit({ op: "assert", what: n.what });
        return;
      case "concat":
        for (const item of n.items) gen(item);
        return;
      case "alt": {
        // a|b|c is split(a, split(b, c)), each branch jumping to the end.
        const jumps: number[] = [];
        for (const item of n.items.slice(0, -1)) {
          const split = emit({ op: "split", x: 0, y: 0 });
          gen(item);
          jumps.push(emit({ op: "jmp", x: 0 }));
          setSplit(split, split + 1, insts.length);
        }
        gen(n.items[n.items.length - 1]!);
        for (const j of jumps) insts[j] = { op: "jmp", x: insts.length };
        return;
      }
      case "repeat": {
        for (let i = 0; i < n.min; i++) gen(n.node);
        if (n.max === Infinity) {
          const loop = emit({ op: "split", x: 0, y: 0 });
          gen(n.node);
          emit({ op: "jmp", x: loop });
          setSplit(loop, loop + 1, insts.length, n.greedy);
          return;
        }
        // Optional copies, each skipping to the end: x{2,4} is xx(x(x)?)?
        const splits: number[] = [];
        for (let i = n.min; i < n.max; i++) {
          splits.push(emit({ op: "split", x: 0, y: 0 }));
          gen(n.node);
        }
        for (const s of splits) setSplit(s, s + 1, insts.length, n.greedy);
        return;
      }
    }
  };

  /** `body` is the branch that continues the repeat; `exit` leaves it. */
  const setSplit = (at: number, body: number, exit: number, greedy = true) => {
    insts[at] = greedy ? { op: "split", x: body, y: exit } : { op: "split", x: exit, y: body };
  };

  gen(root);
  emit({ op: "match" });
  return { insts };
}

/** The code point and its simple upper- and lower-case forms. */
function caseVariants(cp: number): number[] {
  const s = String.fromCodePoint(cp);
  const out = new Set([cp]);
  for (const v of [s.toLowerCase(), s.toUpperCase()]) if ([...v].length === 1) out.add(v.codePointAt(0)!);
  return [...out];
}
