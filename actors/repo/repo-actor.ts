/**
 * RepoActor: one repository, one SQLite-backed Durable Object on the agents SDK. It owns the refs,
 * HEAD and the object index; packs live in R2. Methods are thin: check, call a plain function, reply.
 * Invariants:
 * - A repository exists once `meta.created` is set (by its first push or commit), and its name is
 *   in the RepoDirectory before that: the gateway refuses reads of unlisted names without waking
 *   this actor, since a wake alone creates its database.
 * - Reads of a missing repo answer `repo-not-found`.
 * - Git replies are byte streams; errors found before streaming are `{ error }` replies.
 * - Every typed RPC method (protocol/rpc/methods.ts) is one `@callable` method taking the wire
 *   request: the same method serves the WebSocket, the DO stub and the gateway's JSON route.
 * - Every ref move (push, commit, branch and tag calls) is published to subscribers after its
 *   transaction, in `ref_log` order; clients never write the actor's state.
 * - Every read is judged by `authorize` when it happens: an HTTP entry with the gateway's check, a
 *   socket call or event with the caller the socket was opened by (socket-caller.ts). Whatever
 *   takes read access away (visibility, a revoked token) closes the sockets that lost it in the
 *   same step: SOCKET_CLOSE_NOT_FOUND (4004) and SOCKET_CLOSE_TOKEN_DEAD (4001).
 * - Every method the gateway calls is `async`: the agents SDK starts a cold actor's lifecycle before
 *   an async method called over native RPC, so the gateway makes no start-up call of its own.
 */
import { Agent, callable, getCurrentAgent, type Connection, type ConnectionContext } from "agents";
import { GitError, ObjectReader, fromReadableStream, limitBytes, toReadableStream } from "../../engine/index.ts";
import {
  FetchPackInput, PushInput, SOCKET_CLOSE_NOT_FOUND, SOCKET_CLOSE_TOKEN_DEAD, rpcCost, rpcError,
  type FetchPackRequest, type PushRequest, type PushResult, type RpcErrorBody, type RpcMethod, type RpcParsedInput, type RpcReply, type RpcRequest, type RpcResult,
} from "../../protocol/rpc/index.ts";
import type { Env } from "../env.ts";
import { R2PackReader } from "../r2/r2-pack-reader.ts";
import { advertiseRefs } from "./advertise.ts";
import { expensiveCallsFromEnv, type ExpensiveCalls } from "./expensive-calls.ts";
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
import { deliver, subscribe, unsubscribe } from "./rpc/subscriptions.ts";
import { BOOTSTRAP_TOKEN_ID, authenticateToken, authorize, type AccessCheck, type Caller, type Visibility } from "../auth/access.ts";
import { repoDirectory } from "./repo-directory.ts";
import {
  CALLER_HEADER, RATE_KEY_HEADER, callerOfConnection, decodeCaller, markRevoked, rateKeyOfConnection, rememberCaller,
  tokenOfConnection,
} from "./socket-caller.ts";
import { chargeKey } from "../gateway/rate-limit.ts";
import { uploadPackV0, uploadPackV2 } from "./upload-pack.ts";

export { CALLER_HEADER, RATE_KEY_HEADER } from "./socket-caller.ts";
/** Set on the actor's refusal of a socket upgrade, so the gateway answers it as its own refusal. */
export const REFUSAL_HEADER = "x-edgegit-refused";
/** The path the gateway opens every socket with; the client's own path never reaches the SDK. */
export const ACTOR_SOCKET_PATH = "/ws";
const TOKEN_RECHECK_SECONDS = 5;
const WRITE_METHODS: ReadonlySet<string> = new Set(["commit", "createBranch", "deleteBranch", "createTag"]);

export type GitReply = { ok: true; body: ReadableStream<Uint8Array> } | { ok: false; error: { code: string; message: string } };
export type PushReply = { ok: true; result: PushResult } | { ok: false; error: RpcErrorBody };
export type FetchPackReply = { ok: true; pack: ReadableStream<Uint8Array> } | { ok: false; error: RpcErrorBody };

type Handler<M extends RpcMethod> = (ctx: RpcContext, input: RpcParsedInput<M>) => RpcResult<M> | Promise<RpcResult<M>>;

const HANDLERS: { [M in RpcMethod]: Handler<M> } = {
  refs: listRefs, resolve, log, tree: listTree, blob: readBlob, diff, grep, commit, createBranch, deleteBranch, createTag,
};

