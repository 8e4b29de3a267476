/**
 * No secret leaks: after pushes, clones, RPC and admin calls and socket opens with good, bad and
 * revoked tokens, neither the server's log nor any answer a client saw holds a token, its SHA-256
 * hex, or the Basic credential it travelled in.
 * Invariants:
 * - The log is taken at wrangler's "log" level, so every line the Worker prints is searched.
 * Spec: actors/auth/tokens.ts ("Neither a token nor its hash appears in an error message or a log line").
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminCall, createToken, revokeToken, setVisibility } from "./admin-api.ts";
import { commitFile, git, tempDir, tinyRepo, withToken } from "./git.ts";
import { randomAdminToken, startWrangler, type WranglerServer } from "./wrangler-server.ts";
import { socketProtocols } from "../../protocol/rpc/index.ts";

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

describe("tokens stay out of logs and answers", () => {
  const admin = randomAdminToken();
  let server: WranglerServer;
  beforeAll(async () => {
    server = await startWrangler({ adminToken: admin, logLevel: "log" });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("with good, bad and revoked tokens over git, RPC, the admin API and the WebSocket", { timeout: 180_000 }, async () => {
    const seen: string[] = [];
    const keep = (...texts: string[]) => seen.push(...texts);
    const good = (await createToken(server.baseUrl, admin, { name: "good", scopes: ["write"] })).token;
    const doomed = await createToken(server.baseUrl, admin, { name: "revoked", scopes: ["write"] });
    const bad = randomAdminToken();
    const pub = `${server.baseUrl}/o/pub.git`;
    const priv = `${server.baseUrl}/o/priv.git`;

    const src = await tinyRepo(1);
    const ok = await git(src, ["push", withToken(pub, good), "main"]);
    keep(ok.stdout, ok.stderr);
    keep((await git(src, ["push", withToken(pub, doomed.token), "HEAD:refs/heads/before-revoke"])).stderr);
    await git(src, ["push", "-q", withToken(priv, good), "main"]);
    await setVisibility(priv, admin, "private");
    await revokeToken(server.baseUrl, admin, doomed.info.id);

    await commitFile(src, "more.txt", "refused\n");
    for (const token of [bad, doomed.token]) {
      const push = await git(src, ["push", withToken(pub, token), "main"], { allowFail: true });
      expect(push.stderr).toMatch(/Authentication failed/);
      keep(push.stdout, push.stderr);
      const clone = await git(tempDir(), ["-c", `http.extraHeader=Authorization: Bearer ${token}`, "clone", priv, join(tempDir(), "c")], { allowFail: true });
      expect(clone.code).not.toBe(0);
      keep(clone.stdout, clone.stderr);
      for (const [path, init] of [
        ["/o/pub/rpc/createBranch", { method: "POST", body: JSON.stringify({ name: "x", from: "main" }) }],
        ["/o/priv/rpc/refs", { method: "POST", body: "{}" }],
        ["/admin/tokens", { method: "GET" }],
        ["/o/pub.git/info/refs?service=git-receive-pack", { method: "GET" }],
      ] as const) {
        for (const authorization of [`Bearer ${token}`, `Basic ${Buffer.from(`x:${token}`).toString("base64")}`]) {
          const res = await fetch(`${server.baseUrl}${path}`, { ...init, headers: { authorization } });
          expect(res.status, `${path} with ${authorization.split(" ")[0]}`).toBe(401);
          keep(await res.text(), JSON.stringify([...res.headers]));
        }
      }
      keep(await socketRefusal(`${server.baseUrl.replace(/^http/, "ws")}/o/priv/ws`, token));
    }
    const listed = await adminCall(server.baseUrl, admin, "GET");
    keep(await listed.text());
    const created = await adminCall(server.baseUrl, good, "POST", "", { name: "not an admin", scopes: ["admin"] });
    expect(created.status).toBe(403);
    keep(await created.text());

    await new Promise((r) => setTimeout(r, 1_000)); // let the last log lines arrive
    const log = server.output();
    expect(log).toMatch(/POST \/o\/pub\.git\/git-receive-pack 200/); // the log was captured at all
    expect(log).toMatch(/GET \/o\/pub\.git\/info\/refs 401/); // wrangler logs paths without their query
    for (const [what, secret] of [["good", good], ["revoked", doomed.token], ["bad", bad], ["admin", admin]] as const) {
      const forms = [secret, sha256(secret), Buffer.from(`x:${secret}`).toString("base64"), encodeURIComponent(secret)];
      for (const form of forms) {
        expect(log.includes(form), `the server log holds the ${what} token (as ${form === secret ? "itself" : form.length === 64 ? "its sha256" : "an encoding"})`).toBe(false);
        expect(seen.findIndex((t) => t.includes(form)), `an answer holds the ${what} token`).toBe(-1);
      }
    }
  });
});

/** Opens a WebSocket that the server must refuse (or close); resolves with what the refusal said. */
function socketRefusal(url: string, token: string): Promise<string> {
  return new Promise((ok, fail) => {
    const ws = new WebSocket(url, socketProtocols(token));
    const timer = setTimeout(() => fail(new Error(`a socket with a bad token was still open after 10 s: ${url}`)), 10_000);
    // Node's WebSocket reports a refused upgrade as an error, without a close event.
    ws.addEventListener("error", (e) => {
      clearTimeout(timer);
      ok(String((e as ErrorEvent).message));
    });
    ws.addEventListener("close", (e) => {
      clearTimeout(timer);
      ok(`${e.code} ${e.reason}`);
    });
  });
}
