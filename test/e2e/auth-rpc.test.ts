/**
 * Auth for the typed RPC: over HTTP (`POST /<owner>/<repo>/rpc/<method>`, Bearer) and through the
 * client's WebSocket (`?token=`), with the same rules as git over HTTP.
 * Invariants:
 * - Read methods need read (none on a public repo); write methods need write on that repo.
 * - A private repo the caller may not read answers 404 repo-not-found, like a repo that never existed.
 * - The client reports a refusal as a typed error promptly, never as a silent retry loop.
 * - A token revoked while its socket is open ends that socket within a bounded time, and no event
 *   reaches it afterwards.
 * Spec: README "Auth"; protocol/rpc/methods.ts; RFC 6750 (Bearer).
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { connect, type ConnectOptions, type RefEvent, type RepoClient } from "../../client/index.ts";
import { createToken, revokeToken, setVisibility, type NewToken } from "./admin-api.ts";
import { commitFile, git, lsRemote, packOf, revParse, tinyRepo, withToken } from "./git.ts";

// Always our own server, even when E2E_BASE_URL points the rest of the suite at another one.
const base = inject("baseUrl");
const admin = inject("adminToken");
const writeAll = inject("token");

const AUTHOR = { name: "Auth Tester", email: "auth@example.com" };
const mint = async (body: NewToken) => (await createToken(base, admin, body)).token;
const owner = `rpc-auth-${randomBytes(4).toString("hex")}`;
const repoUrl = (name: string) => `${base}/${owner}/${name}.git`;

const clients: RepoClient[] = [];
afterAll(() => {
  for (const c of clients) c.close();
});
function client(name: string, options: ConnectOptions = {}): RepoClient {
  const c = connect(base, owner, name, { onError: () => {}, ...options });
  clients.push(c);
  return c;
}

/** A repo with main (2 commits) and `side`, pushed with the suite's write token; returns its source. */
async function seeded(name: string, visibility: "public" | "private"): Promise<string> {
  const src = await tinyRepo(2);
  await git(src, ["branch", "side", "HEAD~1"]);
  await git(src, ["push", "-q", withToken(repoUrl(name), writeAll), "main", "side"]);
  if (visibility === "private") await setVisibility(repoUrl(name), admin, "private");
  return src;
}

interface Answer {
  status: number;
  code: string | undefined;
  challenge: string | null;
  text: string;
}

/** One RPC over HTTP, as curl would send it; `token` goes as a Bearer token. */
async function call(name: string, method: string, input: unknown, token?: string): Promise<Answer> {
  const headers = { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) };
  const res = await fetch(`${base}/${owner}/${name}/rpc/${method}`, { method: "POST", headers, body: JSON.stringify(input) });
  const text = await res.text();
  let code: string | undefined;
  try {
    code = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
  } catch {
    code = undefined; // a pack, not JSON
  }
  return { status: res.status, code, challenge: res.headers.get("www-authenticate"), text };
}

/** `POST /rpc/push` moving `ref` from `old` to `next` with `pack`. */
async function pushCall(name: string, update: string, pack: Uint8Array, token?: string): Promise<Answer> {
  const headers = { "content-type": "application/x-git-packfile", ...(token ? { authorization: `Bearer ${token}` } : {}) };
  const res = await fetch(`${base}/${owner}/${name}/rpc/push?update=${update}`, { method: "POST", headers, body: new Uint8Array(pack) });
  const text = await res.text();
  return { status: res.status, code: (JSON.parse(text) as { error?: { code?: string } }).error?.code, challenge: res.headers.get("www-authenticate"), text };
}

const READS: [string, unknown][] = [
  ["refs", {}],
  ["resolve", { rev: "main" }],
  ["log", { rev: "main", limit: 1 }],
  ["tree", { rev: "main", path: "" }],
  ["blob", { rev: "main", path: "file-1.txt" }],
  ["diff", { to: "main" }],
  ["grep", { rev: "main", pattern: "content" }],
  ["fetchPack", { wants: ["main"] }],
];

/** Every write method, with input that would succeed on a fresh seeded repo whose main is `main`. */
function writes(main: string): [string, unknown][] {
  return [
    ["commit", { branch: "main", expectedParent: main, message: "refused", author: AUTHOR, changes: [{ path: "no.txt", content: "no\n" }] }],
    ["createBranch", { name: "refused", from: "main" }],
    ["deleteBranch", { name: "side" }],
    ["createTag", { name: "refused", target: "main" }],
  ];
}

