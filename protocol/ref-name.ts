/**
 * Checks a full ref name the way `git check-ref-format` does (without --allow-onelevel), plus our own limits.
 * Invariants:
 * - null means git would accept the name, it is under `refs/`, and it is not `refs/heads/HEAD`.
 * - Non-ASCII characters are allowed, as in git; only ASCII control characters and DEL are not.
 * Spec: git-check-ref-format(1); gitprotocol-common(5), "refname".
 */

// Characters git refuses anywhere in a name (besides control characters): space ~ ^ : ? * [ \
const FORBIDDEN = new Set([" ", "~", "^", ":", "?", "*", "[", "\\"]);

export function checkRefName(name: string): string | null {
  if (name === "@") return "is a bare @";
  if (!name.startsWith("refs/")) return "not under refs/";
  if (name === "refs/heads/HEAD") return "refs/heads/HEAD is reserved";
  if (name.endsWith(".")) return "ends with a dot";
  if (name.includes("@{")) return "contains @{";
  if (name.includes("..")) return "contains ..";
  for (const ch of name) {
    const c = ch.charCodeAt(0);
    if (c < 0x20 || c === 0x7f) return "contains a control character";
    if (FORBIDDEN.has(ch)) return `contains ${JSON.stringify(ch)}`;
  }
  for (const component of name.split("/")) {
    if (component === "") return "has an empty component (// or a trailing /)";
    if (component.startsWith(".")) return "has a component starting with a dot";
    if (component.endsWith(".lock")) return "has a component ending with .lock";
  }
  return null;
}
