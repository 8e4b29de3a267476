/**
 * Path filters the way git reads a plain pathspec: a spec without wildcards names a file or a whole
 * directory (`src` matches `src/app.c`); a spec with `*`, `?` or `[…]` is a wildcard pattern over the
 * full path in which `*` also crosses `/` (`*.c` matches `src/app.c`).
 * Invariants:
 * - Matching is O(path × spec): the wildcard matcher backtracks only to the most recent `*`.
 * Spec: gitglossary(7), "pathspec" (no magic, no FNM_PATHNAME).
 */
export function matchesPathspecs(path: string, specs: readonly string[]): boolean {
  if (specs.length === 0) return true;
  return specs.some((s) => matchesPathspec(path, s));
}

export function matchesPathspec(path: string, spec: string): boolean {
  const p = spec.replace(/\/+$/, "");
  if (p === "" || p === ".") return true;
  if (!/[*?[]/.test(p)) return path === p || path.startsWith(p + "/");
  return wildcardMatch(p, path) || wildcardMatch(p + "/*", path);
}

/** `*` any run (including `/`), `?` one character, `[…]`/`[!…]`/`[^…]` one of a set, `\x` a literal x. */
export function wildcardMatch(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let starP = -1;
  let starT = 0;
  while (t < text.length) {
    if (p < pattern.length) {
      const c = pattern[p]!;
      if (c === "*") {
        while (pattern[p] === "*") p++;
        starP = p;
        starT = t;
        continue;
      }
      const step = matchOne(pattern, p, text[t]!);
      if (step > 0) {
        p += step;
        t++;
        continue;
      }
    }
    if (starP < 0) return false;
    p = starP;
    t = ++starT;
  }
  while (pattern[p] === "*") p++;
  return p === pattern.length;
}

/** Length of the pattern item at `p` if it matches `ch`, else 0. */
function matchOne(pattern: string, p: number, ch: string): number {
  const c = pattern[p]!;
  if (c === "?") return 1;
  if (c === "\\" && p + 1 < pattern.length) return pattern[p + 1] === ch ? 2 : 0;
  if (c === "[") {
    const close = pattern.indexOf("]", p + 2);
    if (close > 0) {
      let i = p + 1;
      const negate = pattern[i] === "!" || pattern[i] === "^";
      if (negate) i++;
      let hit = false;
      for (; i < close; i++) {
        if (pattern[i + 1] === "-" && i + 2 < close) {
          if (ch >= pattern[i]! && ch <= pattern[i + 2]!) hit = true;
          i += 2;
        } else if (pattern[i] === ch) hit = true;
      }
      return hit !== negate ? close - p + 1 : 0;
    }
  }
  return c === ch ? 1 : 0;
}

/** Whether some path under directory `dir` could match one of `specs` (so a tree walk must enter it). */
export function pathspecsMayContain(dir: string, specs: readonly string[]): boolean {
  if (specs.length === 0) return true;
  return specs.some((s) => {
    const p = s.replace(/\/+$/, "");
    if (p === "" || p === "." || /[*?[]/.test(p)) return true;
    return p === dir || p.startsWith(dir + "/") || dir.startsWith(p + "/");
  });
}
