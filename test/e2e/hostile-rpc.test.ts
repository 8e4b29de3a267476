/**
 * Fuzz-style hostile input on every route besides the pack-level cases of hostile-input.test.ts:
 * deeply nested JSON, huge headers and random bytes to every RPC method and every other route, hostile
 * socket frames, and ref names past git's length limits on push and on the write RPCs.
 * Invariants:
 * - No request gets a 5xx or a broken reply; each answers within REQUEST_TIMEOUT_MS.
 * - The repo under attack keeps exactly the refs it had (checked after every group of cases), and a
 *   clone of it fscks clean (--strict) at the end.
 * - Requests carry the write token, so they are refused for what they break, not for lack of auth
 *   (an anonymous pass runs too).
 * Spec: RFC 8259 (JSON); RFC 9110 section 15 (statuses); git-check-ref-format(1) and the file system's
 *       limits (a ref name is a path: NAME_MAX 255 per component, ~PATH_MAX for the whole name).
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { RPC_METHODS, socketProtocols } from "../../protocol/rpc/index.ts";
import { basicAuth, fsck, git, lsRemote, packOf, revParse, splitCredentials, tempDir, tinyRepo, uniqueRepoUrl, writeToken, ZERO_OID } from "./git.ts";
import { rawRequest, receivePackRequest, reportStatus, type RawReply } from "./raw-http.ts";

const utf8 = (s: string) => new TextEncoder().encode(s);

let url: string;
let origin: string;
/** `/<owner>/<name>`, without `.git`. */
let repoPath: string;
let before: Map<string, string>;
let main: string;
let src: string;

beforeAll(async () => {
  src = await tinyRepo(3);
  await git(src, ["tag", "-a", "v1", "-m", "release 1"]);
  url = uniqueRepoUrl("hostile-rpc");
  await git(src, ["push", "-q", url, "main", "v1"]);
  main = await revParse(src, "main");
  const plain = new URL(splitCredentials(url).url);
  origin = plain.origin;
  repoPath = plain.pathname.replace(/\.git$/, "");
  before = await lsRemote(url, 2);
});

afterAll(async () => {
  const clone = join(tempDir(), "clone");
  await git(tempDir(), ["clone", "-q", "--mirror", url, clone]);
  await fsck(clone);
});

/**
 * `wrangler dev`'s own ProxyWorker, in front of our Worker, now and then loses a request whose body
 * our Worker refused before reading all of it, and answers 500 itself ("Error inside ProxyWorker …
 * Network connection lost" in its log). Deployed Workers have no such proxy. Such a reply is sent
 * again once, and the second answer must be ours and not a 5xx.
 */
function isProxyWorkerLoss(r: RawReply): boolean {
  return r.status === 500 && r.text.startsWith("Error: Network connection lost.") && r.text.includes("miniflare");
}

const describeReply = (r: RawReply) => `HTTP ${r.status}: ${JSON.stringify(r.text.slice(0, 300))}`;

/** Sends every case (a few at a time), collects those answered 5xx or not at all, then checks the refs. */
async function expectNo5xx(cases: [string, () => Promise<RawReply>][]): Promise<void> {
  const wrong: string[] = [];
  for (let i = 0; i < cases.length; i += 6) {
    await Promise.all(
      cases.slice(i, i + 6).map(async ([what, send]) => {
        try {
          let r = await send();
          if (isProxyWorkerLoss(r)) r = await send();
          if (r.status >= 500) wrong.push(`${what}: ${describeReply(r)}`);
        } catch (e) {
          wrong.push(`${what}: ${(e as Error).message}`);
        }
      }),
    );
  }
  expect(wrong).toEqual([]);
  expect(await lsRemote(url, 2)).toEqual(before);
}

// ---- the bodies --------------------------------------------------------------------------------

const nestedArrays = (depth: number) => "[".repeat(depth) + "]".repeat(depth);
const nestedObjects = (depth: number) => '{"a":'.repeat(depth) + "1" + "}".repeat(depth);

