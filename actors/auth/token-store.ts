/**
 * TokenStore: the one Durable Object (named "tokens") that holds access tokens, apart from the repo
 * actors. Its methods are the admin API over DO RPC; the gateway serves them over HTTP too.
 * Invariants:
 * - Only SHA-256 hashes are stored; a token is shown once, when it is created.
 * - A revoked or expired token never verifies again.
 * - `revoke` answers only after every repo actor holding an open socket of that token has closed
 *   them: repos register such sockets with `watch`, which is atomic with `revoke` (this object
 *   runs one call at a time), so a socket is either seen by the revocation or refused by `watch`.
 */
import { DurableObject } from "cloudflare:workers";
import { GitError } from "../../engine/index.ts";
import type { Env } from "../env.ts";
import { hashToken, newToken, repoMatches, sameHash, SCOPES, type Scope } from "./tokens.ts";

export interface TokenInfo {
  id: string;
  name: string;
  scopes: Scope[];
  /** Repo patterns (`alice/*`, `alice/demo`); empty means every repo. */
  repos: string[];
  expiresAt: number | null;
  createdAt: number;
  revokedAt: number | null;
}

export interface NewTokenRequest {
  name: string;
  scopes: Scope[];
  repos?: string[];
  /** Milliseconds since the epoch. */
  expiresAt?: number | null;
}

/** Who a verified token speaks for. */
export interface Principal {
  tokenId: string;
  scopes: Scope[];
  repos: string[];
  /** Milliseconds since the epoch; a socket's reads stop at that moment. */
  expiresAt?: number | null;
}

interface Row extends Record<string, SqlStorageValue> {
  id: string;
  name: string;
  hash: string;
  scopes: string;
  repos: string;
  expires_at: number | null;
  created_at: number;
  revoked_at: number | null;
}

export class TokenStore extends DurableObject<Env> {
  #ready = false;

  #sql(): SqlStorage {
    if (!this.#ready) {
      this.ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS tokens (id TEXT PRIMARY KEY, name TEXT NOT NULL, hash TEXT NOT NULL UNIQUE,
        scopes TEXT NOT NULL, repos TEXT NOT NULL, expires_at INTEGER, created_at INTEGER NOT NULL, revoked_at INTEGER)`);
      // Repos with open sockets per token, so a revocation reaches them at once.
      this.ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS watchers (token_id TEXT NOT NULL, repo TEXT NOT NULL,
        PRIMARY KEY (token_id, repo)) WITHOUT ROWID`);
      this.#ready = true;
    }
    return this.ctx.storage.sql;
  }

  async create(req: NewTokenRequest): Promise<{ token: string; info: TokenInfo }> {
    const name = String(req.name ?? "").slice(0, 200);
    if (!name) throw new GitError("bad-token-request", "a token needs a name");
    const scopes = [...new Set(req.scopes)];
    if (scopes.length === 0 || scopes.some((s) => !SCOPES.includes(s))) throw new GitError("bad-token-request", `scopes must be some of ${SCOPES.join(", ")}`);
    const repos = req.repos ?? [];
    if (repos.some((r) => !/^(\*|[A-Za-z0-9._-]{1,100}\/(\*|[A-Za-z0-9._-]{1,100}))$/.test(r) || r.split("/").some((seg) => seg === "." || seg === "..")))
      throw new GitError("bad-token-request", "repo patterns look like owner/name, owner/* or *");
    const expiresAt = req.expiresAt ?? null;
    if (expiresAt !== null && !(Number.isFinite(expiresAt) && expiresAt > Date.now())) throw new GitError("bad-token-request", "expiresAt must be a future time in ms");
    const token = newToken();
    const id = crypto.randomUUID();
    const now = Date.now();
    this.#sql().exec(
      `INSERT INTO tokens (id, name, hash, scopes, repos, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      id, name, hashToken(token), JSON.stringify(scopes), JSON.stringify(repos), expiresAt, now,
    );
    return { token, info: { id, name, scopes, repos, expiresAt, createdAt: now, revokedAt: null } };
  }

  async list(): Promise<TokenInfo[]> {
    return this.#sql().exec<Row>(`SELECT * FROM tokens ORDER BY created_at`).toArray().map(toInfo);
  }

  /** Revokes the token, then closes its open sockets in every repo that registered one. */
  async revoke(id: string): Promise<boolean> {
    const sql = this.#sql();
    if (sql.exec(`UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, Date.now(), id).rowsWritten === 0) return false;
    const repos = sql.exec<{ repo: string }>(`SELECT repo FROM watchers WHERE token_id = ?`, id).toArray().map((r) => r.repo);
    sql.exec(`DELETE FROM watchers WHERE token_id = ?`, id);
    const results = await Promise.allSettled(repos.map((repo) => this.env.RepoActor.getByName(repo).tokenRevoked(id)));
    // The repo's own re-check (every few seconds) still closes a socket a failed notice missed.
    for (const r of results) if (r.status === "rejected") console.error("token store: a repo did not take the revocation", r.reason);
    return true;
  }

  /** Registers an open socket of this token in `repo`; false (register nothing) if the token is dead. */
  async watch(tokenId: string, repo: string): Promise<boolean> {
    if (!this.#live(tokenId)) return false; // synchronous: no revocation can run in between
    this.#sql().exec(`INSERT OR IGNORE INTO watchers (token_id, repo) VALUES (?, ?)`, tokenId, repo);
    return true;
  }

  /** `repo` holds no open socket of this token any more. */
  async unwatch(tokenId: string, repo: string): Promise<void> {
    this.#sql().exec(`DELETE FROM watchers WHERE token_id = ? AND repo = ?`, tokenId, repo);
  }

  /** The principal of a live token, or null. */
  async verify(token: string): Promise<Principal | null> {
    const hash = hashToken(token);
    const row = this.#sql().exec<Row>(`SELECT * FROM tokens WHERE hash = ?`, hash).toArray()[0];
    if (!row || !sameHash(row.hash, hash)) return null;
    if (row.revoked_at !== null || (row.expires_at !== null && row.expires_at <= Date.now())) return null;
    return { tokenId: row.id, scopes: JSON.parse(row.scopes), repos: JSON.parse(row.repos), expiresAt: row.expires_at };
  }

  /** True while the token is live: open subscriptions re-check with this. */
  async isLive(tokenId: string): Promise<boolean> {
    return this.#live(tokenId);
  }

  #live(tokenId: string): boolean {
    const row = this.#sql().exec<Row>(`SELECT * FROM tokens WHERE id = ?`, tokenId).toArray()[0];
    return !!row && row.revoked_at === null && (row.expires_at === null || row.expires_at > Date.now());
  }
}

function toInfo(r: Row): TokenInfo {
  return { id: r.id, name: r.name, scopes: JSON.parse(r.scopes), repos: JSON.parse(r.repos), expiresAt: r.expires_at, createdAt: r.created_at, revokedAt: r.revoked_at };
}

/** True if the principal holds `scope` on `repo`. `admin` implies `write` implies `read`. */
export function allows(p: Principal, scope: Scope, repo: string): boolean {
  const rank = { read: 0, write: 1, admin: 2 };
  const held = Math.max(...p.scopes.map((s) => rank[s]));
  return held >= rank[scope] && (p.repos.length === 0 || p.repos.some((pat) => repoMatches(pat, repo)));
}
