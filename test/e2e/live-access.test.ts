/**
 * Access on open sockets is decided at every read, not once at the upgrade: a repo made private, or
 * a token revoked or expired, stops an open socket's reads and events at once and closes it.
 * Invariants:
 * - After `POST /settings` answers, no socket whose caller may no longer read is open: it was closed
 *   with 4004 (repository not found); after `DELETE /admin/tokens/<id>` answers, every socket of
 *   that token was closed with 4001. No event of a later push reaches either.
 * - An expired token's socket reads nothing from the moment it expires.
 * - For a caller who may not read a name, a socket to a missing repo is refused exactly as one to a
 *   private repo: same status, body and headers, and alike in time.
 * - A token that may read a name still subscribes before the first push, and sees it.
 * Spec: README "Auth"; ARCHITECTURE.md "Auth"; protocol/rpc/socket.ts (close codes).
 */
import { randomBytes } from "node:crypto";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { SOCKET_CLOSE_NOT_FOUND, SOCKET_CLOSE_TOKEN_DEAD } from "../../protocol/rpc/index.ts";
import { createToken, revokeToken, setVisibility, type NewToken } from "./admin-api.ts";
import { commitFile, git, revParse, tinyRepo, withToken } from "./git.ts";
import { rawRequest } from "./raw-http.ts";
import { openRawSocket, socketUrl, type RawSocket } from "./raw-socket.ts";

const base = inject("baseUrl");
const admin = inject("adminToken");
const writeAll = inject("token");
const owner = `live-${randomBytes(4).toString("hex")}`;
const repoUrl = (name: string) => `${base}/${owner}/${name}.git`;
const mint = async (body: NewToken) => (await createToken(base, admin, body)).token;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A public repo with main (2 commits), pushed with the suite's write token; returns its source. */
async function seeded(name: string): Promise<string> {
  const src = await tinyRepo(2);
  await git(src, ["push", "-q", withToken(repoUrl(name), writeAll), "main"]);
  return src;
}

async function pushNew(src: string, name: string, file: string): Promise<string> {
  const next = await commitFile(src, file, `${file}\n`);
  await git(src, ["push", "-q", withToken(repoUrl(name), writeAll), "main"]);
  return next;
}

/** Resolves with the close, or fails the test if the socket is still open after `ms`. */
async function closedWithin(s: RawSocket, ms: number): Promise<{ code: number; reason: string }> {
  const timeout = sleep(ms).then(() => null);
  const closed = await Promise.race([s.closed, timeout]);
  if (!closed) throw new Error(`the socket was still open ${ms} ms later`);
  return closed;
}

/** A read on the socket got nothing: refused with a code, or the socket was gone. */
async function readRefused(s: RawSocket, method: string, input: unknown): Promise<string> {
  try {
    const reply = await s.call(method, input);
    if (reply.ok) return "allowed";
    return reply.error!.code;
  } catch {
    return "closed";
  }
}

const READS: [string, unknown][] = [
  ["blob", { rev: "main", path: "file-1.txt" }],
  ["grep", { rev: "main", pattern: "content" }],
  ["log", { rev: "main", limit: 5 }],
  ["refs", {}],
];

