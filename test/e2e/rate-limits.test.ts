/**
 * Rate limits and cost bounds, on a `wrangler dev` of its own with known budgets: ten anonymous
 * greps at once on a public repo leave another repo's ls-remote under twice its idle latency, the
 * eleventh is over the expensive budget, and the repo's cap on expensive calls turns the rest away
 * `busy`; a write token past its write budget and an anonymous address past its cheap budget get 429.
 * Invariants:
 * - wrangler dev sets CF-Connecting-IP to 127.0.0.1 and passes a client's own value through (the edge
 *   overwrites it when deployed), so each anonymous caller here is a made-up address; the latency
 *   samples use a fresh one each, so they never spend a budget under test.
 * - wrangler dev's windows are aligned to the clock (epoch = now / period), so a burst starts early
 *   in a window (`windowStart`) and cannot straddle a reset.
 * Spec: README "Rate limits".
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "../../client/index.ts";
import { createToken } from "./admin-api.ts";
import { commitFile, git, tempDir, tinyRepo, withToken } from "./git.ts";
import { rawRequest } from "./raw-http.ts";
import { randomAdminToken, startWrangler, type WranglerServer } from "./wrangler-server.ts";

const PERIOD_S = 10;
const LIMITS = { CHEAP_READS_LIMIT: 30, EXPENSIVE_READS_LIMIT: 10, WRITES_LIMIT: 5, EXPENSIVE_CALLS_PER_REPO: 2 };
/** Never matches, and keeps many VM threads alive on every line: each grep spends its whole step budget. */
const COSTLY_PATTERN = "([a-z]+ )+[0-9]{5}zq";
const SAMPLES = 7;

let server: WranglerServer;
let admin: string;
let writer: string;
let addressSeq = 0;
const freshAddress = () => `10.2.${(++addressSeq >> 8) & 255}.${addressSeq & 255}`;

/** Sleeps until early in a rate-limit window, so what follows stays within one. */
async function windowStart(): Promise<void> {
  const into = Date.now() % (PERIOD_S * 1000);
  if (into > 2000) await new Promise((r) => setTimeout(r, PERIOD_S * 1000 - into + 50));
}

