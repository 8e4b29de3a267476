/**
 * Parses the regular expressions grep accepts into a syntax tree: literals, `.`, classes (`[a-z]`,
 * `[^…]`, `[[:alpha:]]`, `\d\w\s` and their negations), anchors `^ $ \b \B`, groups `(…)` and
 * `(?:…)`, alternation, and `* + ? {m} {m,} {m,n}` (each with a lazy `?` form). No backreferences
 * or lookaround: everything here compiles to a linear-time automaton.
 * Invariants:
 * - Counted repeats are bounded (MAX_REPEAT) and nesting is bounded (MAX_DEPTH), so a pattern can
 *   neither overflow the stack nor ask for an unbounded program.
 * - Unknown escapes and malformed syntax are `grep-pattern-invalid` errors, never silently literal.
 * Spec: POSIX ERE (regex(7)) with the Perl shorthand classes; semantics are leftmost-first.
 */
import { GitError } from "../errors.ts";

export type GrepErrorCode = "grep-pattern-invalid" | "grep-pattern-too-complex";

/** Inclusive code point ranges; `negate` inverts the set. */
export interface CharClass {
  ranges: readonly (readonly [number, number])[];
  negate: boolean;
}

export type RegexNode =
  | { kind: "empty" }
  | { kind: "char"; cp: number }
  | { kind: "class"; cls: CharClass }
  | { kind: "any" }
  | { kind: "assert"; what: "bol" | "eol" | "word" | "not-word" }
  | { kind: "concat"; items: RegexNode[] }
  | { kind: "alt"; items: RegexNode[] }
  | { kind: "repeat"; node: RegexNode; min: number; max: number; greedy: boolean };

export const MAX_REPEAT = 1000;
export const MAX_DEPTH = 100;
export const MAX_PATTERN_LENGTH = 4096;

export const DIGIT: CharClass = { ranges: [[0x30, 0x39]], negate: false };
export const WORD: CharClass = { ranges: [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]], negate: false };
export const SPACE: CharClass = { ranges: [[0x09, 0x0d], [0x20, 0x20]], negate: false };

const POSIX: Record<string, readonly (readonly [number, number])[]> = {
  alpha: [[0x41, 0x5a], [0x61, 0x7a]],
  digit: DIGIT.ranges,
  alnum: [[0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a]],
  upper: [[0x41, 0x5a]],
  lower: [[0x61, 0x7a]],
  space: SPACE.ranges,
  blank: [[0x09, 0x09], [0x20, 0x20]],
  punct: [[0x21, 0x2f], [0x3a, 0x40], [0x5b, 0x60], [0x7b, 0x7e]],
  xdigit: [[0x30, 0x39], [0x41, 0x46], [0x61, 0x66]],
  word: WORD.ranges,
};

const SIMPLE_ESCAPES: Record<string, number> = { t: 0x09, n: 0x0a, r: 0x0d, f: 0x0c, v: 0x0b };

export function parseRegex(pattern: string): RegexNode {
  if (pattern.length > MAX_PATTERN_LENGTH) throw invalid(pattern, 0, `pattern is longer than ${MAX_PATTERN_LENGTH} characters`);
  const p = new Parser(pattern);
  const node = p.alternation(0);
  if (!p.done()) throw invalid(pattern, p.pos, "unmatched )");
  return node;
}

class Parser {
  pos = 0;
  constructor(readonly src: string) {}

  done(): boolean {
    return this.pos >= this.src.length;
  }

  peek(): string | undefined {
    return this.src[this.pos];
  }

  /** One code point, so astral characters are single literals. */
  takeCodePoint(): number {
    const cp = this.src.codePointAt(this.pos)!;
    this.pos += cp > 0xffff ? 2 : 1;
    return cp;
  }

  fail(reason: string, at = this.pos): GitError<GrepErrorCode> {
    return invalid(this.src, at, reason);
  }

  alternation(depth: number): RegexNode {
    if (depth > MAX_DEPTH) throw this.fail(`groups nest deeper than ${MAX_DEPTH}`);
    const items = [this.concatenation(depth)];
    while (this.peek() === "|") {
      this.pos++;
      items.push(this.concatenation(depth));
    }
    return items.length === 1 ? items[0]! : { kind: "alt", items };
  }

  concatenation(depth: number): RegexNode {
    const items: RegexNode[] = [];
    while (!this.done() && this.peek() !== "|" && this.peek() !== ")") items.push(this.repetition(depth));
    if (items.length === 0) return { kind: "empty" };
    return items.length === 1 ? items[0]! : { kind: "concat", items };
  }

  repetition(depth: number): RegexNode {
    const start = this.pos;
    let node = this.atom(depth);
    for (;;) {
      const q = this.quantifier();
      if (!q) return node;
      if (node.kind === "assert") throw this.fail("nothing to repeat", start);
      node = { kind: "repeat", node, ...q };
    }
  }

  quantifier(): { min: number; max: number; greedy: boolean } | null {
    const c = this.peek();
    let min: number;
    let max: number;
    if (c === "*") [min, max] = [0, Infinity];
    else if (c === "+") [min, max] = [1, Infinity];
    else if (c === "?") [min, max] = [0, 1];
    else if (c === "{") {
      const m = /^\{(\d{1,9})(,(\d{0,9}))?\}/.exec(this.src.slice(this.pos, this.pos + 24));
      if (!m) return null; // a `{` that starts no count is a literal, as in ERE
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === "" ? Infinity : Number(m[3]);
      if (max < min) throw this.fail(`bad count {${m[1]},${m[3]}}: the maximum is below the minimum`);
      if (min > MAX_REPEAT || (max !== Infinity && max > MAX_REPEAT)) throw this.fail(`counts above ${MAX_REPEAT} are not allowed`);
      this.pos += m[0].length - 1;
    } else return null;
    this.pos++;
    let greedy = true;
    if (this.peek() === "?") {
      greedy = false;
      this.pos++;
    }
    return { min, max, greedy };
  }

