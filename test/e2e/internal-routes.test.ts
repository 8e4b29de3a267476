/**
 * Only our routes are reachable: the agents SDK's own routing (sub-agents under `/sub/<class>/<name>`,
 * its `/agents/…` paths) answers 404 through the gateway, and no error sends a client a stack trace or
 * a server file path, neither in an HTTP body nor in a socket frame or close reason.
 * Invariants:
 * - Each SDK-shaped path gets a plain 404 to a WebSocket upgrade, with or without a token: no 101.
 * - The repo's own socket keeps working next to them.
 * Spec: RFC 6455 section 4.1 (a non-101 answer fails the handshake); the agents SDK's sub-agent routing
 *       (`parseSubAgentPath`: the first `sub` segment followed by a class and a name).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { connect } from "../../client/index.ts";
import { baseUrl, git, repoNames, revParse, splitCredentials, tinyRepo, uniqueRepoUrl, writeToken } from "./git.ts";
import { rawRequest, type RawReply } from "./raw-http.ts";
import { socketProtocols } from "../../protocol/rpc/index.ts";

/** What a stack trace or a server path looks like in text. */
const LEAK = /\n\s+at |file:\/\/|\/work\/|node_modules|\.(ts|js):\d+/;

let url: string;
let owner: string;
let name: string;
let main: string;

beforeAll(async () => {
  const src = await tinyRepo(1);
  url = uniqueRepoUrl("internal-routes");
  await git(src, ["push", "-q", url, "main"]);
  main = await revParse(src, "main");
  [owner, name] = repoNames(url);
});