const BODIES: Record<string, () => Uint8Array> = {
  "5,000 nested arrays": () => utf8(nestedArrays(5000)),
  "100,000 nested objects": () => utf8(nestedObjects(100_000)),
  "65 nested arrays (one past the bound)": () => utf8(nestedArrays(65)),
  "nesting inside a plausible input": () => utf8(`{"rev":${nestedArrays(5000)},"path":"x","pattern":"a","branch":"main"}`),
  "nesting inside a superjson payload": () => utf8(`{"json":${nestedObjects(5000)},"meta":{"values":${nestedObjects(5000)}}}`),
  "an unterminated nesting": () => utf8("[".repeat(10_000)),
  "4 KiB of random bytes": () => randomBytes(4096),
  "256 KiB of random bytes": () => randomBytes(256 << 10),
  "random bytes after a JSON prefix": () => Buffer.concat([utf8('{"rev":"'), randomBytes(2048)]),
  "JSON null": () => utf8("null"),
  "a JSON string": () => utf8('"refs"'),
  "a huge flat array": () => utf8(`[${"0,".repeat(500_000)}0]`),
};

const ROUTES: [string, string, "GET" | "POST", Record<string, string>][] = [
  ...Object.keys(RPC_METHODS).flatMap((m): [string, string, "GET" | "POST", Record<string, string>][] => [
    [`rpc/${m} (JSON)`, `/rpc/${m}`, "POST", { "content-type": "application/json" }],
    [`rpc/${m} (superjson)`, `/rpc/${m}`, "POST", { "content-type": "application/vnd.superjson+json" }],
  ]),
  ["rpc/subscribe (socket only)", "/rpc/subscribe", "POST", { "content-type": "application/json" }],
  ["rpc/noSuchMethod", "/rpc/noSuchMethod", "POST", {}],
  ["rpc/push", `/rpc/push?update=${ZERO_OID}:${"1".repeat(40)}:refs/heads/fuzz`, "POST", {}],
  ["rpc/push, deletes only", `/rpc/push?update=${"1".repeat(40)}:${ZERO_OID}:refs/heads/main`, "POST", {}],
  ["rpc/fetchPack", "/rpc/fetchPack", "POST", { "content-type": "application/json" }],
  ["settings", "/settings", "POST", { "content-type": "application/json" }],
  ["git-upload-pack", ".git/git-upload-pack", "POST", { "content-type": "application/x-git-upload-pack-request" }],
  ["git-upload-pack v2", ".git/git-upload-pack", "POST", { "content-type": "application/x-git-upload-pack-request", "git-protocol": "version=2" }],
  ["git-receive-pack", ".git/git-receive-pack", "POST", { "content-type": "application/x-git-receive-pack-request" }],
  ["info/refs", ".git/info/refs?service=git-upload-pack", "GET", {}],
  ["ws without an upgrade", "/ws", "GET", {}],
];

/** The route's full path; the admin route lives outside the repo. */
const pathOf = (suffix: string) => (suffix.startsWith("/admin") ? suffix : `${repoPath}${suffix}`);

