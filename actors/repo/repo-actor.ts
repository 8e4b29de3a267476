/**
 * RepoActor: one repository, one SQLite-backed Durable Object on the agents SDK. It owns the refs,
 * HEAD and the object index; packs live in R2. Methods are thin: check, call a plain function, reply.
 * Invariants:
 * - A repository exists once `meta.created` is set (by its first push or commit); reads of a missing
 *   one answer `repo-not-found` and create nothing.
 * - Git replies are byte streams; errors found before streaming are `{ error }` replies.
 * - Every typed RPC method (protocol/rpc/methods.ts) is one `@callable` method taking the wire
 *   request: the same method serves the WebSocket, the DO stub and the gateway's JSON route.
 * - Every ref move (push, commit, branch and tag calls) is published to subscribers after its
 *   transaction, in `ref_log` order; clients never write the actor's state.
 * - Every method the gateway calls is `async`: the agents SDK starts a cold actor's lifecycle before
 *   an async method called over native RPC, so the gateway makes no start-up call of its own.
 */
import { Agent, callable, getCurrentAgent, type Connection, type ConnectionContext } from "agents";
import { GitError, ObjectReader, fromReadableStream, limitBytes, toReadableStream } from "../../engine/index.ts";
import {
  FetchPackInput, PushInput, rpcError,
  type FetchPackRequest, type PushRequest, type PushResult, type RpcErrorBody, type RpcMethod, type RpcParsedInput, type RpcReply, type RpcRequest, type RpcResult,
} from "../../protocol/rpc/index.ts";
import type { Env } from "../env.ts";
import { R2PackReader } from "../r2/r2-pack-reader.ts";
import { advertiseRefs } from "./advertise.ts";
import { limitsFromEnv, type RepoLimits } from "./limits.ts";
import type { PackContext } from "./pack-response.ts";
import { receivePack, type ReceivePackContext } from "./receive-pack.ts";
import { RepoStore } from "./repo-store.ts";
import { createBranch, createTag, deleteBranch } from "./rpc/branches.ts";
import { commit } from "./rpc/commit.ts";
import type { RpcContext } from "./rpc/context.ts";
import { diff } from "./rpc/diff.ts";
import { dispatch, errorBody, parseInput } from "./rpc/dispatch.ts";
import { fetchPack } from "./rpc/fetch-pack.ts";
import { listTree, readBlob } from "./rpc/files.ts";
import { grep } from "./rpc/grep.ts";
import { log } from "./rpc/log.ts";
import { push } from "./rpc/push.ts";
import { eventsBySeq, trimRefLog } from "./rpc/ref-log.ts";
import { listRefs, resolve } from "./rpc/refs.ts";
import { deliver, rememberToken, subscribe, tokenOfConnection, unsubscribe } from "./rpc/subscriptions.ts";
import { authenticateToken, authorize, type AccessCheck, type Visibility } from "../auth/access.ts";
import { uploadPackV0, uploadPackV2 } from "./upload-pack.ts";

/** Set by the gateway on a WebSocket upgrade: the id of the token it verified (never the token). */
export const TOKEN_ID_HEADER = "x-edgegit-token-id";
/** The path the gateway opens every socket with; the client's own path never reaches the SDK. */
export const ACTOR_SOCKET_PATH = "/ws";
const TOKEN_RECHECK_SECONDS = 5;
const WRITE_METHODS: ReadonlySet<string> = new Set(["commit", "createBranch", "deleteBranch", "createTag"]);

export type GitReply = { ok: true; body: ReadableStream<Uint8Array> } | { ok: false; error: { code: string; message: string } };
export type PushReply = { ok: true; result: PushResult } | { ok: false; error: RpcErrorBody };
export type FetchPackReply = { ok: true; pack: ReadableStream<Uint8Array> } | { ok: false; error: RpcErrorBody };

type Handler<M extends RpcMethod> = (ctx: RpcContext, input: RpcParsedInput<M>) => RpcResult<M> | Promise<RpcResult<M>>;

export class RepoActor extends Agent<Env> {
  #store: RepoStore | undefined;
  #objects: ObjectReader | undefined;

