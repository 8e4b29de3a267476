/**
 * The admin HTTP API over the TokenStore: `GET /admin/tokens`, `POST /admin/tokens`,
 * `DELETE /admin/tokens/<id>`. Every call needs the admin scope over every repository.
 * Invariants:
 * - A token's secret appears in exactly one response: the one that created it.
 */
import { z } from "zod";
import { GitError } from "../../engine/index.ts";
import type { Env } from "../env.ts";
import { readJson } from "../gateway/request-body.ts";
import { authenticate } from "./access.ts";
import { SCOPES } from "./tokens.ts";

/** A token request is a name, scopes and up to 100 patterns: far below this. */
const MAX_TOKEN_REQUEST_BYTES = 64 << 10;

/** A name segment as repo paths allow it, never `.` or `..`. */
const SEGMENT = "(?!\\.\\.?(?:/|$))[A-Za-z0-9._-]{1,100}";
const REPO_PATTERN = new RegExp(`^(\\*|${SEGMENT}/(\\*|${SEGMENT}))$`);

// Everything the TokenStore would refuse is refused here: an error thrown inside a Durable Object
// reaches the gateway without its code.
const NewToken = z.object({
  name: z.string().min(1).max(200),
  scopes: z.array(z.enum(SCOPES as [string, ...string[]])).min(1),
  repos: z.array(z.string().regex(REPO_PATTERN, "a repo pattern is owner/name, owner/* or *")).max(100).optional(),
  expiresAt: z.number().int().positive().refine((t) => t > Date.now(), "expiresAt must be in the future").nullable().optional(),
});

export function isAdminPath(pathname: string): boolean {
  return pathname === "/admin/tokens" || pathname.startsWith("/admin/tokens/");
}

export async function handleAdmin(request: Request, env: Env, url: URL): Promise<Response> {
  const caller = await authenticate(request, env);
  if (caller.kind === "bad-token") throw new GitError("unauthorized", "bad or expired credentials");
  if (caller.kind === "anonymous") throw new GitError("unauthorized", "authentication required");
  const p = caller.principal;
  if (!p.scopes.includes("admin") || !(p.repos.length === 0 || p.repos.includes("*")))
    throw new GitError("forbidden", "managing tokens needs the admin scope over every repository");
  const store = env.TokenStore.get(env.TokenStore.idFromName("tokens"));
  const id = url.pathname.slice("/admin/tokens/".length);
  if (url.pathname === "/admin/tokens" && request.method === "GET") return Response.json({ tokens: await store.list() });
  if (url.pathname === "/admin/tokens" && request.method === "POST") {
    const body = await readJson(request, MAX_TOKEN_REQUEST_BYTES, "bad-token-request");
    const parsed = NewToken.safeParse(body);
    if (!parsed.success) throw new GitError("bad-token-request", `bad token request: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
    const created = await store.create(parsed.data as Parameters<typeof store.create>[0]);
    return Response.json(created, { status: 201 });
  }
  if (id && request.method === "DELETE") {
    if (!(await store.revoke(id))) throw new GitError("not-found", "no live token with that id");
    return Response.json({ revoked: id });
  }
  throw new GitError("method-not-allowed", "use GET or POST /admin/tokens, or DELETE /admin/tokens/<id>");
}
