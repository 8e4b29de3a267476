/**
 * The smart-HTTP gateway: a route table, owner/name validation on the raw path, one actor call per
 * request. It never parses packs.
 * Invariants:
 * - Errors become responses once, in `toResponse`; handlers throw `GitError`s.
 * - A repo is addressed only by its validated `owner/name`.
 * Spec: gitprotocol-http(5).
 */
import { getAgentByName } from "agents";
import { GitError } from "../../engine/index.ts";
import { httpStatusFor, parseRepoPath } from "../../protocol/index.ts";
import type { Env } from "../env.ts";
import type { GitReply } from "../repo/repo-actor.ts";

interface RouteContext {
  request: Request;
  env: Env;
  url: URL;
  owner: string;
  repo: string;
}

interface Route {
  method: "GET" | "POST";
  /** Matched against the path after `/<owner>/<repo>`. */
  suffix: string;
  handle(c: RouteContext): Promise<Response>;
}

const NO_CACHE = { "cache-control": "no-cache, max-age=0, must-revalidate", expires: "Fri, 01 Jan 1980 00:00:00 GMT", pragma: "no-cache" };

const ROUTES: readonly Route[] = [
  { method: "GET", suffix: "/info/refs", handle: infoRefs },
  { method: "POST", suffix: "/git-upload-pack", handle: (c) => service(c, "git-upload-pack") },
  { method: "POST", suffix: "/git-receive-pack", handle: (c) => service(c, "git-receive-pack") },
];

export async function handle(request: Request, env: Env, _ctx: ExecutionContext): Promise<Response> {
  try {
    const url = new URL(request.url);
    if (url.pathname === "/healthz") return new Response("ok\n");
    const m = /^\/([^/]*)\/([^/]*?)(\/.*)$/.exec(url.pathname);
    if (!m) throw new GitError("not-found", "not found");
    const route = ROUTES.find((r) => r.suffix === m[3]);
    if (!route) throw new GitError("not-found", "not found");
    const { owner, repo } = parseRepoPath(decodeSegment(m[1]!), decodeSegment(m[2]!));
    if (request.method !== route.method) throw new GitError("method-not-allowed", `${m[3]} needs ${route.method}`);
    return await route.handle({ request, env, url, owner, repo });
  } catch (e) {
    return toResponse(e);
  }
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new GitError("bad-repo-name", "bad percent-encoding in the repository path");
  }
}

function actor(c: RouteContext) {
  return getAgentByName(c.env.RepoActor, `${c.owner}/${c.repo}`);
}

function wantsV2(request: Request): boolean {
  return (request.headers.get("git-protocol") ?? "").split(":").includes("version=2");
}

async function infoRefs(c: RouteContext): Promise<Response> {
  const svc = c.url.searchParams.get("service");
  if (svc !== "git-upload-pack" && svc !== "git-receive-pack")
    throw new GitError("unsupported-service", "only smart HTTP is served: ask for ?service=git-upload-pack or git-receive-pack");
  const stub = await actor(c);
  const reply = await stub.gitInfoRefs(svc, wantsV2(c.request), c.env.AUTO_CREATE === "true");
  return gitResponse(reply, `application/x-${svc}-advertisement`);
}

async function service(c: RouteContext, svc: "git-upload-pack" | "git-receive-pack"): Promise<Response> {
  const type = c.request.headers.get("content-type");
  if (type !== `application/x-${svc}-request`) throw new GitError("unsupported-media-type", `expected Content-Type application/x-${svc}-request`);
  const body = requestBody(c.request);
  const stub = await actor(c);
  const reply = svc === "git-upload-pack" ? await stub.gitUploadPack(body, wantsV2(c.request)) : await stub.gitReceivePack(body, c.env.AUTO_CREATE === "true");
  return gitResponse(reply, `application/x-${svc}-result`);
}

function requestBody(request: Request): ReadableStream<Uint8Array> {
  const body = request.body ?? new ReadableStream<Uint8Array>({ start: (c) => c.close() });
  const encoding = (request.headers.get("content-encoding") ?? "").toLowerCase();
  if (encoding === "" || encoding === "identity") return body;
  if (encoding === "gzip" || encoding === "x-gzip") return body.pipeThrough(new DecompressionStream("gzip")) as ReadableStream<Uint8Array>;
  throw new GitError("unsupported-media-type", `unsupported Content-Encoding ${encoding}`);
}

function gitResponse(reply: GitReply, contentType: string): Response {
  if (!reply.ok) throw new GitError(reply.error.code, reply.error.message);
  return new Response(reply.body, { headers: { "content-type": contentType, ...NO_CACHE } });
}

function toResponse(e: unknown): Response {
  if (e instanceof GitError) {
    const status = httpStatusFor(e.code);
    if (status < 500) return new Response(`${e.message}\n`, { status, headers: { "content-type": "text/plain; charset=utf-8", ...NO_CACHE } });
  }
  console.error("gateway: internal error", e);
  return new Response("internal error\n", { status: 500, headers: { "content-type": "text/plain; charset=utf-8" } });
}