describe("every route, every hostile body: never a 5xx, no ref moves", () => {
  for (const [route, suffix, method, headers] of ROUTES) {
    it(route, async () => {
      await expectNo5xx(
        Object.entries(BODIES).flatMap(([what, body]): [string, () => Promise<RawReply>][] => {
          const send = (extra: Record<string, string>, b: Uint8Array) =>
            rawRequest(origin, pathOf(suffix), { method, headers: { ...headers, ...extra }, ...(method === "POST" ? { body: b } : {}) });
          return [
            [`${what}, with the write token`, () => send(basicAuth(), body())],
            [`${what}, anonymous`, () => send({}, body())],
            [`${what}, gzip-encoded`, () => send({ ...basicAuth(), "content-encoding": "gzip" }, gzipSync(body()))],
          ];
        }),
      );
    });
  }

  it("admin/tokens (with the admin secret)", async () => {
    const adminToken = inject("adminToken");
    await expectNo5xx(
      Object.entries(BODIES).map(([what, body]): [string, () => Promise<RawReply>] => [
        what,
        () => rawRequest(origin, "/admin/tokens", { method: "POST", headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" }, body: body() }),
      ]),
    );
  });
});

describe("huge and hostile headers: never a 5xx", () => {
  const many = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`x-fuzz-${i}`, "v".repeat(400)]));
  const HEADERS: Record<string, Record<string, string>> = {
    "one 60 KB header": { "x-fuzz": "h".repeat(60_000) },
    "200 headers of 400 bytes": many,
    "a 50 KB bearer token": { authorization: `Bearer ${"t".repeat(50_000)}` },
    "a 50 KB basic credential": { authorization: `Basic ${Buffer.from(`x:${"p".repeat(37_000)}`).toString("base64")}` },
    "basic credentials that are not base64": { authorization: "Basic %%%not-base64%%%" },
    "an authorization of random latin-1": { authorization: Buffer.from(randomBytes(64).map((b) => 0x20 + (b % 0x5f))).toString("latin1") },
    "a 20 KB content type": { "content-type": `application/json; ${"p=1; ".repeat(3500)}` },
    "a 20 KB git-protocol": { "git-protocol": `version=2:${"x=y:".repeat(5000)}` },
    "a 10 KB content encoding": { "content-encoding": "gzip, ".repeat(1500) },
    "an accept of 20 KB": { accept: "application/vnd.superjson+json, ".repeat(600) },
  };
  const targets: [string, string, "GET" | "POST"][] = [
    ["rpc/refs", "/rpc/refs", "POST"],
    ["rpc/commit", "/rpc/commit", "POST"],
    ["rpc/fetchPack", "/rpc/fetchPack", "POST"],
    ["info/refs", ".git/info/refs?service=git-upload-pack", "GET"],
    ["git-receive-pack", ".git/git-receive-pack", "POST"],
    ["ws", "/ws", "GET"],
    ["settings", "/settings", "POST"],
  ];
  it("on every kind of route", async () => {
    await expectNo5xx(
      targets.flatMap(([route, suffix, method]) =>
        Object.entries(HEADERS).map(([what, headers]): [string, () => Promise<RawReply>] => [
          `${route}: ${what}`,
          () => rawRequest(origin, pathOf(suffix), { method, headers, ...(method === "POST" ? { body: utf8("{}") } : {}) }),
        ]),
      ),
    );
  });

  it("a URL of 16 KB and a query of junk", async () => {
    await expectNo5xx([
      ["a 16 KB path", () => rawRequest(origin, `${repoPath}/${"p".repeat(16_000)}`)],
      ["a 16 KB method name", () => rawRequest(origin, `${repoPath}/rpc/${"m".repeat(16_000)}`, { method: "POST" })],
      ["a 16 KB service", () => rawRequest(origin, `${repoPath}.git/info/refs?service=${"s".repeat(16_000)}`)],
      ["a push update of junk", () => rawRequest(origin, `${repoPath}/rpc/push?update=${encodeURIComponent(randomBytes(300).toString("latin1"))}`, { method: "POST", headers: basicAuth() })],
      ["a push of a 5,000-character ref", () => rawRequest(origin, `${repoPath}/rpc/push?update=${ZERO_OID}:${main}:refs/heads/${"r".repeat(5000)}`, { method: "POST", headers: basicAuth() })],
      ["a socket with a 16 KB token", () => rawRequest(origin, `${repoPath}/ws?token=${"t".repeat(16_000)}`, { headers: { upgrade: "websocket", connection: "upgrade" } })],
    ]);
  });
});