describe("RPC over HTTP", () => {
  let pubSrc: string;
  let privSrc: string;
  let read: string;
  let write: string;
  let otherRead: string;
  let otherWrite: string;

  beforeAll(async () => {
    pubSrc = await seeded("pub", "public");
    privSrc = await seeded("priv", "private");
    read = await mint({ name: "rpc reader", scopes: ["read"], repos: [`${owner}/*`] });
    write = await mint({ name: "rpc writer", scopes: ["write"], repos: [`${owner}/*`] });
    otherRead = await mint({ name: "other reader", scopes: ["read"], repos: [`${owner}-other/*`] });
    otherWrite = await mint({ name: "other writer", scopes: ["write"], repos: [`${owner}-other/*`] });
  });

  it("public repo: reads need no token; writes are 401 without one, 403 with read or another owner's write", async () => {
    for (const [method, input] of READS) expect((await call("pub", method, input)).status, method).toBe(200);
    const before = await lsRemote(repoUrl("pub"), 2);
    const main = await revParse(pubSrc, "main");
    const next = await commitFile(pubSrc, "pushed.txt", "by rpc push\n");
    const pack = await packOf(pubSrc, next, `^${main}`);
    const update = `${main}:${next}:refs/heads/main`;

    for (const [method, input] of writes(main)) {
      const anon = await call("pub", method, input);
      expect(anon, method).toMatchObject({ status: 401, code: "unauthorized", challenge: 'Basic realm="edgegit"' });
      expect(await call("pub", method, input, "egt_not-a-real-token"), method).toMatchObject({ status: 401, code: "unauthorized" });
      expect(await call("pub", method, input, read), method).toMatchObject({ status: 403, code: "forbidden" });
      expect(await call("pub", method, input, otherWrite), method).toMatchObject({ status: 403, code: "forbidden" });
    }
    expect(await pushCall("pub", update, pack)).toMatchObject({ status: 401, code: "unauthorized" });
    expect(await pushCall("pub", update, pack, read)).toMatchObject({ status: 403, code: "forbidden" });
    expect(await lsRemote(repoUrl("pub"), 2)).toEqual(before);

    expect(await call("pub", "createBranch", { name: "allowed", from: "main" }, write)).toMatchObject({ status: 200 });
    expect(await pushCall("pub", update, pack, write)).toMatchObject({ status: 200 });
    const after = await lsRemote(repoUrl("pub"), 2);
    expect(after.get("refs/heads/allowed")).toBe(main);
    expect(after.get("refs/heads/main")).toBe(next);
  });

  it("private repo: every read is 404 repo-not-found without read access, as for a missing repo; 200 with it", async () => {
    for (const [method, input] of READS) {
      for (const [who, token] of [["anonymous", undefined], ["another owner's token", otherRead]] as const) {
        const hidden = await call("priv", method, input, token);
        expect(hidden, `${method}, ${who}`).toMatchObject({ status: 404, code: "repo-not-found" });
        expect(hidden, `${method}, ${who}`).toEqual(await call("never-made", method, input, token));
      }
      expect((await call("priv", method, input, read)).status, method).toBe(200);
    }
    const refs = JSON.parse((await call("priv", "refs", {}, read)).text) as { refs: { name: string; oid: string }[] };
    expect(refs.refs.find((r) => r.name === "refs/heads/main")?.oid).toBe(await revParse(privSrc, "main"));
  });

  it("private repo: a write with another owner's write token is 404; with a read token 403", async () => {
    const main = await revParse(privSrc, "main");
    for (const [method, input] of writes(main)) {
      expect(await call("priv", method, input, otherWrite), method).toMatchObject({ status: 404, code: "repo-not-found" });
      expect(await call("priv", method, input, read), method).toMatchObject({ status: 403, code: "forbidden" });
    }
    const refs = JSON.parse((await call("priv", "refs", {}, read)).text) as { refs: { name: string; oid: string }[] };
    expect(refs.refs.map((r) => [r.name, r.oid])).toEqual([["refs/heads/main", main], ["refs/heads/side", await revParse(privSrc, "side")]]);
  });
});

/** A WebSocket that records every socket the client opens and when each closed. */
function watchedWebSocket() {
  const sockets: { opened: boolean; closedAt: number | null; code: number | null }[] = [];
  class Watched extends WebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      const s = { opened: false, closedAt: null as number | null, code: null as number | null };
      sockets.push(s);
      this.addEventListener("open", () => (s.opened = true));
      this.addEventListener("close", (e) => {
        s.closedAt = Date.now();
        s.code = e.code;
      });
    }
  }
  return { Watched, sockets };
}

/** How a call failed and how long it took; a call still pending after `ms`, or one that succeeds, fails the test. */
async function rejection(p: Promise<unknown>, ms = 15_000): Promise<{ code?: string; ms: number }> {
  const t0 = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    p.then(
      () => ({ settled: "resolved" as const }),
      (error: unknown) => ({ settled: "rejected" as const, error }),
    ),
    new Promise<{ settled: "pending" }>((ok) => (timer = setTimeout(() => ok({ settled: "pending" }), ms))),
  ]);
  clearTimeout(timer);
  if (outcome.settled !== "rejected") throw new Error(`expected the call to fail within ${ms} ms; it is ${outcome.settled}`);
  return { code: (outcome.error as { code?: string }).code, ms: Date.now() - t0 };
}

