/**
 * Auth settings that need a server of their own: no admin secret at all, and private by default.
 * Invariants:
 * - Without ADMIN_TOKEN every write is refused (403 writes-disabled), whoever asks and with whatever
 *   token; reads work as before, and private repos stay private. There is no open mode.
 * - DEFAULT_VISIBILITY=private makes every new repo private.
 * Spec: README "Auth".
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { adminCall, createToken, postSettings, setVisibility } from "./admin-api.ts";
import { commitFile, fsck, git, lsRemote, revParse, tempDir, tinyRepo, withToken } from "./git.ts";
import { randomAdminToken, startWrangler, type StartOptions, type WranglerServer } from "./wrangler-server.ts";

const FORBIDDEN = /The requested URL returned error: 403/;
const bearer = (token: string) => ["-c", `http.extraHeader=Authorization: Bearer ${token}`];

async function withServer<T>(opts: StartOptions, run: (server: WranglerServer) => Promise<T>): Promise<T> {
  const server = await startWrangler(opts);
  try {
    return await run(server);
  } finally {
    await server.stop();
  }
}

async function status(url: string, init: RequestInit = {}): Promise<number> {
  const res = await fetch(url, init);
  await res.arrayBuffer();
  return res.status;
}

describe("a server without ADMIN_TOKEN", () => {
  it("refuses every write, even with tokens issued while it had one, and still serves reads", { timeout: 240_000 }, async () => {
    // Repos and tokens are made while the server has an admin secret; then it restarts without one.
    const persistDir = tempDir();
    const admin = randomAdminToken();
    const src = await tinyRepo(2);
    const { write, read } = await withServer({ persistDir, adminToken: admin }, async (server) => {
      const write = (await createToken(server.baseUrl, admin, { name: "writer", scopes: ["write"] })).token;
      const read = (await createToken(server.baseUrl, admin, { name: "reader", scopes: ["read"] })).token;
      await git(src, ["push", "-q", withToken(`${server.baseUrl}/o/pub.git`, write), "main"]);
      await git(src, ["push", "-q", withToken(`${server.baseUrl}/o/priv.git`, write), "main"]);
      await setVisibility(`${server.baseUrl}/o/priv.git`, admin, "private");
      return { write, read };
    });

    await withServer({ persistDir }, async (server) => {
      const pub = `${server.baseUrl}/o/pub.git`;
      const priv = `${server.baseUrl}/o/priv.git`;
      const before = await lsRemote(pub, 2);
      const dir = join(tempDir(), "clone");
      await git(tempDir(), ["clone", "-q", pub, dir]);
      await fsck(dir);
      expect(await revParse(dir, "HEAD")).toBe(await revParse(src, "main"));

      await commitFile(src, "refused.txt", "no admin secret, no writes\n");
      for (const [who, url] of [["anonymous", pub], ["the old write token", withToken(pub, write)], ["the old admin secret", withToken(pub, admin)]]) {
        const r = await git(src, ["push", url!, "main"], { allowFail: true });
        expect(r.stderr, who).toMatch(FORBIDDEN);
      }
      expect(await lsRemote(pub, 2)).toEqual(before);
      for (const credential of [undefined, write]) {
        const headers: Record<string, string> = credential ? { authorization: `Bearer ${credential}` } : {};
        expect(await status(`${pub}/info/refs?service=git-receive-pack`, { headers })).toBe(403);
        const rpc = await fetch(`${server.baseUrl}/o/pub/rpc/createBranch`, { method: "POST", headers, body: JSON.stringify({ name: "x", from: "main" }) });
        expect(rpc.status).toBe(403);
        expect(((await rpc.json()) as { error: { code: string } }).error.code).toBe("writes-disabled");
      }
      expect((await git(src, ["push", withToken(`${server.baseUrl}/o/new.git`, write), "main"], { allowFail: true })).stderr).toMatch(FORBIDDEN);
      expect(await status(`${server.baseUrl}/o/new.git/info/refs?service=git-upload-pack`)).toBe(404);

      // Nobody can mint tokens or change settings either.
      expect((await adminCall(server.baseUrl, admin, "POST", "", { name: "x", scopes: ["admin"] })).status).toBe(401);
      expect((await adminCall(server.baseUrl, write, "GET")).status).toBe(403);
      expect((await postSettings(pub, write, { visibility: "private" })).status).toBe(403);

      // Private stays private: 404 without a token, readable with the old read token.
      expect(await status(`${priv}/info/refs?service=git-upload-pack`)).toBe(404);
      const ls = (await git(tempDir(), [...bearer(read), "ls-remote", priv], { protocol: 2 })).stdout;
      expect(ls).toContain(`${before.get("refs/heads/main")}\trefs/heads/main`);
    });
  });
});

describe("DEFAULT_VISIBILITY=private", () => {
  it("makes a new repo private: 404 without a token, readable with one, public once its admin says so", { timeout: 240_000 }, async () => {
    const admin = randomAdminToken();
    await withServer({ adminToken: admin, vars: { DEFAULT_VISIBILITY: "private" } }, async (server) => {
      const { token } = await createToken(server.baseUrl, admin, { name: "writer", scopes: ["write"] });
      const src = await tinyRepo(1);
      const url = `${server.baseUrl}/o/born-private.git`;
      await git(src, ["push", "-q", withToken(url, token), "main"]);
      expect(await status(`${url}/info/refs?service=git-upload-pack`)).toBe(404);
      const anon = await git(tempDir(), ["clone", url, join(tempDir(), "anon")], { allowFail: true });
      expect(anon.stderr).toMatch(/not found/);
      const dir = join(tempDir(), "with-token");
      await git(tempDir(), [...bearer(token), "clone", "-q", url, dir]);
      expect(await revParse(dir, "HEAD")).toBe(await revParse(src, "main"));

      await setVisibility(url, admin, "public");
      expect((await lsRemote(url, 2)).get("refs/heads/main")).toBe(await revParse(src, "main"));
    });
  });
});