describe("a repo made private", () => {
  it("an anonymous socket opened while it was public: reads and events stop, and it closes with 4004", async () => {
    const src = await seeded("went-private");
    const s = await openRawSocket(socketUrl(base, owner, "went-private"));
    expect((await s.call("subscribe", { id: "all", prefix: "refs/heads/" })).ok).toBe(true);
    for (const [method, input] of READS) expect((await s.call(method, input)).ok, method).toBe(true);
    const before = await pushNew(src, "went-private", "public-era.txt");
    const deadline = Date.now() + 10_000;
    while (s.events().length < 1 && Date.now() < deadline) await sleep(25);
    expect(s.events().map((e) => e.new)).toEqual([before]);

    await setVisibility(repoUrl("went-private"), admin, "private");
    // Closed in the step that made the repo private: the close is already on its way.
    expect(await closedWithin(s, 2_000)).toEqual({ code: SOCKET_CLOSE_NOT_FOUND, reason: "repository not found" });
    for (const [method, input] of READS) expect(await readRefused(s, method, input), method).not.toBe("allowed");

    await pushNew(src, "went-private", "secret.txt");
    await sleep(1_500);
    expect(s.events().map((e) => e.new)).toEqual([before]);
    expect(s.frames.join("\n")).not.toContain("secret.txt");
    // A new anonymous socket is refused, as any read is.
    await expect(openRawSocket(socketUrl(base, owner, "went-private"))).rejects.toThrow(/refused/);
  });

  it("a token that may read keeps its socket; an outsider's token socket is closed with 4004", async () => {
    const src = await seeded("keeps-reader");
    const reader = await mint({ name: "live reader", scopes: ["read"], repos: [`${owner}/keeps-reader`] });
    const outsider = await mint({ name: "live outsider", scopes: ["read"], repos: [`${owner}-other/*`] });
    const kept = await openRawSocket(socketUrl(base, owner, "keeps-reader"), reader);
    const lost = await openRawSocket(socketUrl(base, owner, "keeps-reader"), outsider);
    for (const s of [kept, lost]) expect((await s.call("subscribe", { id: "all", prefix: "" })).ok).toBe(true);

    await setVisibility(repoUrl("keeps-reader"), admin, "private");
    expect((await closedWithin(lost, 2_000)).code).toBe(SOCKET_CLOSE_NOT_FOUND);
    const next = await pushNew(src, "keeps-reader", "after.txt");
    const deadline = Date.now() + 10_000;
    while (kept.events().length < 1 && Date.now() < deadline) await sleep(25);
    expect(kept.events().map((e) => e.new)).toEqual([next]);
    expect((await kept.call("blob", { rev: "main", path: "after.txt" })).ok).toBe(true);
    expect(lost.events()).toEqual([]);
    kept.ws.close();
  });
});

describe("a name that does not exist yet", () => {
  it("an anonymous socket is refused; a reader's token subscribes before the first push and sees it", async () => {
    await expect(openRawSocket(socketUrl(base, owner, "not-yet"))).rejects.toThrow(/refused/);
    const outsider = await mint({ name: "not-yet outsider", scopes: ["read"], repos: [`${owner}-other/*`] });
    await expect(openRawSocket(socketUrl(base, owner, "not-yet"), outsider)).rejects.toThrow(/refused/);

    const reader = await mint({ name: "not-yet reader", scopes: ["read"], repos: [`${owner}/*`] });
    const s = await openRawSocket(socketUrl(base, owner, "not-yet"), reader);
    expect((await s.call("subscribe", { id: "all", prefix: "refs/heads/" })).ok).toBe(true);
    expect((await s.call("refs", {})).error?.code).toBe("repo-not-found");
    const src = await seeded("not-yet");
    const deadline = Date.now() + 10_000;
    while (s.events().length < 1 && Date.now() < deadline) await sleep(25);
    expect(s.events().map((e) => e.new)).toEqual([await revParse(src, "main")]);
    s.ws.close();
  });

  it("created public and then made private: an anonymous socket opened in between loses it", async () => {
    const src = await seeded("briefly-public");
    const s = await openRawSocket(socketUrl(base, owner, "briefly-public"));
    expect((await s.call("subscribe", { id: "all", prefix: "" })).ok).toBe(true);
    await setVisibility(repoUrl("briefly-public"), admin, "private");
    expect((await closedWithin(s, 2_000)).code).toBe(SOCKET_CLOSE_NOT_FOUND);
    await pushNew(src, "briefly-public", "hidden.txt");
    await sleep(1_000);
    expect(s.events()).toEqual([]);
  });
});

