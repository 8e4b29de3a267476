/**
 * Who is calling, and what they may do to one repository. The same decision (`authorize`) gates git
 * over HTTP, every RPC call (HTTP or socket), each socket upgrade and each event sent to a subscriber.
 * Invariants:
 * - No admin secret configured means no writes at all: never open access.
 * - A private repository the caller may not read is reported as missing (404), never as forbidden,
 *   and so is a missing one: the two cannot be told apart.
 * - A missing or bad credential where one is needed is 401 (git then asks its credential helper);
 *   a valid one without the scope is 403.
 */
import { GitError } from "../../engine/index.ts";
import type { Env } from "../env.ts";
import { allows, type Principal } from "./token-store.ts";
import { hashToken, presentedToken, sameHash, type Scope } from "./tokens.ts";

export type AuthErrorCode = "unauthorized" | "forbidden" | "writes-disabled";

export type Caller = { kind: "anonymous" } | { kind: "token"; principal: Principal } | { kind: "bad-token" };

export type Visibility = "public" | "private";

/** The id the bootstrap secret speaks as; it lives in the deployment, not in the TokenStore. */
export const BOOTSTRAP_TOKEN_ID = "admin-secret";
const BOOTSTRAP: Principal = { tokenId: BOOTSTRAP_TOKEN_ID, scopes: ["admin"], repos: [], expiresAt: null };

export async function authenticate(request: Request, env: Env): Promise<Caller> {
  return authenticateToken(presentedToken(request), env);
}

/** The caller a bare token speaks for (undefined: no token given; "": an unreadable credential). */
export async function authenticateToken(token: string | undefined, env: Env): Promise<Caller> {
  if (token === undefined) return { kind: "anonymous" };
  if (!token) return { kind: "bad-token" };
  if (env.ADMIN_TOKEN && sameHash(hashToken(token), hashToken(env.ADMIN_TOKEN))) return { kind: "token", principal: BOOTSTRAP };
  const principal = await env.TokenStore.get(env.TokenStore.idFromName("tokens")).verify(token);
  return principal ? { kind: "token", principal } : { kind: "bad-token" };
}

/** The part of an access decision that needs the repo's existence and visibility (`authorize`). */
export interface AccessCheck {
  caller: Caller;
  need: Scope;
}

/**
 * Judges the caller alone, before any repo is asked: null when the token grants `need`, or the
 * check left for the repo actor, which runs it before any work (so it costs no call of its own).
 * Throws when no repo state could allow the request: a bad token, an anonymous write, a token
 * holding read but not `need`. Same answers as `authorize`.
 */
export function checkWithoutRepo(env: Env, caller: Caller, need: Scope, repo: string): AccessCheck | null {
  if (caller.kind === "bad-token") throw new GitError("unauthorized", "bad or expired credentials");
  const can = (scope: Scope) => caller.kind === "token" && allows(caller.principal, scope, repo);
  if (need === "read") return can("read") ? null : { caller, need };
  if (!env.ADMIN_TOKEN) throw new GitError("writes-disabled", "this server has no admin secret (ADMIN_TOKEN): every write is refused");
  if (caller.kind === "anonymous") throw new GitError("unauthorized", "authentication required");
  if (can(need)) return null;
  if (can("read")) throw new GitError("forbidden", `this token lacks the ${need} scope on ${repo}`);
  return { caller, need };
}

/** Throws the right GitError unless `caller` may do `need` on `repo`; returns normally if allowed. */
export function authorize(env: Env, caller: Caller, need: Scope, repo: string, state: { exists: boolean; visibility: Visibility }): void {
  if (caller.kind === "bad-token") throw new GitError("unauthorized", "bad or expired credentials");
  const can = (scope: Scope) => caller.kind === "token" && allows(caller.principal, scope, repo);
  // A repo that does not exist is treated like a private one: a caller who may not touch it learns
  // the same 404 either way, so scopes never reveal which private repos exist. A token that may read
  // the name passes (its socket may subscribe before the first push); the actor then answers a
  // read of the missing repo 404 itself.
  const mayRead = (state.exists && state.visibility === "public") || can("read");
  if (need === "read") {
    if (!mayRead) throw new GitError("repo-not-found", "repository not found");
    return;
  }
  if (!env.ADMIN_TOKEN) throw new GitError("writes-disabled", "this server has no admin secret (ADMIN_TOKEN): every write is refused");
  if (caller.kind === "anonymous") throw new GitError("unauthorized", "authentication required");
  if (!mayRead) throw new GitError("repo-not-found", "repository not found");
  if (!can(need)) throw new GitError("forbidden", `this token lacks the ${need} scope on ${repo}`);
}