describe("hostile frames on the repo's WebSocket: answered or closed cleanly, never a stack", () => {
  it("nested JSON, random bytes and junk calls; the socket still answers a good call after", async () => {
    const wsUrl = `${origin.replace(/^http/, "ws")}${repoPath}/ws`;
    const ws = new WebSocket(wsUrl, socketProtocols(writeToken()));
    const received: string[] = [];
    let closed: { code: number; reason: string } | undefined;
    ws.addEventListener("message", (m) => received.push(String(m.data)));
    ws.addEventListener("close", (e) => (closed = { code: e.code, reason: e.reason }));
    await new Promise<void>((ok, fail) => {
      ws.addEventListener("open", () => ok());
      ws.addEventListener("error", () => fail(new Error("socket did not open")));
    });
    const call = (id: string, method: string, argsJson: string) => `{"type":"rpc","id":"${id}","method":"${method}","args":[${argsJson}]}`;
    const frames: (string | Uint8Array)[] = [
      call("n1", "refs", `{"input":{"json":${nestedArrays(5000)}}}`),
      call("n2", "refs", nestedObjects(20_000)),
      call("n3", "createBranch", `{"input":{"json":{"name":${nestedArrays(5000)},"from":"main"}}}`),
      call("n4", "refs", `{"input":{"json":{},"meta":{"values":${nestedObjects(5000)}}}}`),
      `{"type":"rpc","id":"n5","method":${nestedArrays(5000)},"args":[]}`,
      `{"type":"cf_agent_state","state":${nestedObjects(5000)}}`,
      nestedArrays(50_000),
      randomBytes(4096),
      randomBytes(1024).toString("latin1"),
      call("j1", "gitReceivePack", "null"),
      call("j2", "fetch", "{}"),
      call("j3", "_cf_initAsFacet", '"x"'),
      call("j4", "onBeforeSubAgent", "{}"),
      call("j5", "setVisibility", '"public"'),
      call("j6", "createBranch", `{"input":{"json":{"name":"${"b".repeat(2000)}","from":"main"}}}`),
    ];
    for (const f of frames) ws.send(f);
    ws.send(call("good", "refs", '{"input":{"json":{}}}'));
    const deadline = Date.now() + 10_000;
    while (!closed && !received.some((m) => m.includes('"id":"good"')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    ws.close();
    expect(closed, `the socket closed: ${JSON.stringify(closed)}`).toBeUndefined();
    const good = received.find((m) => m.includes('"id":"good"'));
    expect(good, received.join("\n").slice(0, 2000)).toContain(main);
    for (const m of received) expect(m, "a stack trace or server path went to the client").not.toMatch(/\n\s+at |file:\/\/|\.ts:\d+/);
    expect(await lsRemote(url, 2)).toEqual(before);
  });
});

describe("ref names past git's limits (1,024 bytes per name, 255 per component)", () => {
  const long = `refs/heads/${"a/".repeat(600)}b`; // 1,212 bytes, short components
  const wideComponent = `refs/heads/${"c".repeat(256)}`;
  const wideUtf8 = `refs/heads/${"ü".repeat(128)}`; // 128 characters, 256 bytes
  const huge = `refs/heads/${"x".repeat(65_300)}`;

  it("receive-pack answers ng for each, moves nothing, and keeps serving v0 and v2", async () => {
    const pack = await packOf(src, main);
    for (const ref of [long, wideComponent, wideUtf8, huge]) {
      const r = await rawRequest(origin, `${repoPath}.git/git-receive-pack`, {
        method: "POST",
        headers: { "content-type": "application/x-git-receive-pack-request", ...basicAuth() },
        body: receivePackRequest([{ old: ZERO_OID, new: main, ref }], "report-status side-band-64k", pack),
      });
      expect(r.status, describeReply(r)).toBe(200);
      const report = reportStatus(r.body);
      expect(report.refs.get(ref), `${ref.slice(0, 40)}…: ${describeReply(r)}`).toMatch(/longer than (1024|255) bytes/);
    }
    expect(await lsRemote(url, 0)).toEqual(before);
    expect(await lsRemote(url, 2)).toEqual(before);
  });

  it("the write RPCs answer 400 for each, and accept a name at the limits", async () => {
    const post = (method: string, body: unknown) =>
      fetch(`${origin}${repoPath}/rpc/${method}`, { method: "POST", headers: { "content-type": "application/json", ...basicAuth() }, body: JSON.stringify(body) });
    for (const ref of [long, wideComponent, wideUtf8]) {
      for (const [method, body] of [
        ["createBranch", { name: ref, from: "main" }],
        ["createTag", { name: ref.replace("refs/heads/", "refs/tags/"), target: "main" }],
        ["deleteBranch", { name: ref }],
        ["commit", { branch: ref, expectedParent: null, message: "m", author: { name: "a", email: "a@x" }, changes: [{ path: "f", content: "x" }] }],
      ] as const) {
        const res = await post(method, body);
        const json = (await res.json()) as { error?: { code: string; message: string } };
        expect([method, res.status, json.error?.code]).toEqual([method, 400, "rpc-bad-input"]);
        expect(json.error?.message).toMatch(/longer than (1024|255) bytes/);
      }
    }
    expect(await lsRemote(url, 2)).toEqual(before);
    // At the limits: a 255-byte component in a name of at most 1,024 bytes is a ref like any other.
    const atLimit = `refs/heads/${"d".repeat(255)}/${"e".repeat(255)}/${"f".repeat(255)}/${"g".repeat(240)}`;
    expect(new TextEncoder().encode(atLimit).length).toBeLessThanOrEqual(1024);
    const made = await post("createBranch", { name: atLimit, from: "main" });
    expect(made.status, await made.clone().text()).toBe(200);
    expect((await lsRemote(url, 0)).get(atLimit)).toBe(main);
    expect((await lsRemote(url, 2)).get(atLimit)).toBe(main);
    expect((await post("deleteBranch", { name: atLimit })).status).toBe(200);
    expect(await lsRemote(url, 2)).toEqual(before);
  });
});
