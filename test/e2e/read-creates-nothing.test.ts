/**
 * Nothing created by reading: 1,000 anonymous requests to distinct missing names (advertisements,
 * RPC reads, pack fetches and socket upgrades) leave the server's storage as it was, within 1 MB.
 * Before the RepoDirectory, each woke an actor whose first wake wrote a ~400 KB database.
 * Invariants:
 * - Storage is everything under the server's `--persist-to` directory except wrangler's own trace
 *   store (`v3/observability`), which logs every request, `/healthz` included (~20 KB each), and so
 *   grows with any traffic at all: it is wrangler dev's request log, not our storage.
 * - Every request is answered 404 (or refused, for a socket), never 5xx.
 * Spec: issue 14, item 7; actors/repo/repo-directory.ts.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createToken } from "./admin-api.ts";
import { git, tinyRepo, withToken } from "./git.ts";
import { rawRequest } from "./raw-http.ts";
import { randomAdminToken, startWrangler, type WranglerServer } from "./wrangler-server.ts";

const admin = randomAdminToken();
let server: WranglerServer;
beforeAll(async () => {
  // Budgets off: wrangler dev simulates the Rate Limiting binding with a SQLite Durable Object in the
  // persist dir, whose writes (~4 KB a request) are the simulator's, not the app's storage; and 1,000
  // requests from one address would spend a real budget too (rate-limits.test.ts checks those).
  const vars = { CHEAP_READS_LIMIT: "off", EXPENSIVE_READS_LIMIT: "off", WRITES_LIMIT: "off" };
  server = await startWrangler({ adminToken: admin, vars });
});
afterAll(async () => {
  await server?.stop();
});

/** Bytes on disk under the persist dir, wrangler's trace store left out (see the header). */
function storageBytes(): number {
  const v3 = join(server.persistDir, "v3");
  const dirs = readdirSync(v3).filter((d) => d !== "observability").map((d) => join(v3, d));
  return Number(execFileSync("du", ["-sbc", ...dirs], { encoding: "utf8" }).trim().split("\n").at(-1)!.split("\t")[0]);
}

const UPGRADE = { upgrade: "websocket", connection: "Upgrade", "sec-websocket-version": "13", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==" };

/** The i-th of the 1,000 requests, each to its own missing name. */
function request(i: number, outsider: string): { path: string; init: Parameters<typeof rawRequest>[2] } {
  const name = `/ghost-${i % 37}/missing-${i}-${randomBytes(3).toString("hex")}`;
  const json = (body: unknown, token?: string) => ({
    method: "POST" as const,
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: new TextEncoder().encode(JSON.stringify(body)),
  });
  switch (i % 8) {
    case 0: return { path: `${name}.git/info/refs?service=git-upload-pack`, init: {} };
    case 1: return { path: `${name}.git/info/refs?service=git-upload-pack`, init: { headers: { "git-protocol": "version=2" } } };
    case 2: return { path: `${name}/rpc/refs`, init: json({}) };
    case 3: return { path: `${name}/rpc/blob`, init: json({ rev: "main", path: "README" }, outsider) };
    case 4: return { path: `${name}/rpc/fetchPack`, init: json({ wants: ["main"] }) };
    case 5: return { path: `${name}/ws`, init: { headers: UPGRADE } };
    case 6: return { path: `${name}/ws`, init: { headers: { ...UPGRADE, authorization: `Bearer ${outsider}` } } };
    default: return { path: `${name}.git/git-upload-pack`, init: { method: "POST", headers: { "content-type": "application/x-git-upload-pack-request" }, body: new TextEncoder().encode("0000") } };
  }
}

it("1,000 anonymous and outsider requests to missing names leave storage within 1 MB", { timeout: 300_000 }, async () => {
  // A real repo and a token, so the directory, the token store and one actor exist before the baseline.
  const { token: writer } = await createToken(server.baseUrl, admin, { name: "writer", scopes: ["write"], repos: ["real/*"] });
  const outsider = (await createToken(server.baseUrl, admin, { name: "outsider", scopes: ["read"], repos: ["elsewhere/*"] })).token;
  const src = await tinyRepo(1);
  await git(src, ["push", "-q", withToken(`${server.baseUrl}/real/repo.git`, writer), "main"]);
  expect((await rawRequest(server.baseUrl, "/never/seen.git/info/refs?service=git-upload-pack")).status).toBe(404);
  await new Promise((r) => setTimeout(r, 1_000));
  const before = storageBytes();

  const statuses = new Map<number, number>();
  for (let start = 0; start < 1_000; start += 20) {
    const batch = Array.from({ length: 20 }, (_, k) => request(start + k, outsider));
    for (const r of await Promise.all(batch.map(({ path, init }) => rawRequest(server.baseUrl, path, init))))
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
  }
  expect(Object.fromEntries(statuses)).toEqual({ 404: 1_000 });
  await new Promise((r) => setTimeout(r, 1_000));
  const grown = storageBytes() - before;
  expect(grown, `storage grew by ${grown} bytes`).toBeLessThan(1 << 20);
  // The real repo still answers.
  expect((await rawRequest(server.baseUrl, "/real/repo.git/info/refs?service=git-upload-pack")).status).toBe(200);
});
