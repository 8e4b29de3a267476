/**
 * The admin API as a test calls it: create, list and revoke tokens, set a repo's visibility,
 * failing loudly on any unexpected answer. Safe to import from global-setup (no vitest hooks).
 * Invariants:
 * - Only `createToken` ever returns a secret; `listTokens` returns what the server lists, unchanged.
 * Spec: README "Auth" (POST/GET /admin/tokens, DELETE /admin/tokens/<id>, POST /<owner>/<repo>/settings).
 */

// The server's own types: these tests speak the admin API's real shapes.
export type { Scope } from "../../actors/auth/tokens.ts";
export type { NewTokenRequest as NewToken, TokenInfo } from "../../actors/auth/token-store.ts";
import type { NewTokenRequest as NewToken, TokenInfo } from "../../actors/auth/token-store.ts";

/** One admin call; `credential` goes as a Bearer token, none sends the call anonymously. */
export function adminCall(baseUrl: string, credential: string | undefined, method: string, path = "", body?: unknown): Promise<Response> {
  return fetch(`${baseUrl}/admin/tokens${path}`, {
    method,
    headers: { ...(credential === undefined ? {} : { authorization: `Bearer ${credential}` }), ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function expectJson<T>(res: Response, status: number, what: string): Promise<T> {
  const text = await res.text();
  if (res.status !== status) throw new Error(`${what}: expected HTTP ${status}, got ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}

export async function createToken(baseUrl: string, adminToken: string, body: NewToken): Promise<{ token: string; info: TokenInfo }> {
  return expectJson(await adminCall(baseUrl, adminToken, "POST", "", body), 201, `POST /admin/tokens ${body.name}`);
}

export async function listTokens(baseUrl: string, adminToken: string): Promise<TokenInfo[]> {
  return (await expectJson<{ tokens: TokenInfo[] }>(await adminCall(baseUrl, adminToken, "GET"), 200, "GET /admin/tokens")).tokens;
}

export async function revokeToken(baseUrl: string, adminToken: string, id: string): Promise<void> {
  await expectJson(await adminCall(baseUrl, adminToken, "DELETE", `/${encodeURIComponent(id)}`), 200, `DELETE /admin/tokens/${id}`);
}

/** `POST /<owner>/<repo>/settings` with `{visibility}`; `repoUrl` is the repo's plain git URL. */
export function postSettings(repoUrl: string, credential: string | undefined, body: unknown): Promise<Response> {
  return fetch(`${repoUrl.replace(/\.git$/, "")}/settings`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(credential === undefined ? {} : { authorization: `Bearer ${credential}` }) },
    body: JSON.stringify(body),
  });
}

export async function setVisibility(repoUrl: string, credential: string, visibility: "public" | "private"): Promise<void> {
  const got = await expectJson<{ visibility: string }>(await postSettings(repoUrl, credential, { visibility }), 200, `POST settings of ${repoUrl}`);
  if (got.visibility !== visibility) throw new Error(`settings answered ${JSON.stringify(got)}, not ${visibility}`);
}