describe("a token that dies while its socket is open", () => {
  it("revoked: by the time the revocation answers, the socket is closed with 4001 and reads nothing", async () => {
    const src = await seeded("revoked");
    await setVisibility(repoUrl("revoked"), admin, "private");
    const { token, info } = await createToken(base, admin, { name: "to revoke", scopes: ["read"], repos: [`${owner}/revoked`] });
    const s = await openRawSocket(socketUrl(base, owner, "revoked"), token);
    expect((await s.call("subscribe", { id: "all", prefix: "" })).ok).toBe(true);
    expect((await s.call("blob", { rev: "main", path: "file-1.txt" })).ok).toBe(true);

    await revokeToken(base, admin, info.id);
    const read = await readRefused(s, "blob", { rev: "main", path: "file-1.txt" });
    expect(read).not.toBe("allowed");
    // The actor closed it before the revocation answered; only the frame's trip remains.
    expect(await closedWithin(s, 500)).toEqual({ code: SOCKET_CLOSE_TOKEN_DEAD, reason: "token revoked or expired" });
    await pushNew(src, "revoked", "after-revoke.txt");
    await sleep(1_000);
    expect(s.events()).toEqual([]);
  });

  it("expired: reads stop at the expiry, before any re-check closes the socket", async () => {
    await seeded("expiring");
    await setVisibility(repoUrl("expiring"), admin, "private");
    const expiresAt = Date.now() + 3_000;
    const token = await mint({ name: "expiring", scopes: ["read"], repos: [`${owner}/expiring`], expiresAt });
    const s = await openRawSocket(socketUrl(base, owner, "expiring"), token);
    expect((await s.call("blob", { rev: "main", path: "file-1.txt" })).ok).toBe(true);
    await sleep(expiresAt - Date.now() + 20);
    // Every read from here on fails: refused by the per-read check, or the socket is already closed.
    const answers: string[] = [];
    const end = Date.now() + 6_000;
    while (Date.now() < end) {
      const a = await readRefused(s, "blob", { rev: "main", path: "file-1.txt" });
      answers.push(a);
      if (a === "closed") break;
    }
    expect(answers.filter((a) => a === "allowed")).toEqual([]);
    expect(answers).toContain("unauthorized");
    expect((await closedWithin(s, 8_000)).code).toBe(SOCKET_CLOSE_TOKEN_DEAD);
  });
});

describe("missing and private look the same to an outsider", () => {
  const UPGRADE = { upgrade: "websocket", connection: "Upgrade", "sec-websocket-version": "13", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==" };
  beforeAll(async () => {
    await seeded("hidden");
    await setVisibility(repoUrl("hidden"), admin, "private");
  });

  it("the same status, body and headers, anonymous or with another owner's token, in alike time", async () => {
    const outsider = await mint({ name: "upgrade outsider", scopes: ["read"], repos: [`${owner}-other/*`] });
    const ask = async (name: string, token?: string) => {
      const t0 = performance.now();
      const r = await rawRequest(base, `/${owner}/${name}/ws`, { headers: { ...UPGRADE, ...(token ? { authorization: `Bearer ${token}` } : {}) } });
      const { date: _, ...headers } = r.headers;
      return { status: r.status, text: r.text, headers, ms: performance.now() - t0 };
    };
    for (const token of [undefined, outsider]) {
      const priv = await ask("hidden", token);
      const missing = await ask(`never-${randomBytes(3).toString("hex")}`, token);
      expect(priv.status).toBe(404);
      expect({ ...missing, ms: 0 }).toEqual({ ...priv, ms: 0 });
    }
    // Alike in time: each is one call past the gateway, so neither is a multiple of the other.
    const times = { hidden: [] as number[], missing: [] as number[] };
    for (let i = 0; i < 15; i++) {
      times.hidden.push((await ask("hidden")).ms);
      times.missing.push((await ask(`never-${randomBytes(3).toString("hex")}`)).ms);
    }
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1]!;
    const [h, m] = [median(times.hidden), median(times.missing)];
    expect(Math.max(h, m), JSON.stringify({ h, m })).toBeLessThan(3 * Math.min(h, m) + 15);
  });

  it("a client cannot claim a caller: the gateway's caller header is its own", async () => {
    const forged = JSON.stringify({ kind: "token", principal: { tokenId: "forged", scopes: ["admin"], repos: [], expiresAt: null } });
    const r = await rawRequest(base, `/${owner}/hidden/ws`, { headers: { ...UPGRADE, "x-edgegit-caller": forged } });
    expect([r.status, r.text]).toEqual([404, "repository not found\n"]);
  });
});