const UPGRADE = { upgrade: "websocket", connection: "Upgrade", "sec-websocket-version": "13", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==" };
const describeReply = (r: RawReply) => `HTTP ${r.status}: ${JSON.stringify(r.text.slice(0, 300))}`;

describe("the agents SDK's own routes are unreachable", () => {
  const paths = () => [
    "/sub/repo-actor/ws",
    "/sub/token-store/ws",
    "/sub/pack-worker/ws",
    "/sub/default/ws",
    "/sub/RepoActor/ws",
    "/sub/repo-actor/x/ws",
    "/sub/repo-actor.git/ws",
    `/${owner}/sub/ws`,
    `/${owner}/sub/rpc/refs`,
    `/${owner}/${name}/sub/repo-actor/ws`,
    `/${owner}/${name}/sub/repo-actor/x`,
    `/${owner}/${name}/ws/sub/repo-actor/x`,
    `/${owner}/${name}.git/sub/token-store/ws`,
    "/agents/repo-actor/x",
    `/agents/repo-actor/${encodeURIComponent(`${owner}/${name}`)}`,
    "/agents/token-store/tokens",
    "/agents/pack-worker/pack-slot-0",
    "/parties/repo-actor/x",
  ];

  it("a socket upgrade to any of them is a 404, anonymous or with a token", async () => {
    const wrong: string[] = [];
    for (const path of paths()) {
      for (const auth of [{}, { authorization: `Bearer ${writeToken()}` }] as Record<string, string>[]) {
        const r = await rawRequest(baseUrl(), path, { headers: { ...UPGRADE, ...auth } });
        if (r.status !== 404 || LEAK.test(r.text)) wrong.push(`${path}: ${describeReply(r)}`);
      }
      const q = await rawRequest(baseUrl(), path, { headers: { ...UPGRADE, "sec-websocket-protocol": socketProtocols(writeToken()).join(", ") } });
      if (q.status !== 404 || LEAK.test(q.text)) wrong.push(`${path} with a token subprotocol: ${describeReply(q)}`);
    }
    expect(wrong).toEqual([]);
  });

  it("plain requests to them are 404 too", async () => {
    for (const path of paths()) {
      for (const method of ["GET", "POST"] as const) {
        const r = await rawRequest(baseUrl(), path, { method, headers: { authorization: `Bearer ${writeToken()}` }, ...(method === "POST" ? { body: new Uint8Array(0) } : {}) });
        expect(r.status, `${method} ${path}: ${describeReply(r)}`).toBe(404);
      }
    }
  });

  it("a WebSocket client cannot open them, and the repo's own socket still works", async () => {
    for (const path of ["/sub/token-store/ws", "/sub/pack-worker/ws", "/sub/repo-actor/ws"]) {
      const ws = new WebSocket(`${baseUrl().replace(/^http/, "ws")}${path}`, socketProtocols(writeToken()));
      const frames: string[] = [];
      ws.addEventListener("message", (m) => frames.push(String(m.data)));
      const outcome = await new Promise<string>((done) => {
        ws.addEventListener("open", () => done("open"));
        ws.addEventListener("error", () => done("error"));
        ws.addEventListener("close", (e) => done(`close ${e.code} ${e.reason}`));
      });
      expect(outcome, `${path}: ${frames.join("\n")}`).toBe("error");
      expect(frames).toEqual([]);
    }
    const client = connect(baseUrl(), owner, name, { token: writeToken() });
    try {
      expect((await client.resolve({ rev: "main" })).oid).toBe(main);
      expect(await client.subscribe("refs/heads/", () => {})).toBeDefined();
    } finally {
      client.close();
    }
  });
});

describe("errors carry no stack traces or server paths", () => {
  it("in HTTP error bodies of every kind of refusal", async () => {
    const { url: plain } = splitCredentials(url);
    const path = new URL(plain).pathname;
    const repoPath = path.replace(/\.git$/, "");
    const requests: [string, string, Parameters<typeof rawRequest>[2]][] = [
      ["a bad pkt-line", `${path}/git-upload-pack`, { method: "POST", headers: { "content-type": "application/x-git-upload-pack-request" }, body: new TextEncoder().encode("zzzz") }],
      ["a gzip body that is not gzip", `${path}/git-upload-pack`, { method: "POST", headers: { "content-type": "application/x-git-upload-pack-request", "content-encoding": "gzip" }, body: new TextEncoder().encode("0000") }],
      ["an RPC of nested JSON", `${repoPath}/rpc/refs`, { method: "POST", body: new TextEncoder().encode("[".repeat(5000) + "]".repeat(5000)) }],
      ["an RPC of bad superjson", `${repoPath}/rpc/refs`, { method: "POST", headers: { "content-type": "application/vnd.superjson+json" }, body: new TextEncoder().encode('{"json":{},"meta":{"values":{"x":["nope"]}}}') }],
      ["a fetchPack of junk wants", `${repoPath}/rpc/fetchPack`, { method: "POST", body: new TextEncoder().encode('{"wants":["~~~"]}') }],
      ["a settings body of null", `${repoPath}/settings`, { method: "POST", headers: { authorization: `Bearer ${writeToken()}` }, body: new TextEncoder().encode("null") }],
      ["a bad percent-encoding", "/%zz/x.git/info/refs?service=git-upload-pack", {}],
      ["an admin call with a bad token", "/admin/tokens", { headers: { authorization: "Bearer nope" } }],
      ["an admin call with junk JSON", "/admin/tokens", { method: "POST", headers: { authorization: `Bearer ${writeToken()}` }, body: new TextEncoder().encode("{") }],
    ];
    for (const [what, p, req] of requests) {
      const r = await rawRequest(baseUrl(), p, req);
      expect(r.status, `${what}: ${describeReply(r)}`).toBeLessThan(500);
      expect(r.text, what).not.toMatch(LEAK);
    }
  });

  it("in socket frames and close reasons after hostile frames", async () => {
    const ws = new WebSocket(`${baseUrl().replace(/^http/, "ws")}/${owner}/${name}/ws`, socketProtocols(writeToken()));
    const frames: string[] = [];
    let close = "";
    ws.addEventListener("message", (m) => frames.push(String(m.data)));
    ws.addEventListener("close", (e) => (close = `${e.code} ${e.reason}`));
    await new Promise<void>((ok, fail) => {
      ws.addEventListener("open", () => ok());
      ws.addEventListener("error", () => fail(new Error("the repo's socket did not open")));
    });
    for (const f of ['{"type":"rpc","id":"1","method":"nope","args":[]}', '{"type":"rpc","id":"2","method":"refs","args":[1,2,3]}', "{", '{"type":"cf_agent_state","state":1}'])
      ws.send(f);
    ws.send('{"type":"rpc","id":"last","method":"refs","args":[{"input":{"json":{}}}]}');
    const deadline = Date.now() + 10_000;
    while (!frames.some((f) => f.includes('"id":"last"')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    ws.close();
    expect(frames.some((f) => f.includes('"id":"last"')), frames.join("\n")).toBe(true);
    for (const f of frames) expect(f).not.toMatch(LEAK);
    expect(close).not.toMatch(LEAK);
  });
});