async function until(what: string, cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe("the client over its WebSocket", () => {
  let pubSrc: string;
  let privSrc: string;

  beforeAll(async () => {
    pubSrc = await seeded("ws-pub", "public");
    privSrc = await seeded("ws-priv", "private");
  });

  it("a private repo refuses a client without read access with a typed error, promptly", async () => {
    const other = await mint({ name: "ws other", scopes: ["read"], repos: [`${owner}-other/*`] });
    for (const [who, options] of [["anonymous", {}], ["another owner's token", { token: other }]] as const) {
      const c = client("ws-priv", options);
      const sub = await rejection(c.subscribe("refs/heads/", () => {}));
      expect(sub.code, who).toBe("repo-not-found");
      expect(sub.ms, who).toBeLessThan(10_000);
      expect((await rejection(c.refs({}))).code, who).toBe("repo-not-found");
    }
    const bad = client("ws-pub", { token: "egt_not-a-real-token" });
    expect((await rejection(bad.subscribe("refs/heads/", () => {}))).code).toBe("unauthorized");
  });

  it("a read token subscribes to a private repo and sees a push; its socket writes are 403", async () => {
    const read = await mint({ name: "ws reader", scopes: ["read"], repos: [`${owner}/ws-priv`] });
    const c = client("ws-priv", { token: read });
    const seen: RefEvent[] = [];
    await c.subscribe("refs/heads/", (e) => seen.push(e));
    const next = await commitFile(privSrc, "seen.txt", "seen by a reader\n");
    await git(privSrc, ["-c", `http.extraHeader=Authorization: Bearer ${writeAll}`, "push", "-q", repoUrl("ws-priv"), "main"]);
    await until("the push event", () => seen.length === 1, 20_000);
    expect(seen[0]).toMatchObject({ ref: "refs/heads/main", new: next, source: "git-push" });

    expect((await rejection(c.createBranch({ name: "by-reader", from: "main" }))).code).toBe("forbidden");
    expect((await rejection(c.push([{ ref: "refs/heads/by-reader", old: null, new: next }], new Uint8Array(0)))).code).toBe("forbidden");
    expect((await c.refs({})).refs.map((r) => r.name)).toEqual(["refs/heads/main", "refs/heads/side"]);
  });

  it("anonymous subscribers of a public repo see events; anonymous socket writes are 401", async () => {
    const c = client("ws-pub");
    const seen: RefEvent[] = [];
    await c.subscribe("", (e) => seen.push(e));
    const writer = client("ws-pub", { token: writeAll });
    await writer.createBranch({ name: "made-by-writer", from: "main" });
    await until("the branch event", () => seen.length === 1, 20_000);
    expect(seen[0]).toMatchObject({ ref: "refs/heads/made-by-writer", old: null, new: await revParse(pubSrc, "main"), source: "create-branch" });
    expect((await rejection(c.createTag({ name: "anonymous", target: "main" }))).code).toBe("unauthorized");
    expect((await lsRemote(repoUrl("ws-pub"), 2)).has("refs/tags/anonymous")).toBe(false);
  });

  it("revoking the token ends an open subscription within 15 s; nothing arrives after, and the next call is refused", async () => {
    const { token, info } = await createToken(base, admin, { name: "revoked while subscribed", scopes: ["read"], repos: [`${owner}/ws-priv`] });
    const { Watched, sockets } = watchedWebSocket();
    const errors: unknown[] = [];
    const c = client("ws-priv", { token, WebSocket: Watched, onError: (e) => errors.push(e) });
    const seen: RefEvent[] = [];
    await c.subscribe("refs/heads/", (e) => seen.push(e));
    const writer = client("ws-priv", { token: writeAll });
    await writer.createBranch({ name: "before-revoke", from: "main" });
    await until("the event before the revocation", () => seen.length === 1, 20_000);

    const live = sockets.filter((s) => s.opened && s.closedAt === null);
    expect(live).toHaveLength(1);
    const revokedAt = Date.now();
    await revokeToken(base, admin, info.id);
    await until("the socket to close", () => live[0]!.closedAt !== null, 15_000);
    expect(live[0]!.closedAt! - revokedAt).toBeLessThanOrEqual(15_000);

    await writer.createBranch({ name: "after-revoke", from: "main" });
    expect((await rejection(c.refs({}))).code).toBe("unauthorized");
    await new Promise((r) => setTimeout(r, 2_000));
    expect(seen.map((e) => e.ref)).toEqual(["refs/heads/before-revoke"]);
    // Not a silent retry loop: no socket the client opened since is still open.
    expect(sockets.filter((s) => s.opened && s.closedAt === null)).toEqual([]);
    expect(errors.map((e) => (e as { code?: string }).code)).toContain("unauthorized");
  });
});
