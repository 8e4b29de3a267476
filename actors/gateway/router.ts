/**
 * The gateway: a route table, owner/name validation on the raw path, one actor call per request.
 * It never parses packs. Routes under `/<owner>/<repo>`: git smart HTTP (`/info/refs`,
 * `/git-upload-pack`, `/git-receive-pack`), the typed RPC as JSON (`POST /rpc/<method>`), the pack
 * streams (`POST /rpc/push`, `POST /rpc/fetchPack`) and the actor's WebSocket (`GET /ws`).
 * Invariants:
 * - Errors become responses once, in `toResponse`; handlers throw `GitError`s.
 * - A repo is addressed only by its validated `owner/name`.
 * - Every request is charged to its caller's budget for its cost class before an actor works on it
 *   (rate-limit.ts); over budget is 429 with Retry-After.
 * - Every route names the scope it needs, checked before the actor does any work: 401 (with a
 *   Basic challenge) for a missing or bad credential, 403 for a token without the scope, 404 for a
 *   private repo the caller may not read. What the token cannot settle travels with the one actor
 *   call (an `AccessCheck`, or the verified caller with a socket upgrade) and is judged there.
 * - A repo the RepoDirectory does not list is refused here, without waking its actor (a wake
 *   creates its database): any read, and any request the caller's token does not settle. Only a
 *   token's socket (subscribing before the first push) and a write that may create reach it.
 * Spec: gitprotocol-http(5); RFC 6455 (the upgrade is the actor's, through the agents SDK).
 */
import { GitError, ZERO_OID, isOid, type Oid } from "../../engine/index.ts";
import { httpStatusFor, parseRepoPath } from "../../protocol/index.ts";
import {
  RPC_ERROR_STATUS, SOCKET_PROTOCOL, isRpcMethod, parseSocketProtocols, rpcCost, rpcError,
  type RpcCost, type RpcErrorBody, type RpcReply, type RpcRequest,
} from "../../protocol/rpc/index.ts";
import type { Env } from "../env.ts";
import { ACTOR_SOCKET_PATH, CALLER_HEADER, RATE_KEY_HEADER, REFUSAL_HEADER, type GitReply } from "../repo/repo-actor.ts";
import { encodeCaller } from "../repo/socket-caller.ts";
import { authenticate, authenticateToken, checkWithoutRepo, type AccessCheck, type Caller } from "../auth/access.ts";
import { handleAdmin, isAdminPath } from "../auth/admin-routes.ts";
import type { Scope } from "../auth/tokens.ts";
import { callerKey, chargeCaller } from "./rate-limit.ts";
import { readJson, requestBody } from "./request-body.ts";
import { repoDirectory } from "../repo/repo-directory.ts";

interface RouteContext {
  request: Request;
  env: Env;
  url: URL;
  owner: string;
  repo: string;
  caller: Caller;
}

interface Route {
  method: "GET" | "POST";
  /** Matched against the path after `/<owner>/<repo>`. */
  suffix: string | RegExp;
  /** The budget a request spends; RPC calls are charged by method once their body is read. */
  cost?: RpcCost;
  handle(c: RouteContext, m: RegExpExecArray | null): Promise<Response>;
}

const NO_CACHE = { "cache-control": "no-cache, max-age=0, must-revalidate", expires: "Fri, 01 Jan 1980 00:00:00 GMT", pragma: "no-cache" };

/** JSON bodies of RPC calls; a commit's files travel in them. */
const MAX_RPC_BODY = 32 << 20;
const SUPERJSON_TYPE = "application/vnd.superjson+json";

const ROUTES: readonly Route[] = [
  { method: "GET", suffix: "/info/refs", handle: infoRefs, cost: "cheap" },
  { method: "POST", suffix: "/git-upload-pack", handle: (c) => service(c, "git-upload-pack"), cost: "cheap" },
  { method: "POST", suffix: "/git-receive-pack", handle: (c) => service(c, "git-receive-pack"), cost: "write" },
  { method: "GET", suffix: "/ws", handle: socket, cost: "cheap" },
  { method: "POST", suffix: "/rpc/push", handle: pushPack, cost: "write" },
  { method: "POST", suffix: "/rpc/fetchPack", handle: fetchPackRoute, cost: "cheap" },
  { method: "POST", suffix: /^\/rpc\/([A-Za-z]{1,40})$/, handle: (c, m) => rpc(c, m![1]!) },
  { method: "POST", suffix: "/settings", handle: settings, cost: "write" },
];

/**
 * The agents SDK's sub-agent marker: a `sub` segment followed by a class and a name. A repo path
 * using `sub` as owner or name could spell it, so such names are not served (404).
 */
