/**
 * No secrets in URLs: the client sends its token over the socket as a subprotocol, so after a
 * session of client use (Node and a browser page) the server's whole persisted state, including
 * wrangler's trace store of every request URL, holds the token nowhere. `?token=` is refused
 * unless the ALLOW_TOKEN_IN_URL var lets old clients use it.
 * Invariants:
 * - The grep covers every file under the server's `--persist-to` directory (wrangler's
 *   `.wrangler/state`), after the server stopped and flushed.
 * - The grep is shown to work: the same files do hold the session's request paths.
 * Spec: README "Auth"; protocol/rpc/socket.ts.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { connect, type RefEvent } from "../../client/index.ts";
import { createToken, setVisibility } from "./admin-api.ts";
import { startBrowserPages } from "./browser-page.ts";
import { git, packOf, revParse, tinyRepo, withToken } from "./git.ts";
import { rawRequest } from "./raw-http.ts";
import { openRawSocket, socketUrl } from "./raw-socket.ts";
import { randomAdminToken, startWrangler, type WranglerServer } from "./wrangler-server.ts";

const admin = randomAdminToken();
const AUTHOR = { name: "URL Tester", email: "url@example.com" };
let server: WranglerServer | undefined;
const dirs: string[] = [];
afterAll(async () => {
  await server?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Files under `dir` whose bytes hold `needle` (grep -r, binary files included). */
function filesHolding(dir: string, needle: string): string[] {
  try {
    return execFileSync("grep", ["-rlaF", "--", needle, dir], { encoding: "utf8" }).split("\n").filter(Boolean);
  } catch (e) {
    if ((e as { status?: number }).status === 1) return []; // grep's "no match"
    throw e;
  }
}

/** A raw upgrade with `?token=`; resolves with the refusal's status or "open". */
async function queryTokenUpgrade(url: string): Promise<string> {
  const ws = new WebSocket(url);
  return new Promise((ok) => {
    ws.addEventListener("open", () => (ws.close(), ok("open")));
    ws.addEventListener("error", (e) => ok(String((e as ErrorEvent).message)));
  });
}

describe("tokens never travel in URLs", () => {
  it("a Node client session and a browser page leave the token nowhere in the persisted state", { timeout: 240_000 }, async () => {
    const persistDir = mkdtempSync(join(tmpdir(), "edgegit-url-state-"));
    dirs.push(persistDir);
    server = await startWrangler({ adminToken: admin, persistDir });
    const { token } = await createToken(server.baseUrl, admin, { name: "session", scopes: ["write"], repos: ["url/*"] });
    const src = await tinyRepo(2);
    await git(src, ["-c", `http.extraHeader=Authorization: Bearer ${token}`, "push", "-q", `${server.baseUrl}/url/demo.git`, "main"]);
    const main = await revParse(src, "main");

    const client = connect(server.baseUrl, "url", "demo", { token, onError: () => {} });
    const seen: RefEvent[] = [];
    await client.subscribe("refs/heads/", (e) => seen.push(e));
    await client.refs({});
    await client.blob({ rev: "main", path: "file-1.txt" });
    await client.log({ rev: "main", limit: 2 });
    const made = await client.commit({ branch: "main", expectedParent: main, message: "over the socket", author: AUTHOR, changes: [{ path: "n.txt", content: "n\n" }] });
    await client.createBranch({ name: "side", from: "main" });
    await client.push([{ ref: "refs/heads/pushed", old: null, new: main }], await packOf(src, main));
    await (await client.fetchPack({ wants: ["main"] })).cancel();
    const deadline = Date.now() + 10_000;
    while (seen.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    expect(seen.map((e) => e.new)).toEqual([made.commit, made.commit, main]);
    client.close();

    const pages = await startBrowserPages();
    try {
      const { page, errors } = await pages.open(server.baseUrl, "url", "demo", token);
      expect(await page.evaluate(() => window.edgegitPage.error)).toBeNull();
      expect(await page.evaluate(() => window.edgegitPage.client.resolve({ rev: "side" }).then((r) => r.oid))).toBe(made.commit);
      expect(errors).toEqual([]);
    } finally {
      await pages.close();
    }

    // A token in the query is refused, before any check of the token (this one is never granted).
    const legacy = `${socketUrl(server.baseUrl, "url", "demo")}?token=egt_legacy-client-token`;
    expect(await queryTokenUpgrade(legacy)).not.toBe("open");
    const upgrade = { upgrade: "websocket", connection: "Upgrade", "sec-websocket-version": "13", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==" };
    const refused = await rawRequest(server.baseUrl, "/url/demo/ws?token=egt_legacy-client-token", { headers: upgrade });
    expect(refused.status).toBe(400);
    expect(refused.text).toContain("subprotocol");

    await new Promise((r) => setTimeout(r, 2_000)); // let the trace store write its last batch
    await server.stop();
    server = undefined;
    // The grep works: the session's socket path is there, recorded by wrangler's trace store.
    expect(filesHolding(persistDir, "/url/demo/ws").length).toBeGreaterThan(0);
    expect(filesHolding(persistDir, "egt_legacy-client-token").length).toBeGreaterThan(0);
    expect(filesHolding(persistDir, token)).toEqual([]);
    expect(filesHolding(persistDir, encodeURIComponent(token))).toEqual([]);
  });

  it("ALLOW_TOKEN_IN_URL=true lets an old client's ?token= socket in", { timeout: 120_000 }, async () => {
    server = await startWrangler({ adminToken: admin, vars: { ALLOW_TOKEN_IN_URL: "true" } });
    const { token } = await createToken(server.baseUrl, admin, { name: "old client", scopes: ["write"], repos: ["old/*"] });
    const src = await tinyRepo(1);
    await git(src, ["push", "-q", withToken(`${server.baseUrl}/old/demo.git`, token), "main"]);
    await setVisibility(`${server.baseUrl}/old/demo.git`, admin, "private");
    expect(await queryTokenUpgrade(`${socketUrl(server.baseUrl, "old", "demo")}?token=${token}`)).toBe("open");
    // The subprotocol works there too, and without a token the private repo stays refused.
    const s = await openRawSocket(socketUrl(server.baseUrl, "old", "demo"), token);
    expect((await s.call("refs", {})).ok).toBe(true);
    s.ws.close();
    expect(await queryTokenUpgrade(socketUrl(server.baseUrl, "old", "demo"))).not.toBe("open");
    await server.stop();
    server = undefined;
  });
});
