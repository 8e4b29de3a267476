/**
 * Checks a full ref name the way `git check-ref-format` does (without --allow-onelevel), plus our own limits.
 * Invariants:
 * - null means git would accept the name, it is under `refs/`, and it is not `refs/heads/HEAD`.
 * - Non-ASCII characters are allowed, as in git; only ASCII control characters and DEL are not.
 * - A name is at most MAX_REF_NAME_BYTES of UTF-8 and each component at most MAX_REF_COMPONENT_BYTES:
 *   git stores refs as files, so longer names fail there ("File name too long"), and a name that fits
 *   in one pkt-line with its id is one every advertisement can carry.
 * Spec: git-check-ref-format(1); gitprotocol-common(5), "refname".
 */

/** git's practical limits: PATH_MAX-ish for the whole name, NAME_MAX for one component. */
export const MAX_REF_NAME_BYTES = 1024;
export const MAX_REF_COMPONENT_BYTES = 255;

const UTF8 = new TextEncoder();

// Characters git refuses anywhere in a name (besides control characters): space ~ ^ : ? * [ \
const FORBIDDEN = new Set([" ", "~", "^", ":", "?", "*", "[", "\\"]);

export function checkRefName(name: string): string | null {
  // Checked first, on the length alone, so the scans below never walk a huge name.
  if (name.length > MAX_REF_NAME_BYTES || UTF8.encode(name).length > MAX_REF_NAME_BYTES) return `is longer than ${MAX_REF_NAME_BYTES} bytes`;
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
    if (UTF8.encode(component).length > MAX_REF_COMPONENT_BYTES) return `has a component longer than ${MAX_REF_COMPONENT_BYTES} bytes`;
  }
  return null;
}