  atom(depth: number): RegexNode {
    const at = this.pos;
    const c = this.peek()!;
    switch (c) {
      case "(": {
        this.pos++;
        if (this.src.startsWith("?:", this.pos)) this.pos += 2;
        else if (this.peek() === "?") throw this.fail("only (?:…) groups are supported");
        const inner = this.alternation(depth + 1);
        if (this.peek() !== ")") throw this.fail("missing )", at);
        this.pos++;
        return inner;
      }
      case "[":
        return { kind: "class", cls: this.bracket() };
      case ".":
        this.pos++;
        return { kind: "any" };
      case "^":
        this.pos++;
        return { kind: "assert", what: "bol" };
      case "$":
        this.pos++;
        return { kind: "assert", what: "eol" };
      case "\\":
        return this.escape();
      case "*":
      case "+":
      case "?":
        throw this.fail("nothing to repeat");
      default:
        return { kind: "char", cp: this.takeCodePoint() };
    }
  }

  escape(): RegexNode {
    this.pos++;
    if (this.done()) throw this.fail("trailing backslash");
    const c = this.peek()!;
    if (c === "b" || c === "B") {
      this.pos++;
      return { kind: "assert", what: c === "b" ? "word" : "not-word" };
    }
    const cls = this.shorthand(c);
    if (cls) {
      this.pos++;
      return { kind: "class", cls };
    }
    return { kind: "char", cp: this.escapedCodePoint() };
  }

  /** `\d \w \s` and their upper-case negations. */
  shorthand(c: string): CharClass | null {
    const base = c === "d" || c === "D" ? DIGIT : c === "w" || c === "W" ? WORD : c === "s" || c === "S" ? SPACE : null;
    if (!base) return null;
    return c === c.toUpperCase() ? { ranges: base.ranges, negate: true } : base;
  }

  /** The character after a backslash (already checked not to be a class or an assertion). */
  escapedCodePoint(): number {
    const c = this.peek()!;
    if (c in SIMPLE_ESCAPES) {
      this.pos++;
      return SIMPLE_ESCAPES[c]!;
    }
    if (c === "x") {
      const m = /^x([0-9a-fA-F]{2})/.exec(this.src.slice(this.pos, this.pos + 3));
      if (!m) throw this.fail("\\x needs two hex digits");
      this.pos += 3;
      return parseInt(m[1]!, 16);
    }
    if (c === "u") {
      const m = /^u([0-9a-fA-F]{4})/.exec(this.src.slice(this.pos, this.pos + 5));
      if (!m) throw this.fail("\\u needs four hex digits");
      this.pos += 5;
      return parseInt(m[1]!, 16);
    }
    if (/[A-Za-z0-9]/.test(c)) throw this.fail(`unknown escape \\${c}`);
    return this.takeCodePoint(); // any other escaped character stands for itself
  }

  bracket(): CharClass {
    const open = this.pos;
    this.pos++;
    let negate = false;
    if (this.peek() === "^") {
      negate = true;
      this.pos++;
    }
    const ranges: [number, number][] = [];
    let first = true;
    for (;;) {
      if (this.done()) throw this.fail("missing ]", open);
      const c = this.peek()!;
      if (c === "]" && !first) {
        this.pos++;
        break;
      }
      first = false;
      if (this.src.startsWith("[:", this.pos)) {
        const m = /^\[:([a-z]+):\]/.exec(this.src.slice(this.pos, this.pos + 12));
        if (!m || !POSIX[m[1]!]) throw this.fail("unknown character class name");
        ranges.push(...POSIX[m[1]!]!.map(([a, b]) => [a, b] as [number, number]));
        this.pos += m[0].length;
        continue;
      }
      let lo: number;
      if (c === "\\") {
        this.pos++;
        if (this.done()) throw this.fail("trailing backslash");
        const cls = this.shorthand(this.peek()!);
        if (cls) {
          this.pos++;
          ranges.push(...(cls.negate ? complement(cls.ranges) : cls.ranges.map(([a, b]) => [a, b] as [number, number])));
          continue;
        }
        lo = this.peek() === "b" ? (this.pos++, 0x08) : this.escapedCodePoint();
      } else lo = this.takeCodePoint();
      let hi = lo;
      if (this.peek() === "-" && this.src[this.pos + 1] !== "]" && this.pos + 1 < this.src.length) {
        this.pos++;
        if (this.peek() === "\\") {
          this.pos++;
          if (this.done()) throw this.fail("trailing backslash");
          hi = this.escapedCodePoint();
        } else hi = this.takeCodePoint();
        if (hi < lo) throw this.fail("range out of order");
      }
      ranges.push([lo, hi]);
    }
    return { ranges, negate };
  }
}

/** The code points (up to U+10FFFF) outside `ranges`. */
export function complement(ranges: readonly (readonly [number, number])[]): [number, number][] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  let next = 0;
  for (const [a, b] of sorted) {
    if (a > next) out.push([next, a - 1]);
    next = Math.max(next, b + 1);
  }
  if (next <= 0x10ffff) out.push([next, 0x10ffff]);
  return out;
}

function invalid(pattern: string, at: number, reason: string): GitError<GrepErrorCode> {
  return new GitError("grep-pattern-invalid", `bad pattern at offset ${at}: ${reason}`, { data: { pattern: pattern.slice(0, 200), at } });
}