const SDK_RESERVED_SEGMENT = "sub";

/** RPC methods that change the repository; every other method only reads. */
const WRITE_RPC: ReadonlySet<string> = new Set(["commit", "createBranch", "deleteBranch", "createTag"]);

export async function handle(request: Request, env: Env, _ctx: ExecutionContext): Promise<Response> {
  // RPC callers read errors as JSON ({ error: { code, message } }); git and curl read text.
  let json = false;
  try {
    const url = new URL(request.url);
    if (url.pathname === "/healthz") return new Response("ok\n");
    if (isAdminPath(url.pathname)) return await handleAdmin(request, env, url);
    const m = /^\/([^/]*)\/([^/]*?)(\/.*)$/.exec(url.pathname);
    if (!m) throw new GitError("not-found", "not found");
    const suffix = m[3]!;
    const route = ROUTES.find((r) => (typeof r.suffix === "string" ? r.suffix === suffix : r.suffix.test(suffix)));
    if (!route) throw new GitError("not-found", "not found");
    const { owner, repo } = parseRepoPath(decodeSegment(m[1]!), decodeSegment(m[2]!));
    if (owner === SDK_RESERVED_SEGMENT || repo === SDK_RESERVED_SEGMENT) throw new GitError("not-found", "not found");
    if (request.method !== route.method) throw new GitError("method-not-allowed", `${suffix} needs ${route.method}`);
    json = suffix.startsWith("/rpc/") || suffix === "/settings";
    const caller = await callerOf(request, env, url, suffix);
    if (route.cost) await chargeCaller(env, request, caller, route.cost);
    return await route.handle({ request, env, url, owner, repo, caller }, typeof route.suffix === "string" ? null : route.suffix.exec(suffix));
  } catch (e) {
    return json && e instanceof GitError ? errorJson(e.toJSON()) : toResponse(e);
  }
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new GitError("bad-repo-name", "bad percent-encoding in the repository path");
  }
}

/** The repo's stub; no call is made until a method is (see RepoActor's header on start-up). */
function actor(c: RouteContext) {
  return c.env.RepoActor.getByName(`${c.owner}/${c.repo}`);
}

/**
 * A socket carries its token as a subprotocol (browsers cannot set headers on a socket, and a URL
 * ends up in request logs and traces). `?token=` is refused unless ALLOW_TOKEN_IN_URL lets old
 * clients use it; an Authorization header works everywhere.
 */
function callerOf(request: Request, env: Env, url: URL, suffix: string): Promise<Caller> {
  if (suffix !== "/ws" || request.headers.has("authorization")) return authenticate(request, env);
  const query = url.searchParams.get("token");
  if (query !== null && env.ALLOW_TOKEN_IN_URL !== "true")
    throw new GitError("token-in-url", "a token in the URL is refused: offer it as the subprotocol edgegit.token.<token> (see README, Auth)");
  return authenticateToken(parseSocketProtocols(request.headers.get("sec-websocket-protocol")).token ?? query ?? undefined, env);
}

/** What the caller alone settles of `need` (throws a refusal); the rest is for the actor. */
function accessCheck(c: RouteContext, need: Scope): AccessCheck | null {
  return checkWithoutRepo(c.env, c.caller, need, `${c.owner}/${c.repo}`);
}

/**
 * `accessCheck`, and a repo the directory does not list is refused as missing (404, the answer
 * its actor or `authorize` would give) unless `reachMissing` and the token settled the access.
 */
async function admission(c: RouteContext, need: Scope, reachMissing: boolean): Promise<AccessCheck | null> {
  const check = accessCheck(c, need);
  if ((check !== null || !reachMissing) && !(await listed(c.env, `${c.owner}/${c.repo}`)))
    throw new GitError("repo-not-found", "repository not found");
  return check;
}

/** Names the directory listed; a name is never unlisted, so a "yes" is kept (a bounded set). */
const LISTED = new Set<string>();
const MAX_LISTED = 100_000;

async function listed(env: Env, name: string): Promise<boolean> {
  if (LISTED.has(name)) return true;
  if (!(await repoDirectory(env.RepoDirectory).has(name))) return false;
  if (LISTED.size >= MAX_LISTED) LISTED.clear();
  LISTED.add(name);
  return true;
}

function mayCreate(c: RouteContext): boolean {
  return c.env.AUTO_CREATE === "true";
}

function wantsV2(request: Request): boolean {
  return (request.headers.get("git-protocol") ?? "").split(":").includes("version=2");
}

