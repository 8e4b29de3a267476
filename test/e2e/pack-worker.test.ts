/**
 * The PackWorker pool under real git, on a `wrangler dev` of its own whose slots fail on purpose:
 * pack-slot-0 throws, pack-slot-1 hangs. Clones that walk trees (every one but a full clone) diff
 * them on the pool, and clones that need deltas resolved (their bases are not sent) resolve them
 * there, in small batches; each must still be complete and fsck clean.
 * Invariants:
 * - Every batch a faulty slot dropped was redone (on another slot or locally): no clone is short.
 * Spec: gitprotocol-pack(5) "Packfile Data"; gitformat-pack(5).
 */
import { createHash } from "node:crypto";
import { appendFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createToken } from "./admin-api.ts";
import { fsck, git, lines, revParse, tempDir, withToken } from "./git.ts";
import { randomAdminToken, startWrangler, type WranglerServer } from "./wrangler-server.ts";

const FILES = 24;
const COMMITS = 40;

/**
 * main: COMMITS commits each appending a line to every file; `old` and tag v1 point at commit 10.
 * Repacked as git would serve it: each file's newest version whole, older ones deltas of it, so a
 * clone of `old` needs deltas whose bases it is not sent.
 */
async function appendedHistory(): Promise<string> {
  const dir = join(tempDir(), "src");
  await git(tempDir(), ["init", "-q", "-b", "main", dir]);
  const hex = (s: string) => createHash("sha1").update(s).digest("hex");
  const files = Array.from({ length: FILES }, (_, f) => Array.from({ length: 100 }, (_, l) => `${l}: ${hex(`${f}/${l}`)} ${hex(`${l}/${f}`)}`));
  const stream: string[] = [];
  for (let c = 1; c <= COMMITS; c++) {
    stream.push(`commit refs/heads/main\nmark :${c}\ncommitter T <t@example.com> ${1_700_000_000 + c * 60} +0000\ndata 9\ncommit ${String(c).padStart(2, "0")}\n`);
    if (c > 1) stream.push(`from :${c - 1}\n`);
    files.forEach((lines, f) => {
      lines.push(`added by commit ${c}: ${hex(`${f}@${c}`)}`);
      const data = lines.join("\n") + "\n";
      stream.push(`M 100644 inline dir-${f % 4}/file-${f}.txt\ndata ${Buffer.byteLength(data)}\n${data}\n`);
    });
    stream.push("\n");
  }
  await git(dir, ["fast-import", "--quiet"], { input: new TextEncoder().encode(stream.join("")) });
  await git(dir, ["repack", "-adfq"]);
  await git(dir, ["branch", "old", "main~30"]);
  await git(dir, ["tag", "v1", "main~30"]);
  await git(dir, ["checkout", "-q", "main"]);
  return dir;
}

