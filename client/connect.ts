/**
 * `connect(baseUrl, owner, repo)`: a typed handle on one repository. RPC methods and ref
 * subscriptions travel over the repo actor's WebSocket (the agents SDK's AgentClient, which
 * reconnects with backoff); `push` and `fetchPack` stream packs over HTTP.
 * Invariants:
 * - Runs in Node 22 and browsers: `fetch` and `WebSocket` are options defaulting to the globals,
 *   and nothing here imports a Node or Workers module.
 * - The token, when given, goes with every call and never in a URL: as the socket's subprotocol
 *   `edgegit.token.<token>` (protocol/rpc/socket.ts), in each call's request, and as
 *   `Authorization: Bearer` over HTTP.
 * - An auth refusal is final, never a silent retry loop: a socket the server closes for a dead token
 *   (4001) or for a repo the caller may no longer read (4004), or one the server refuses (401, 403, 404, found by asking over HTTP), fails the client
 *   with that typed error: pending and later calls reject with it, and `onError` hears it.
 * - A call cut off by a disconnect rejects with `rpc-unavailable` (retryable); a call made while
 *   disconnected waits for the reconnect.
 */
import { AgentClient } from "agents/client";
import { GitError } from "../engine/errors.ts";
import {
  callRpc, createRpcApi, errorFromBody, PushOutput, REF_EVENT_FRAME, SOCKET_CLOSE_NOT_FOUND, SOCKET_CLOSE_TOKEN_DEAD, socketProtocols,
  type AnyRpcMethod, type FetchPackRequest, type PushRequest, type PushResult, type RpcApi, type RpcReply, type RpcRequest, type RpcTransport, type WirePayload,
} from "../protocol/rpc/index.ts";
import { SubscriptionSet, type RefEvent, type SubscribeOptions, type Subscription } from "./subscriptions.ts";

export interface ConnectOptions {
  /** Sent with every call and subscription. */
  token?: string;
  fetch?: typeof globalThis.fetch;
  WebSocket?: typeof globalThis.WebSocket;
  /** Milliseconds before a call gives up (default 30 s). */
  timeout?: number;
  /** Failures with no caller to report to, e.g. re-subscribing after a reconnect (default console.warn). */
  onError?: (error: unknown) => void;
  /**
   * Reconnection, in milliseconds: backoff between attempts (PartySocket's defaults, 1–10 s) and
   * how long one attempt may take to open (default 4 s).
   */
  reconnect?: { minDelay?: number; maxDelay?: number; connectionTimeout?: number };
}

export interface RepoClient extends RpcApi {
  /** Resolves when the socket is open and the actor has greeted it. */
  readonly ready: Promise<void>;
  /** Calls `handler` for every ref change under `prefix`, in commit order, across reconnects. */
  subscribe(prefix: string, handler: (event: RefEvent) => void, options?: SubscribeOptions): Promise<Subscription>;
  /** Pushes a pack with ref commands (all-or-nothing with `atomic`), as `git push` would. */
  push(commands: PushRequest["commands"], pack: Uint8Array | ReadableStream<Uint8Array>, options?: { atomic?: boolean }): Promise<PushResult>;
  /** The pack for these wants and haves, as raw pack bytes. */
  fetchPack(input: FetchPackRequest): Promise<ReadableStream<Uint8Array>>;
  close(): void;
}