export class RepoActor extends Agent<Env> {
  #store: RepoStore | undefined;
  #objects: ObjectReader | undefined;
  #expensive: ExpensiveCalls | undefined;

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
    const access = this.#access();
    deliver(this.getConnections(), eventsBySeq(this.store, seqs), (conn) => this.#mayRead(conn, access));
  }

  /** Whether this socket's caller may read the repo now: the same `authorize` as every HTTP read. */
  #mayRead(conn: Connection, access = this.#access()): boolean {
    try {
      authorize(this.env, callerOfConnection(conn, Date.now()), "read", this.name, access);
      return true;
    } catch (e) {
      if (e instanceof GitError) return false;
      throw e;
    }
  }

  /**
   * Closes every socket whose caller may no longer read, right after the change that took the
   * access away and before any other event runs (the actor is single-threaded).
   */
  #closeUnreadable(): void {
    const access = this.#access();
    for (const conn of this.getConnections()) {
      if (this.#mayRead(conn, access)) continue;
      const dead = callerOfConnection(conn, Date.now()).kind === "bad-token";
      conn.close(dead ? SOCKET_CLOSE_TOKEN_DEAD : SOCKET_CLOSE_NOT_FOUND, dead ? "token revoked or expired" : "repository not found");
    }
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
      await this.#createIfAllowed(mayCreate);
      // The pack has its own limit; this bounds the commands in front of it too.
      return receivePack(this.#receivePackContext(), limitBytes(fromReadableStream(body), this.limits.maxPackBytes + (16 << 20), "the push"));
    });
  }

  async #createIfAllowed(mayCreate: boolean): Promise<void> {
    if (this.#exists()) return;
    if (!mayCreate) throw notFound();
    await this.#list();
    this.store.setMeta("created", new Date().toISOString());
    this.store.setMeta("visibility", this.env.DEFAULT_VISIBILITY === "private" ? "private" : "public");
  }

  /** Lists this repo's name in the RepoDirectory, once (repos made before it existed list on start). */
  async #list(): Promise<void> {
    if (this.store.getMeta("listed") !== undefined) return;
    await repoDirectory(this.env.RepoDirectory).add(this.name);
    this.store.setMeta("listed", "1");
  }

  /** A repo created before the RepoDirectory existed lists itself the first time it wakes. */
  override async onStart(): Promise<void> {
    try {
      if (this.#exists()) await this.#list();
    } catch (e) {
      // Not fatal: the repo still serves whoever reaches it, and the next wake lists it.
      console.error("repo actor: could not list this repo in the directory", e);
    }
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

  /**
   * Changes visibility (the caller needs admin on this repo), and in the same step closes every
   * socket whose caller could read only because the repo was public.
   */
  async setVisibility(check: AccessCheck | null, visibility: Visibility): Promise<{ visibility: Visibility } | { error: { code: string; message: string } }> {
    try {
      this.#admit(check);
    } catch (e) {
      if (e instanceof GitError) return { error: { code: e.code, message: e.message } };
      throw e;
    }
    if (!this.#exists()) return { error: { code: "repo-not-found", message: "repository not found" } };
    this.store.setMeta("visibility", visibility);
    this.#closeUnreadable();
    return { visibility };
  }

  /** The TokenStore revoked this token: its sockets here lose every read now, and close. */
  async tokenRevoked(tokenId: string): Promise<void> {
    for (const conn of this.getConnections()) if (tokenOfConnection(conn) === tokenId) markRevoked(conn);
    this.#closeUnreadable();
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
    // The upgrade is a read: refused here, before a socket exists, with the answer any read gets.
    try {
      authorize(this.env, decodeCaller(request.headers.get(CALLER_HEADER)), "read", this.name, this.#access());
    } catch (e) {
      if (!(e instanceof GitError)) throw e;
      return Response.json({ code: e.code, message: e.message }, { status: 403, headers: { [REFUSAL_HEADER]: "1" } });
    }
    return super.fetch(request);
  }

  /** Sub-agents are never served (see `fetch`); this refuses them should a path get through anyway. */
  override async onBeforeSubAgent(): Promise<Response> {
    return new Response("not found\n", { status: 404 });
  }

  /**
   * Remembers the caller the gateway verified for the upgrade. A token socket is registered with
   * the TokenStore, so a revocation reaches it at once; reads on it wait for that registration.
   * Never throws: partyserver would send the error's stack (server file paths) to the client.
   */
  async onConnect(connection: Connection, ctx: ConnectionContext): Promise<void> {
    try {
      const caller = decodeCaller(ctx.request.headers.get(CALLER_HEADER));
      rememberCaller(connection, caller, ctx.request.headers.get(RATE_KEY_HEADER));
      if (caller.kind !== "token" || caller.principal.tokenId === BOOTSTRAP_TOKEN_ID) return;
      const registered = this.#watch(connection, caller);
      this.#registering.set(connection.id, registered);
      await registered;
    } catch (e) {
      console.error("repo actor: socket set-up failed", e);
      connection.close(1011, "internal error");
    }
  }

  /** Sockets whose token registration is under way: their reads wait for it. */
  #registering = new Map<string, Promise<void>>();

  async #watch(connection: Connection, caller: Extract<Caller, { kind: "token" }>): Promise<void> {
    try {
      const live = await this.#tokenStore().watch(caller.principal.tokenId, this.name);
      if (!live) {
        markRevoked(connection);
        connection.close(SOCKET_CLOSE_TOKEN_DEAD, "token revoked or expired");
        return;
      }
      // Expiry is judged on every read; the re-check job closes such sockets, and backs up a missed notice.
      await this.scheduleEvery(TOKEN_RECHECK_SECONDS, "recheckTokens");
    } catch (e) {
      console.error("repo actor: socket set-up failed", e);
      markRevoked(connection);
      connection.close(1011, "internal error");
    } finally {
      this.#registering.delete(connection.id);
    }
  }

  #tokenStore() {
    return this.env.TokenStore.get(this.env.TokenStore.idFromName("tokens"));
  }

  /** A token socket that closed: the TokenStore need not tell this repo about that token any more. */
  override async onClose(connection: Connection): Promise<void> {
    const tokenId = tokenOfConnection(connection);
    if (!tokenId || tokenId === BOOTSTRAP_TOKEN_ID) return;
    if ([...this.getConnections()].some((c) => c.id !== connection.id && tokenOfConnection(c) === tokenId)) return;
    try {
      await this.#tokenStore().unwatch(tokenId, this.name);
    } catch (e) {
      console.warn("repo actor: could not unregister a closed token socket (a revocation will only find nothing)", e);
    }
  }

  /**
   * Closes sockets whose token was revoked or expired; once no open socket carries a token, the
   * job cancels itself. Schedules are read with the SDK's async `listSchedules`: its synchronous
   * `getSchedules` throws wherever the SDK routes schedules (a sub-agent copy of this actor threw
   * every 5 s, for good, before those were made unreachable).
   */
  async recheckTokens(): Promise<void> {
    const store = this.#tokenStore();
    let open = 0;
    for (const conn of this.getConnections()) {
      const tokenId = tokenOfConnection(conn);
      if (!tokenId || tokenId === BOOTSTRAP_TOKEN_ID) continue;
      if (callerOfConnection(conn, Date.now()).kind === "token" && (await store.isLive(tokenId))) open++;
      else {
        markRevoked(conn);
        conn.close(SOCKET_CLOSE_TOKEN_DEAD, "token revoked or expired");
      }
    }
    if (open > 0) return;
    for (const s of await this.listSchedules({ type: "interval" })) if (s.callback === "recheckTokens") await this.cancelSchedule(s.id);
    // A token socket that connected during the awaits above scheduled the job we just cancelled.
    if ([...this.getConnections()].some((c) => tokenOfConnection(c) && tokenOfConnection(c) !== BOOTSTRAP_TOKEN_ID))
      await this.scheduleEvery(TOKEN_RECHECK_SECONDS, "recheckTokens");
  }

  // --- typed RPC (protocol/rpc/methods.ts): WebSocket, DO stub, gateway JSON ----

  /**
   * An RPC call from the gateway's HTTP route (not `@callable`: a socket cannot reach it), judged
   * with the check the gateway could not settle alone.
   */
  async rpcCall(check: AccessCheck | null, method: RpcMethod, request: RpcRequest): Promise<RpcReply> {
    if (!Object.hasOwn(HANDLERS, method)) return { ok: false, error: errorBody(rpcError("rpc-unknown-method", "no such method"), method) };
    try {
      this.#admit(check);
    } catch (e) {
      return { ok: false, error: errorBody(e, method) };
    }
    return this.#run(method, request);
  }

  /**
   * A `@callable` call. Over a socket, a read is judged against the socket's caller now and a
   * write against the token the call carries; a DO stub call (no socket) comes from our own code.
   */
  async #rpc(method: RpcMethod, request: RpcRequest): Promise<RpcReply> {
    try {
      if (WRITE_METHODS.has(method)) await this.#checkSocketWrite(request?.token);
      else await this.#checkSocketRead();
      // A socket's calls spend the budgets of the caller who opened it, as HTTP calls do at the gateway.
      const { connection } = getCurrentAgent();
      if (connection) await chargeKey(this.env, rateKeyOfConnection(connection), rpcCost(method, WRITE_METHODS.has(method), request?.input));
    } catch (e) {
      return { ok: false, error: errorBody(e, method) };
    }
    return this.#run(method, request);
  }

  /**
   * Every method but `commit` (which may create the repository) needs it to exist. Expensive reads
   * (grep, diff, log of a path) run within the repo's cap on such calls in flight, on every transport.
   */
  #run<M extends RpcMethod>(method: M, request: RpcRequest): Promise<RpcReply> {
    const handler = HANDLERS[method] as Handler<M>;
    return dispatch(method, request, async (input) => {
      if (method !== "commit" && !this.#exists()) throw notFound();
      // A commit that may create the repo lists its name first (listing a name creates no repo).
      if (method === "commit" && !this.#exists() && this.env.AUTO_CREATE === "true") await this.#list();
      if (rpcCost(method, false, input) !== "expensive") return handler(this.#rpcContext(), input);
      this.#expensive ??= expensiveCallsFromEnv(this.env.EXPENSIVE_CALLS_PER_REPO);
      return this.#expensive.run(() => handler(this.#rpcContext(), input));
    });
  }

  /** Over a socket: may the socket's caller read now? (Throws the refusal a read gets over HTTP.) */
  async #checkSocketRead(): Promise<void> {
    const { connection } = getCurrentAgent();
    if (!connection) return;
    await this.#registering.get(connection.id);
    authorize(this.env, callerOfConnection(connection, Date.now()), "read", this.name, this.#access());
  }

  @callable()
  async refs(request: RpcRequest): Promise<RpcReply> {
    return this.#rpc("refs", request);
  }

  @callable()
  async resolve(request: RpcRequest): Promise<RpcReply> {
    return this.#rpc("resolve", request);
  }

  @callable()
  async log(request: RpcRequest): Promise<RpcReply> {
    return this.#rpc("log", request);
  }

  @callable()
  async tree(request: RpcRequest): Promise<RpcReply> {
    return this.#rpc("tree", request);
  }

  @callable()
  async blob(request: RpcRequest): Promise<RpcReply> {
    return this.#rpc("blob", request);
  }

  @callable()
  async diff(request: RpcRequest): Promise<RpcReply> {
    return this.#rpc("diff", request);
  }

  @callable()
  async grep(request: RpcRequest): Promise<RpcReply> {
    return this.#rpc("grep", request);
  }

  @callable()
  async commit(request: RpcRequest): Promise<RpcReply> {
    return this.#rpc("commit", request);
  }

  @callable()
  async createBranch(request: RpcRequest): Promise<RpcReply> {
    return this.#rpc("createBranch", request);
  }

  @callable()
  async deleteBranch(request: RpcRequest): Promise<RpcReply> {
    return this.#rpc("deleteBranch", request);
  }

  @callable()
  async createTag(request: RpcRequest): Promise<RpcReply> {
    return this.#rpc("createTag", request);
  }

  // --- live ref events (WebSocket only) -----------------------------------

  /** A subscription replays events: a read like any other, judged before anything is sent. */
  @callable()
  async subscribe(request: RpcRequest): Promise<RpcReply> {
    try {
      await this.#checkSocketRead();
    } catch (e) {
      return { ok: false, error: errorBody(e, "subscribe") };
    }
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
      await this.#createIfAllowed(this.env.AUTO_CREATE === "true");
      const parsed = parseInput(PushInput, input, "push");
      const body = limitBytes(fromReadableStream(pack), this.limits.maxPackBytes, "the pushed pack");
      return { ok: true, result: await push(this.#receivePackContext(), parsed, body) };
    } catch (e) {
      return { ok: false, error: errorBody(e, "push") };
    }
  }

  /** The pack for these wants and haves, as raw pack bytes. */
  async fetchPack(check: AccessCheck | null, input: FetchPackRequest): Promise<FetchPackReply> {
    try {
      this.#admit(check);
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
