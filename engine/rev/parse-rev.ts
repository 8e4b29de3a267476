/**
 * Parses git revision expressions into a tree: a name (ref, `HEAD`/`@`, full or abbreviated id)
 * followed by `~n`, `^n`, `^{type}`, `^{}` suffixes, and an optional `:path`.
 * Invariants:
 * - Only syntax is checked here; whether names exist is resolve-rev.ts's business.
 * - Forms that need a reflog, an index or a message search (`@{…}`, `:path` alone, `^{/re}`) are
 *   `rev-malformed` errors, never guessed at.
 * Spec: gitrevisions(7), "SPECIFYING REVISIONS".
 */
import { GitError } from "../errors.ts";
import type { ObjectType } from "../object/types.ts";

export type RevErrorCode = "rev-malformed" | "rev-not-found" | "rev-ambiguous" | "rev-wrong-type" | "path-not-found";

export type RevExpr =
  | { kind: "name"; name: string }
  | { kind: "ancestor"; base: RevExpr; n: number }
  | { kind: "parent"; base: RevExpr; n: number }
  /** `^{type}`; `peel` is `^{}` (through tags to the first non-tag); `object` only checks existence. */
  | { kind: "peel"; base: RevExpr; to: ObjectType | "peel" | "object" }
  | { kind: "path"; base: RevExpr; path: string };

export const MAX_REV_LENGTH = 1024;
const MAX_STEPS = 100_000;
const PEEL_TYPES = new Set(["commit", "tree", "blob", "tag", "object", ""]);

export function parseRev(rev: string): RevExpr {
  if (rev.length === 0 || rev.length > MAX_REV_LENGTH) throw malformed(rev, `a revision is 1 to ${MAX_REV_LENGTH} characters`);
  if (/[\x00-\x1f\x7f]/.test(rev)) throw malformed(rev, "control characters are not allowed");
  const colon = rev.indexOf(":");
  if (colon === 0) throw malformed(rev, "index paths (`:path`) are not supported; name a commit before the colon");
  if (colon > 0) return { kind: "path", base: parseRev(rev.slice(0, colon)), path: rev.slice(colon + 1) };

  const m = /^[^~^]+/.exec(rev);
  if (!m) throw malformed(rev, "missing a name before ~ or ^");
  const base = m[0];
  if (base.includes("@{")) throw malformed(rev, "reflog forms (@{…}) are not supported");
  let expr: RevExpr = { kind: "name", name: base === "@" ? "HEAD" : base };
  let i = base.length;

  while (i < rev.length) {
    const op = rev[i++]!;
    if (op === "^" && rev[i] === "{") {
      const close = rev.indexOf("}", i);
      if (close < 0) throw malformed(rev, "unterminated ^{");
      const what = rev.slice(i + 1, close);
      if (!PEEL_TYPES.has(what)) throw malformed(rev, `unsupported ^{${what.slice(0, 40)}}`);
      expr = { kind: "peel", base: expr, to: what === "" ? "peel" : (what as ObjectType | "object") };
      i = close + 1;
      continue;
    }
    const digits = /^\d*/.exec(rev.slice(i))![0];
    i += digits.length;
    const n = digits === "" ? 1 : Number(digits);
    if (digits.length > 6 || n > MAX_STEPS) throw malformed(rev, `${op}${digits} is too far`);
    if (op === "~") expr = { kind: "ancestor", base: expr, n };
    else if (op === "^") expr = { kind: "parent", base: expr, n };
    else throw malformed(rev, `unexpected ${JSON.stringify(op)}`);
  }
  return expr;
}

function malformed(rev: string, reason: string): GitError<RevErrorCode> {
  return new GitError("rev-malformed", `bad revision ${JSON.stringify(rev.slice(0, 100))}: ${reason}`, { data: { rev: rev.slice(0, 200) } });
}