export function connect(baseUrl: string, owner: string, repo: string, options: ConnectOptions = {}): RepoClient {
  const base = new URL(baseUrl);
  const repoPath = [base.pathname.replace(/^\/+|\/+$/g, ""), encodeURIComponent(owner), encodeURIComponent(repo)].filter((p) => p !== "").join("/");
  const httpBase = `${base.origin}/${repoPath}`;
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const token = options.token;

  const socket = new AgentClient({
    agent: "RepoActor",
    host: base.host,
    protocol: base.protocol === "https:" ? "wss" : "ws",
    basePath: `${repoPath}/ws`,
    // The token travels as a subprotocol, never in the URL: URLs end up in logs and traces.
    protocols: socketProtocols(token),
    ...(options.WebSocket ? { WebSocket: options.WebSocket } : {}),
    defaultCallTimeout: options.timeout ?? 30_000,
    ...(options.reconnect?.minDelay !== undefined ? { minReconnectionDelay: options.reconnect.minDelay } : {}),
    ...(options.reconnect?.maxDelay !== undefined ? { maxReconnectionDelay: options.reconnect.maxDelay } : {}),
    ...(options.reconnect?.connectionTimeout !== undefined ? { connectionTimeout: options.reconnect.connectionTimeout } : {}),
  });

  const report = options.onError ?? ((e: unknown) => console.warn("edgegit client:", e));
  const auth: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};

  // Set once, when the server refuses us for good; every call after that rejects with it.
  let fatal: GitError | undefined;
  let rejectFatal!: (e: GitError) => void;
  const fatalPromise = new Promise<never>((_, reject) => (rejectFatal = reject));
  fatalPromise.catch(() => undefined);
  const fail = (e: GitError) => {
    if (fatal) return;
    fatal = e;
    rejectFatal(e);
    socket.close();
    report(e);
  };
  /** A socket that closed may have been refused: the same request over HTTP says why. */
  const probe = async () => {
    try {
      const res = await doFetch(`${httpBase}/rpc/refs`, { method: "POST", headers: { "content-type": "application/json", ...auth }, body: "{}" });
      if (res.status === 401 || res.status === 403 || res.status === 404) fail(errorFromBody(((await res.json()) as ErrorJson).error!));
    } catch {
      // The network is down, not the token: keep reconnecting.
    }
  };
  socket.addEventListener("close", (ev: CloseEvent) => {
    if (ev.code === SOCKET_CLOSE_TOKEN_DEAD) fail(new GitError("unauthorized", ev.reason || "the token was revoked or expired"));
    else if (ev.code === SOCKET_CLOSE_NOT_FOUND) fail(new GitError("repo-not-found", ev.reason || "repository not found"));
    else if (!fatal) void probe();
  });

  const transport: RpcTransport = async (method: AnyRpcMethod, request: RpcRequest) => {
    if (fatal) throw fatal;
    try {
      return (await Promise.race([socket.call(method, [request]), fatalPromise])) as RpcReply;
    } catch (e) {
      if (e instanceof GitError && e === fatal) throw e;
      const message = e instanceof Error ? e.message : String(e);
      throw new GitError("rpc-unavailable", `${method}: ${message}`, { retryable: true, cause: e });
    }
  };

  const subs = new SubscriptionSet(
    (input) => callRpc(transport, "subscribe", input, token),
    async (id) => void (await callRpc(transport, "unsubscribe", { id }, token)),
    () => socket.readyState === socket.OPEN,
  );
  socket.addEventListener("open", () => {
    // A resume that fails (the socket dropped again) is retried on the next open.
    subs.resumeAll().catch(report);
  });
  socket.addEventListener("message", (ev: MessageEvent) => {
    if (typeof ev.data !== "string") return;
    const frame = parseFrame(ev.data);
    if (frame?.type === REF_EVENT_FRAME) subs.deliver(frame.sub, frame.event);
  });

  return {
    ...createRpcApi(transport, () => token),
    get ready() {
      return Promise.race([socket.ready, fatalPromise]);
    },
    // A subscription made while the socket is down waits for it to open: unless we are refused.
    subscribe: (prefix, handler, opts = {}) => (fatal ? Promise.reject(fatal) : Promise.race([subs.add(prefix, handler, opts), fatalPromise])),
    async push(commands, pack, opts = {}) {
      const q = new URLSearchParams(commands.map((c) => ["update", `${c.old ?? ZERO}:${c.new ?? ZERO}:${c.ref}`]));
      if (opts.atomic) q.set("atomic", "1");
      const res = await doFetch(`${httpBase}/rpc/push?${q}`, {
        method: "POST",
        headers: { "content-type": "application/x-git-packfile", ...auth },
        body: pack,
        ...(pack instanceof ReadableStream ? { duplex: "half" } : {}),
      } as RequestInit);
      return PushOutput.parse(await jsonOrThrow(res));
    },
    async fetchPack(input) {
      const res = await doFetch(`${httpBase}/rpc/fetchPack`, { method: "POST", headers: { "content-type": "application/json", ...auth }, body: JSON.stringify(input) });
      if (!res.ok || !res.body) await jsonOrThrow(res);
      return res.body!;
    },
    close: () => socket.close(),
  };
}

const ZERO = "0".repeat(40);

/** Other frames (RPC replies, the SDK's own) are the AgentClient's business. */
function parseFrame(text: string): { type?: unknown; sub: string; event: WirePayload } | null {
  try {
    return JSON.parse(text) as { type?: unknown; sub: string; event: WirePayload };
  } catch {
    return null; // not JSON: not one of ours
  }
}

type ErrorJson = { error?: Parameters<typeof errorFromBody>[0] };

async function jsonOrThrow(res: Response): Promise<unknown> {
  const text = await res.text();
  let body: ErrorJson | null;
  try {
    body = JSON.parse(text) as ErrorJson | null;
  } catch (e) {
    throw new GitError("rpc-unavailable", `HTTP ${res.status}: ${text.slice(0, 200)}`, { retryable: res.status >= 500, cause: e });
  }
  if (res.ok && body) return body;
  if (body?.error) throw errorFromBody(body.error);
  throw new GitError("rpc-unavailable", `HTTP ${res.status} from the server`, { retryable: res.status >= 500 });
}
