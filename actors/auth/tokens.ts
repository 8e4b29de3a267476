/**
 * Access tokens: how they look, how they are hashed, and how a request presents one.
 * Invariants:
 * - A token is 32 random bytes (base64url) behind a fixed prefix; only its SHA-256 is ever stored.
 * - Hashes are compared in constant time.
 * - Neither a token nor its hash appears in an error message or a log line.
 * Spec: RFC 7617 (Basic), RFC 6750 (Bearer); gitcredentials(7).
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

export const TOKEN_PREFIX = "egt_";

export type Scope = "read" | "write" | "admin";
export const SCOPES: readonly Scope[] = ["read", "write", "admin"];

export function newToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString("base64url");
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, "hex");
  const y = Buffer.from(b, "hex");
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

/**
 * The token a request carries: `Authorization: Bearer <t>`, or Basic auth with the token as the
 * password (any user name, as git's credential helpers send it). Undefined when none is present.
 */
export function presentedToken(request: Request): string | undefined {
  const header = request.headers.get("authorization");
  if (!header) return undefined;
  const [scheme, value = ""] = header.split(" ", 2);
  if (/^bearer$/i.test(scheme!)) return value.trim() || undefined;
  if (/^basic$/i.test(scheme!)) {
    let decoded: string;
    try {
      decoded = atob(value.trim());
    } catch {
      return "";
    }
    const colon = decoded.indexOf(":");
    // git sends the token as the password; a bare token in the user field works too.
    const secret = colon < 0 ? decoded : decoded.slice(colon + 1) || decoded.slice(0, colon);
    return secret;
  }
  return "";
}

/** True if `repo` ("owner/name") matches a pattern: exact, or `owner/*`, or `*`. */
export function repoMatches(pattern: string, repo: string): boolean {
  if (pattern === "*" || pattern === repo) return true;
  if (pattern.endsWith("/*")) return repo.startsWith(pattern.slice(0, -1)) && !repo.slice(pattern.length - 1).includes("/");
  return false;
}