async function infoRefs(c: RouteContext): Promise<Response> {
  const svc = c.url.searchParams.get("service");
  if (svc !== "git-upload-pack" && svc !== "git-receive-pack")
    throw new GitError("unsupported-service", "only smart HTTP is served: ask for ?service=git-upload-pack or git-receive-pack");
  const check = await (svc === "git-receive-pack" ? admission(c, "write", mayCreate(c)) : admission(c, "read", false));
  const reply = await actor(c).gitInfoRefs(check, svc, wantsV2(c.request), mayCreate(c));
  return gitResponse(reply, `application/x-${svc}-advertisement`);
}

async function service(c: RouteContext, svc: "git-upload-pack" | "git-receive-pack"): Promise<Response> {
  const type = c.request.headers.get("content-type");
  if (type !== `application/x-${svc}-request`) throw new GitError("unsupported-media-type", `expected Content-Type application/x-${svc}-request`);
  const check = await (svc === "git-receive-pack" ? admission(c, "write", mayCreate(c)) : admission(c, "read", false));
  const body = requestBody(c.request);
  const reply = svc === "git-upload-pack"
    ? await actor(c).gitUploadPack(check, body, wantsV2(c.request))
    : await actor(c).gitReceivePack(check, body, c.env.AUTO_CREATE === "true");
  return gitResponse(reply, `application/x-${svc}-result`);
}

function gitResponse(reply: GitReply, contentType: string): Response {
  if (!reply.ok) throw new GitError(reply.error.code, reply.error.message);
  return new Response(reply.body, { headers: { "content-type": contentType, ...NO_CACHE } });
}

/**
 * The actor's own WebSocket (agents SDK): RPC calls and ref subscriptions. The actor gets a fixed
 * URL path, `/ws`, never the client's: the SDK routes paths by their segments on its own (a
 * `/sub/<class>/<name>` marker opens a sub-agent), so no part of the path may reach it.
 */
async function socket(c: RouteContext): Promise<Response> {
  if (c.request.headers.get("upgrade")?.toLowerCase() !== "websocket") throw rpcError("upgrade-required", "this is a WebSocket endpoint");
  // A bad token, or a caller whose token cannot read an unlisted name, is refused here; the rest is
  // the actor's, in the same call as the upgrade.
  await admission(c, "read", true);
  // The actor learns who opened the socket (the verified principal, never the token): every read on
  // the socket is judged against it, and a revocation of its token ends it.
  const headers = new Headers(c.request.headers);
  headers.set(CALLER_HEADER, encodeCaller(c.caller));
  // Each call on the socket is charged in the actor to the budgets of the caller who opened it.
  headers.set(RATE_KEY_HEADER, callerKey(c.request, c.caller));
  // The token stays at the gateway; the client learns from our answer which protocol was chosen.
  const { ours } = parseSocketProtocols(headers.get("sec-websocket-protocol"));
  headers.delete("sec-websocket-protocol");
  // partyserver's error path compares this header case-sensitively; a mismatch answers with a stack.
  headers.set("upgrade", "websocket");
  const url = new URL(c.url);
  url.pathname = ACTOR_SOCKET_PATH;
  const res = await actor(c).fetch(new Request(url, { method: "GET", headers }));
  if (res.headers.has(REFUSAL_HEADER)) {
    // Refused as every read is refused: a missing repo and a private one give the same answer.
    const { code, message } = (await res.json()) as { code: string; message: string };
    throw new GitError(code, message);
  }
  if (res.status === 101 && ours) {
    // A client that offered subprotocols fails the handshake unless one of them is selected.
    const answer = new Headers(res.headers);
    answer.set("sec-websocket-protocol", SOCKET_PROTOCOL);
    return new Response(null, { status: 101, headers: answer, webSocket: res.webSocket });
  }
  if (res.status < 500) return res;
  // partyserver answers a failed set-up with the error's stack as the body: log it, send none of it.
  console.error("gateway: the actor's socket set-up failed", res.status, await res.text());
  return new Response("internal error\n", { status: 500, headers: { "content-type": "text/plain; charset=utf-8" } });
}

/**
 * `POST /rpc/<method>`: the body is the method's input as plain JSON (or a superjson payload with
 * Content-Type application/vnd.superjson+json); the answer is the result as plain JSON (dates as
 * ISO strings, bytes as base64), or `{ json, meta }` when the Accept header asks for superjson.
 */