  get store(): RepoStore {
    return (this.#store ??= new RepoStore(this.ctx.storage));
  }

  get objects(): ObjectReader {
    return (this.#objects ??= new ObjectReader(this.store, new R2PackReader(this.env.PACKS)));
  }

  get limits(): RepoLimits {
    return limitsFromEnv(this.env as unknown as Record<string, unknown>);
  }

  #exists(): boolean {
    return this.store.getMeta("created") !== undefined;
  }

  #packContext(): PackContext {
    return { store: this.store, objects: this.objects, packs: new R2PackReader(this.env.PACKS) };
  }

  /** What both writers (git push and the typed RPC) work with. */
  #storeContext(): Pick<RpcContext, "store" | "objects" | "bucket" | "repoId" | "limits"> {
    return { store: this.store, objects: this.objects, bucket: this.env.PACKS, repoId: this.ctx.id.toString(), limits: this.limits };
  }

  #receivePackContext(): ReceivePackContext {
    return {
      ...this.#storeContext(),
      onRefUpdates: (updates) => {
        trimRefLog(this.store);
        this.#publish(updates.map((u) => u.seq));
      },
    };
  }

  #rpcContext(): RpcContext {
    return {
      ...this.#storeContext(),
      mayCreate: this.env.AUTO_CREATE === "true",
      publish: (seqs) => this.#publish(seqs),
      packs: new R2PackReader(this.env.PACKS),
    };
  }

  #publish(seqs: readonly number[]): void {
    deliver(this.getConnections(), eventsBySeq(this.store, seqs));
  }

  /** State is the server's alone: a client's state frame is refused. */
  validateStateChange(_next: unknown, source: Connection | "server"): void {
    if (source !== "server") throw new GitError("rpc-bad-input", "clients cannot write the repository's state");
  }

  // --- git smart HTTP -----------------------------------------------------
  // Each entry the gateway calls takes the access check it could not settle alone (null: the token
  // did) and runs it first. These methods are not `@callable`: a socket client cannot reach them.

  /** `GET info/refs`. A missing repo advertises nothing to a pusher that may create it. */
  async gitInfoRefs(check: AccessCheck | null, service: "git-upload-pack" | "git-receive-pack", v2: boolean, mayCreate: boolean): Promise<GitReply> {
    return reply(async () => {
      this.#admit(check);
      if (!this.#exists() && !(service === "git-receive-pack" && mayCreate)) throw notFound();
      return (async function* (chunks: Uint8Array[]) {
        yield* chunks;
      })(advertiseRefs(this.store, service, v2));
    });
  }

  async gitUploadPack(check: AccessCheck | null, body: ReadableStream<Uint8Array>, v2: boolean): Promise<GitReply> {
    return reply(async () => {
      this.#admit(check);
      if (!this.#exists()) throw notFound();
      const src = limitBytes(fromReadableStream(body), this.limits.maxNegotiationBytes, "the upload-pack request");
      return v2 ? uploadPackV2(this.#packContext(), src) : uploadPackV0(this.#packContext(), src);
    });
  }

  async gitReceivePack(check: AccessCheck | null, body: ReadableStream<Uint8Array>, mayCreate: boolean): Promise<GitReply> {
    return reply(async () => {
      this.#admit(check);
      this.#createIfAllowed(mayCreate);
      // The pack has its own limit; this bounds the commands in front of it too.
      return receivePack(this.#receivePackContext(), limitBytes(fromReadableStream(body), this.limits.maxPackBytes + (16 << 20), "the push"));
    });
  }

  #createIfAllowed(mayCreate: boolean) {
    if (this.#exists()) return;
    if (!mayCreate) throw notFound();
    this.store.setMeta("created", new Date().toISOString());
    this.store.setMeta("visibility", this.env.DEFAULT_VISIBILITY === "private" ? "private" : "public");
  }

  // --- access ---------------------------------------------------------------

  /** Whether the repo exists and who may read it, for gateway routes whose entry takes no check. */
  async access(): Promise<{ exists: boolean; visibility: Visibility }> {
    return this.#access();
  }

  #access(): { exists: boolean; visibility: Visibility } {
    return { exists: this.#exists(), visibility: this.#visibility() };
  }

  /** Finishes the gateway's access check with this repo's meta; throws the refusal. */
  #admit(check: AccessCheck | null): void {
    if (check) authorize(this.env, check.caller, check.need, this.name, this.#access());
  }

  #visibility(): Visibility {
    const v = this.store.getMeta("visibility") ?? this.env.DEFAULT_VISIBILITY;
    return v === "private" ? "private" : "public";
  }

  /** Changes visibility; the gateway has checked the caller's admin scope on this repo. */
  async setVisibility(visibility: Visibility): Promise<{ visibility: Visibility } | { error: { code: string; message: string } }> {
    if (!this.#exists()) return { error: { code: "repo-not-found", message: "repository not found" } };
    this.store.setMeta("visibility", visibility);
    return { visibility };
  }

  /**
   * Socket calls reach the actor without the gateway: a write there is checked here, against the
   * token the call carries.
   */
  async #checkSocketWrite(token: string | undefined): Promise<void> {
    const { connection } = getCurrentAgent();
    if (!connection) return; // DO stub calls come from the gateway, which has checked
    authorize(this.env, await authenticateToken(token, this.env), "write", this.name, this.#access());
  }

  /**
   * Only the gateway's socket reaches the SDK: it opens every socket with the path `/ws`, so any
   * other path (the SDK's `/sub/<class>/<name>` sub-agent routes, say) is not ours and is 404.
   */
  override async fetch(request: Request): Promise<Response> {
    if (new URL(request.url).pathname !== ACTOR_SOCKET_PATH) return new Response("not found\n", { status: 404 });
    return super.fetch(request);
  }

  /** Sub-agents are never served (see `fetch`); this refuses them should a path get through anyway. */
  override async onBeforeSubAgent(): Promise<Response> {
    return new Response("not found\n", { status: 404 });
  }

  /**
   * The gateway forwards a verified token's id with the upgrade; a revocation then ends the socket.
   * Never throws: partyserver would send the error's stack (server file paths) to the client.
   */
  async onConnect(connection: Connection, ctx: ConnectionContext): Promise<void> {
    try {
      const tokenId = ctx.request.headers.get(TOKEN_ID_HEADER);
      if (!tokenId) return;
      rememberToken(connection, tokenId);
      await this.scheduleEvery(TOKEN_RECHECK_SECONDS, "recheckTokens");
    } catch (e) {
      console.error("repo actor: socket set-up failed", e);
      connection.close(1011, "internal error");
    }
  }

  /**
   * Closes sockets whose token was revoked or expired; once no open socket carries a token, the
   * job cancels itself. Schedules are read with the SDK's async `listSchedules`: its synchronous
   * `getSchedules` throws wherever the SDK routes schedules (a sub-agent copy of this actor threw
   * every 5 s, for good, before those were made unreachable).
   */
  async recheckTokens(): Promise<void> {
    const store = this.env.TokenStore.get(this.env.TokenStore.idFromName("tokens"));
    let open = 0;
    for (const conn of this.getConnections()) {
      const tokenId = tokenOfConnection(conn);
      if (!tokenId) continue;
      if (await store.isLive(tokenId)) open++;
      else conn.close(4001, "token revoked or expired");
    }
    if (open > 0) return;
    for (const s of await this.listSchedules({ type: "interval" })) if (s.callback === "recheckTokens") await this.cancelSchedule(s.id);
    // A token socket that connected during the awaits above scheduled the job we just cancelled.
    if ([...this.getConnections()].some((c) => tokenOfConnection(c))) await this.scheduleEvery(TOKEN_RECHECK_SECONDS, "recheckTokens");
  }

  // --- typed RPC (protocol/rpc/methods.ts): WebSocket, DO stub, gateway JSON ----

  /** Every method but `commit` (which may create the repository) needs it to exist. */
  async #rpc<M extends RpcMethod>(method: M, request: RpcRequest, handler: Handler<M>): Promise<RpcReply> {
    if (WRITE_METHODS.has(method)) {
      try {
        await this.#checkSocketWrite(request?.token);
      } catch (e) {
        return { ok: false, error: errorBody(e, method) };
      }
    }
    return dispatch(method, request, (input) => {
      if (method !== "commit" && !this.#exists()) throw notFound();
      return handler(this.#rpcContext(), input);
    });
  }

  @callable()
  async refs(request: RpcRequest): Promise<RpcReply> {
    return this.#rpc("refs", request, listRefs);
  }

  @callable()
  async resolve(request: RpcRequest): Promise<RpcReply> {
    return this.#rpc("resolve", request, resolve);
  }

  @callable()
  async log(request: RpcRequest): Promise<RpcReply> {
    return this.#rpc("log", request, log);
  }

  @callable()
  async tree(request: RpcRequest): Promise<RpcReply> {
    return this.#rpc("tree", request, listTree);
  }

  @callable()
  async blob(request: RpcRequest): Promise<RpcReply> {
    return this.#rpc("blob", request, readBlob);
  }

  @callable()
  async diff(request: RpcRequest): Promise<RpcReply> {
    return this.#rpc("diff", request, diff);
  }

  @callable()
  async grep(request: RpcRequest): Promise<RpcReply> {
    return this.#rpc("grep", request, grep);
  }

  @callable()
  async commit(request: RpcRequest): Promise<RpcReply> {
    return this.#rpc("commit", request, commit);
  }

  @callable()
  async createBranch(request: RpcRequest): Promise<RpcReply> {
    return this.#rpc("createBranch", request, createBranch);
  }

  @callable()
  async deleteBranch(request: RpcRequest): Promise<RpcReply> {
    return this.#rpc("deleteBranch", request, deleteBranch);
  }

  @callable()
  async createTag(request: RpcRequest): Promise<RpcReply> {
    return this.#rpc("createTag", request, createTag);
  }

  // --- live ref events (WebSocket only) -----------------------------------

  @callable()
  async subscribe(request: RpcRequest): Promise<RpcReply> {
    return dispatch("subscribe", request, (input) => subscribe(this.store, currentConnection(), input));
  }

  @callable()
  async unsubscribe(request: RpcRequest): Promise<RpcReply> {
    return dispatch("unsubscribe", request, (input) => unsubscribe(currentConnection(), input));
  }

  // --- pack streams (DO stub only) ----------------------------------------

  /** Typed receive-pack: ref commands plus a pack stream, through the same engine as `git push`. */
  async push(check: AccessCheck | null, input: PushRequest, pack: ReadableStream<Uint8Array>): Promise<PushReply> {
    try {
      this.#admit(check);
      this.#createIfAllowed(this.env.AUTO_CREATE === "true");
      const parsed = parseInput(PushInput, input, "push");
      const body = limitBytes(fromReadableStream(pack), this.limits.maxPackBytes, "the pushed pack");
      return { ok: true, result: await push(this.#receivePackContext(), parsed, body) };
    } catch (e) {
      return { ok: false, error: errorBody(e, "push") };
    }
  }

  /** The pack for these wants and haves, as raw pack bytes. */
  async fetchPack(input: FetchPackRequest): Promise<FetchPackReply> {
    try {
      if (!this.#exists()) throw notFound();
      const pack = await fetchPack(this.#rpcContext(), this.#packContext(), parseInput(FetchPackInput, input, "fetchPack"));
      return { ok: true, pack: toReadableStream(pack) };
    } catch (e) {
      return { ok: false, error: errorBody(e, "fetchPack") };
    }
  }
}

function currentConnection(): Connection {
  const { connection } = getCurrentAgent();
  if (!connection) throw rpcError("rpc-bad-input", "subscriptions need the repository's WebSocket");
  return connection;
}

function notFound() {
  return new GitError("repo-not-found", "repository not found");
}

async function reply(start: () => Promise<AsyncIterable<Uint8Array>>): Promise<GitReply> {
  try {
    return { ok: true, body: toReadableStream(await start()) };
  } catch (e) {
    if (e instanceof GitError) return { ok: false, error: { code: e.code, message: e.message } };
    throw e;
  }
}