describe("clones through a PackWorker pool with failing slots", () => {
  let server: WranglerServer;
  /** The server's log shows `re` within 10 s: a slot's failure is logged as it happens, not with the answer. */
  const expectLogged = async (re: RegExp) => {
    for (const deadline = Date.now() + 10_000; !re.test(server.output()) && Date.now() < deadline; )
      await new Promise((r) => setTimeout(r, 100));
    expect(server.output()).toMatch(re);
  };
  let src: string;
  let url: string;

  beforeAll(async () => {
    const adminToken = randomAdminToken();
    server = await startWrangler({
      adminToken,
      vars: {
        PACK_WORKER_POOL: "3",
        PACK_WORKER_THRESHOLD: "0",
        PACK_WORKER_BATCH: "16",
        PACK_WORKER_TIMEOUT_MS: "1000",
        PACK_WORKER_FAULTS: "pack-slot-0:throw,pack-slot-1:hang",
      },
    });
    src = await appendedHistory();
    const { token } = await createToken(server.baseUrl, adminToken, { name: "pack-worker", scopes: ["write"] });
    url = withToken(`${server.baseUrl}/e2e/pack-worker.git`, token);
    await git(src, ["push", "-q", url, "main", "old", "v1"]);
  });
  afterAll(async () => {
    await server?.stop();
  });

  /** The clone has `branch` at the source's commit, its full tree, and passes fsck. */
  async function expectComplete(dir: string, branch: string) {
    await fsck(dir);
    expect(await revParse(dir, "HEAD")).toBe(await revParse(src, branch));
    const want = lines((await git(src, ["ls-tree", "-r", branch])).stdout);
    expect(lines((await git(dir, ["ls-tree", "-r", "HEAD"])).stdout)).toEqual(want);
    expect((await git(dir, ["status", "--porcelain"])).stdout).toBe("");
  }

  it("grep scattered over the faulty slots finds exactly what git grep finds", async () => {
    for (const rev of ["old", "main"]) {
      const pattern = "added by commit (1[0-9]|3[0-9]):";
      const res = await fetch(`${server.baseUrl}/e2e/pack-worker/rpc/grep`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ rev, pattern, maxResults: 1000 }),
      });
      expect(res.status).toBe(200);
      const got = (await res.json()) as { matches: { path: string; line: number; text: string }[]; filesSearched: number; stoppedBy: string | null };
      const want = lines((await git(src, ["grep", "-n", "-E", "-e", pattern, rev])).stdout).map((l) => {
        const m = /^[^:]+:([^:]+):(\d+):(.*)$/.exec(l)!;
        return { path: m[1], line: Number(m[2]), text: m[3] };
      });
      expect(got.stoppedBy).toBeNull();
      expect(got.filesSearched).toBe(FILES);
      expect(got.matches.map(({ path, line, text }) => ({ path, line, text }))).toEqual(want);
    }
    // The batches really went to the slots, met the faults and were redone.
    await expectLogged(/pack-worker: grep batch \d+ \(\d+ items\) failed on pack-slot-[01]/);
  });

  it("diff scattered over the faulty slots gives git's hunks for every file", async () => {
    const res = await fetch(`${server.baseUrl}/e2e/pack-worker/rpc/diff`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ from: "old", to: "main", context: 3 }),
    });
    expect(res.status).toBe(200);
    const got = (await res.json()) as { files: { path: string; status: string; hunks: { header: string; lines: string[] }[] }[] };
    const names = lines((await git(src, ["diff", "--name-only", "old", "main"])).stdout);
    expect(got.files.map((f) => f.path)).toEqual(names);
    expect(names).toHaveLength(FILES);
    for (const f of got.files) {
      const gitLines = lines((await git(src, ["diff", "-U3", "old", "main", "--", f.path])).stdout);
      const body = gitLines.slice(gitLines.findIndex((l) => l.startsWith("@@")));
      expect(f.hunks.flatMap((h) => [h.header, ...h.lines]), f.path).toEqual(body);
    }
    await expectLogged(/pack-worker: diff batch \d+ \(\d+ items\) failed on pack-slot-[01]/);
  });

  for (const protocol of [0, 2] as const) {
    it(`a single-branch clone of an old branch is complete (v${protocol}), its deltas resolved around the faults`, async () => {
      const dir = join(tempDir(), "old");
      await git(tempDir(), ["clone", "-q", "--single-branch", "--branch", "old", url, dir], { protocol });
      await expectComplete(dir, "old");
      expect((await git(dir, ["rev-list", "--count", "HEAD"])).stdout.trim()).toBe("10");
    });
  }

  it("a depth-1 clone of the old tag is complete", async () => {
    const dir = join(tempDir(), "shallow");
    await git(tempDir(), ["clone", "-q", "--depth", "1", "--branch", "v1", url, dir]);
    await expectComplete(dir, "v1^{commit}");
  });

  it("a full clone is complete", async () => {
    const dir = join(tempDir(), "full");
    await git(tempDir(), ["clone", "-q", url, dir]);
    await expectComplete(dir, "main");
  });

  it("after a thin push, a full clone (the stored packs sent whole) is complete", async () => {
    const work = join(tempDir(), "work");
    await git(tempDir(), ["clone", "-q", url, work]);
    await git(work, ["config", "user.name", "T"]);
    await git(work, ["config", "user.email", "t@example.com"]);
    for (let f = 0; f < FILES; f += 5) appendFileSync(join(work, `dir-${f % 4}/file-${f}.txt`), `one more line for ${f}\n`);
    await git(work, ["commit", "-qam", "thin"]);
    const pushed = await git(work, ["push", "-v", "origin", "main"]);
    expect(pushed.stderr).toMatch(/main -> main/);
    const dir = join(tempDir(), "after-thin");
    await git(tempDir(), ["clone", "-q", url, dir]);
    await fsck(dir);
    expect(await revParse(dir, "HEAD")).toBe(await revParse(work, "HEAD"));
    expect((await git(dir, ["rev-list", "--count", "--all"])).stdout.trim()).toBe(String(COMMITS + 1));
  });

  it("the faults were hit: batches failed on both faulty slots and were redone", () => {
    const out = server.output();
    expect(out).toMatch(/whole-entries batch \d+ \(\d+ items\) failed on pack-slot-0: .*injected fault/);
    expect(out).toMatch(/whole-entries batch \d+ \(\d+ items\) failed on pack-slot-1: no complete result within 1000 ms/);
    // The single-branch and shallow clones walked their trees on the slots too.
    expect(out).toMatch(/tree-diff batch \d+ \(\d+ items\) failed on pack-slot-0: .*injected fault/);
    expect(out).toMatch(/tree-diff batch \d+ \(\d+ items\) failed on pack-slot-1: no complete result within 1000 ms/);
    expect(out).not.toMatch(/failed on pack-slot-2/);
  });
});