async function rpc(c: RouteContext, method: string): Promise<Response> {
  if (!isRpcMethod(method)) throw rpcError("rpc-unknown-method", `no RPC method ${JSON.stringify(method)}`);
  const check = await admission(c, WRITE_RPC.has(method) ? "write" : "read", method === "commit" && mayCreate(c));
  const body = await readJson(c.request, MAX_RPC_BODY, "rpc-bad-input", {});
  await chargeCaller(c.env, c.request, c.caller, rpcCost(method, WRITE_RPC.has(method), body));
  const superjson = (c.request.headers.get("content-type") ?? "").includes(SUPERJSON_TYPE);
  const request = { input: superjson ? body : { json: body } } as RpcRequest;
  // The stub types the reply through its serialized form; it is the RpcReply the actor built.
  const reply = (await actor(c).rpcCall(check, method, request)) as unknown as RpcReply;
  if (!reply.ok) return errorJson(reply.error);
  const wantsSuperjson = (c.request.headers.get("accept") ?? "").includes(SUPERJSON_TYPE);
  return Response.json(wantsSuperjson ? reply.result : reply.result.json, { headers: NO_CACHE });
}

/**
 * `POST /rpc/push?update=<old>:<new>:<ref>[&update=…][&atomic=1]`: the body is the pack (none for
 * deletes only); the all-zero id means "no ref", as in git. Answers the per-ref result as JSON.
 */
async function pushPack(c: RouteContext): Promise<Response> {
  const commands = c.url.searchParams.getAll("update").map((u) => {
    const [old, next, ...ref] = u.split(":");
    if (!old || !next || !isOid(old) || !isOid(next) || ref.length === 0) throw rpcError("rpc-bad-input", "update is <old id>:<new id>:<ref>");
    const id = (o: Oid) => (o === ZERO_OID ? null : o);
    return { ref: ref.join(":"), old: id(old), new: id(next) };
  });
  const check = await admission(c, "write", mayCreate(c));
  const reply = await actor(c).push(check, { commands, atomic: c.url.searchParams.get("atomic") === "1" }, requestBody(c.request));
  if ("error" in reply) return errorJson(reply.error as RpcErrorBody);
  return Response.json(reply.result, { headers: NO_CACHE });
}

/** `POST /rpc/fetchPack` with `{ wants, haves?, ofsDelta?, thinPack? }`: answers the raw pack. */
async function fetchPackRoute(c: RouteContext): Promise<Response> {
  const check = await admission(c, "read", false);
  const input = await readJson(c.request, 1 << 20);
  const stub = actor(c);
  const reply = await stub.fetchPack(check, input as Parameters<typeof stub.fetchPack>[1]);
  if ("error" in reply) return errorJson(reply.error as RpcErrorBody);
  return new Response(reply.pack, { headers: { "content-type": "application/x-git-packfile", ...NO_CACHE } });
}

/** `POST /settings` with `{ visibility: "public" | "private" }`: needs admin on this repo. */
async function settings(c: RouteContext): Promise<Response> {
  const check = await admission(c, "admin", false);
  const body = (await readJson(c.request, 1 << 16, "bad-settings")) as { visibility?: unknown } | null;
  if (body?.visibility !== "public" && body?.visibility !== "private") throw new GitError("bad-settings", "visibility is \"public\" or \"private\"");
  const result = await actor(c).setVisibility(check, body.visibility);
  if ("error" in result) throw new GitError(result.error.code, result.error.message);
  return Response.json(result, { headers: NO_CACHE });
}

function errorJson(error: RpcErrorBody): Response {
  const status = statusOf(error.code);
  const challenge: Record<string, string> = status === 401 ? { "www-authenticate": 'Basic realm="edgegit"' } : {};
  return Response.json({ error }, { status, headers: { ...challenge, ...retryAfter(error.data), ...NO_CACHE } });
}

/** A 429's wait (`data.retryAfter`, seconds) as the header clients and git's curl read. */
function retryAfter(data: Readonly<Record<string, unknown>>): Record<string, string> {
  return typeof data.retryAfter === "number" ? { "retry-after": String(data.retryAfter) } : {};
}

function statusOf(code: string): number {
  return Object.hasOwn(RPC_ERROR_STATUS, code) ? RPC_ERROR_STATUS[code as keyof typeof RPC_ERROR_STATUS] : httpStatusFor(code);
}

function toResponse(e: unknown): Response {
  if (e instanceof GitError && e.code.startsWith("rpc-")) return errorJson(e.toJSON());
  if (e instanceof GitError) {
    const status = statusOf(e.code);
    // A 401 challenges for Basic credentials, so git asks its credential helper.
    const challenge: Record<string, string> = status === 401 ? { "www-authenticate": 'Basic realm="edgegit"' } : {};
    const headers = { "content-type": "text/plain; charset=utf-8", ...challenge, ...retryAfter(e.data), ...NO_CACHE };
    if (status < 500) return new Response(`${e.message}\n`, { status, headers });
  }
  console.error("gateway: internal error", e);
  return new Response("internal error\n", { status: 500, headers: { "content-type": "text/plain; charset=utf-8" } });
}