/** Wall time of one anonymous ls-remote from an address of its own. */
async function lsRemoteMs(url: string): Promise<number> {
  const t0 = performance.now();
  await git(tempDir(), ["-c", `http.extraHeader=CF-Connecting-IP: ${freshAddress()}`, "ls-remote", url]);
  return performance.now() - t0;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** ~9 MB of text over 150 files: enough that one grep costs its full matcher budget (seconds of CPU). */
async function textHeavyRepo(): Promise<string> {
  const dir = tempDir();
  await git(dir, ["init", "-q", "-b", "main"]);
  const words = "alpha beta gamma delta epsilon zeta theta kappa lambda sigma omega".split(" ");
  for (let f = 0; f < 150; f++) {
    mkdirSync(join(dir, `d${f % 10}`), { recursive: true });
    const lines = Array.from({ length: 800 }, (_, i) => `${Array.from({ length: 10 }, (_, w) => words[(f + i * 3 + w * 7) % words.length]).join(" ")} ${i}`);
    writeFileSync(join(dir, `d${f % 10}`, `f${f}.txt`), `${lines.join("\n")}\n`);
  }
  await git(dir, ["add", "-A"]);
  await git(dir, ["commit", "-q", "-m", "text"]);
  return dir;
}

beforeAll(async () => {
  admin = randomAdminToken();
  const vars = Object.fromEntries(Object.entries(LIMITS).map(([k, v]) => [k, String(v)]));
  server = await startWrangler({ adminToken: admin, vars });
  writer = (await createToken(server.baseUrl, admin, { name: "setup", scopes: ["write"] })).token;
  await git(await textHeavyRepo(), ["push", "-q", withToken(`${server.baseUrl}/pub/big.git`, writer), "main"]);
  await git(await tinyRepo(3), ["push", "-q", withToken(`${server.baseUrl}/pub/other.git`, writer), "main"]);
});

afterAll(async () => {
  await server?.stop();
});

describe("cost bounds", () => {
  it("ten greps at once leave another repo's ls-remote under 2x idle; the eleventh is over budget", { timeout: 180_000 }, async () => {
    const other = `${server.baseUrl}/pub/other.git`;
    await lsRemoteMs(other); // warm: the first call starts the actor
    const idle: number[] = [];
    for (let i = 0; i < SAMPLES; i++) idle.push(await lsRemoteMs(other));

    await windowStart();
    let settled = 0;
    const greps = Array.from({ length: LIMITS.EXPENSIVE_READS_LIMIT + 1 }, () =>
      fetch(`${server.baseUrl}/pub/big/rpc/grep`, {
        method: "POST",
        headers: { "content-type": "application/json", "cf-connecting-ip": "10.1.0.1" },
        body: JSON.stringify({ rev: "main", pattern: COSTLY_PATTERN }),
      }).then(async (res) => {
        const body = (await res.json()) as { error?: { code: string } };
        return { status: res.status, retryAfter: res.headers.get("retry-after"), body };
      }).finally(() => settled++),
    );
    const busy: number[] = [];
    while (settled < greps.length && busy.length < SAMPLES) busy.push(await lsRemoteMs(other));
    const replies = await Promise.all(greps);

    const codes = replies.map((r) => r.body.error?.code ?? "ok");
    expect(codes.filter((c) => c === "rate-limited"), codes.join(" ")).toHaveLength(1);
    expect(codes.filter((c) => c === "busy").length, codes.join(" ")).toBeGreaterThan(0);
    expect(codes.filter((c) => c === "ok").length, codes.join(" ")).toBeGreaterThanOrEqual(LIMITS.EXPENSIVE_CALLS_PER_REPO);
    expect(codes.every((c) => ["ok", "busy", "rate-limited"].includes(c)), codes.join(" ")).toBe(true);
    for (const r of replies.filter((r) => r.body.error))
      expect([r.status, r.retryAfter]).toEqual([429, r.body.error!.code === "busy" ? "1" : String(PERIOD_S)]);

    // Enough samples fell while the greps ran (each spends seconds of CPU) to judge the median.
    expect(busy.length, `ls-remote samples during the greps; idle ${idle.map(Math.round)}`).toBeGreaterThanOrEqual(3);
    expect(median(busy), `idle ${idle.map(Math.round)} ms, during ${busy.map(Math.round)} ms`).toBeLessThan(2 * median(idle));
  });
});

describe("per-caller budgets", () => {
  it("a socket's calls spend the cheap budget of the token that opened it, as HTTP calls do", { timeout: 120_000 }, async () => {
    const reader = (await createToken(server.baseUrl, admin, { name: "socket reader", scopes: ["read"] })).token;
    await windowStart();
    const client = connect(server.baseUrl, "pub", "other", { token: reader });
    try {
      const codes: string[] = [];
      for (let i = 0; i < LIMITS.CHEAP_READS_LIMIT + 5; i++)
        codes.push(await client.refs({}).then(() => "ok", (e: { code?: string }) => e.code ?? String(e)));
      // The upgrade spent one unit of the same budget.
      expect(codes.filter((c) => c === "ok").length).toBe(LIMITS.CHEAP_READS_LIMIT - 1);
      expect(codes.slice(-5)).toEqual(Array(5).fill("rate-limited"));
    } finally {
      client.close();
    }
  });

  it("a write token over its write budget gets 429 on push, and git shows it", { timeout: 120_000 }, async () => {
    const token = (await createToken(server.baseUrl, admin, { name: "pusher", scopes: ["write"] })).token;
    const url = withToken(`${server.baseUrl}/pub/pushed.git`, token);
    const src = await tinyRepo(1);
    await windowStart();
    for (let i = 0; i < LIMITS.WRITES_LIMIT; i++) {
      await commitFile(src, `n${i}.txt`, `${i}\n`);
      await git(src, ["push", "-q", url, "main"]);
    }
    await commitFile(src, "over.txt", "one push too many\n");
    const over = await git(src, ["push", url, "main"], { allowFail: true });
    expect(over.code).not.toBe(0);
    expect(over.stderr).toMatch(/HTTP 429|returned error: 429/);
    // The budget is the caller's: the setup token still pushes.
    await git(src, ["push", "-q", withToken(`${server.baseUrl}/pub/pushed.git`, writer), "main"]);
  });

  it("an anonymous address over its cheap budget gets 429 with Retry-After on info/refs, and git shows it", { timeout: 120_000 }, async () => {
    const path = "/pub/other.git/info/refs?service=git-upload-pack";
    const as = (ip: string) => ({ headers: { "cf-connecting-ip": ip } });
    await windowStart();
    for (let i = 0; i < LIMITS.CHEAP_READS_LIMIT; i++) expect((await rawRequest(server.baseUrl, path, as("10.3.0.1"))).status).toBe(200);
    const over = await rawRequest(server.baseUrl, path, as("10.3.0.1"));
    expect([over.status, over.headers["retry-after"]]).toEqual([429, String(PERIOD_S)]);
    const header = "http.extraHeader=CF-Connecting-IP: 10.3.0.1";
    const lsRemote = await git(tempDir(), ["-c", header, "ls-remote", `${server.baseUrl}/pub/other.git`], { allowFail: true });
    expect(lsRemote.stderr).toMatch(/returned error: 429/);
    // Another address, and the same /64 of IPv6 counted as one caller.
    expect((await rawRequest(server.baseUrl, path, as("10.3.0.2"))).status).toBe(200);
    for (let i = 0; i < LIMITS.CHEAP_READS_LIMIT; i++) await rawRequest(server.baseUrl, path, as(`2001:db8:1:2::${i.toString(16)}`));
    expect((await rawRequest(server.baseUrl, path, as("2001:db8:1:2:ffff::1"))).status).toBe(429);
    expect((await rawRequest(server.baseUrl, path, as("2001:db8:1:3::1"))).status).toBe(200);
  });
});
