/**
 * Pushes and clones of repos at awkward sizes: a big blob, a wide tree, a deep tree, a huge commit
 * message, thousands of refs, a long history.
 * Invariants:
 * - Each repo pushes, then clones back whole: the clone fscks clean and has the same refs, commits and trees.
 * - Each push and each clone stays within an actor's 128 MB: measured as the Worker isolate's peak
 *   (JS heap + buffers) on a server of this file's own, where nothing else runs meanwhile.
 * - Repos are built with `git fast-import` where that is faster than the porcelain.
 * Spec: gitformat-pack(5); gitprotocol-pack(5); git-fast-import(1) (the input streams).
 */
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createToken } from "./admin-api.ts";
import { fsck, git, lsRemote, refsOf, revParse, tempDir, treeOf, withToken } from "./git.ts";
import { IsolateMemory } from "./isolate-memory.ts";
import { randomAdminToken, startWrangler, type WranglerServer } from "./wrangler-server.ts";

/** An actor's memory limit on Cloudflare. */
const ACTOR_MEMORY = 128 << 20;

let server: WranglerServer;
let token: string;
let memory: IsolateMemory;

beforeAll(async () => {
  const adminToken = randomAdminToken();
  server = await startWrangler({ adminToken });
  ({ token } = await createToken(server.baseUrl, adminToken, { name: "sizes", scopes: ["write"] }));
  memory = await IsolateMemory.connect(server.inspectorPort);
});

afterAll(async () => {
  memory?.close();
  await server?.stop();
});

function repoUrl(name: string): string {
  return withToken(`${server.baseUrl}/e2e/${name}-${randomBytes(4).toString("hex")}.git`, token);
}

/** Runs `op` and checks the isolate stayed within an actor's memory meanwhile. */
async function withinActorMemory(what: string, op: () => Promise<unknown>): Promise<void> {
  const { peakBytes } = await memory.peakDuring(op);
  expect(peakBytes, `${what}: isolate peak ${(peakBytes / 2 ** 20).toFixed(0)} MB`).toBeLessThan(ACTOR_MEMORY);
}

const WHO = "E2E Tester <e2e@example.com>";

/** A new repo whose history is the `git fast-import` stream `stream`. */
async function imported(stream: string): Promise<string> {
  const dir = tempDir();
  await git(dir, ["init", "-q"]);
  await git(dir, ["fast-import", "--quiet"], { input: new TextEncoder().encode(stream) });
  return dir;
}

/** One fast-import commit on main (its parent is main's previous commit in the stream); `files` are path -> content. */
function commitCommand(message: string, files: [string, string][], time = 1_700_000_000): string {
  const data = (s: string) => `data ${Buffer.byteLength(s)}\n${s}`;
  return [
    "commit refs/heads/main",
    `committer ${WHO} ${time} +0000`,
    data(message),
    ...files.map(([path, content]) => `M 100644 inline ${path}\n${data(content)}`),
    "",
  ].join("\n");
}

/** Pushes every branch of `src`, clones it back (no checkout), checks the clone against `src`, and checks both stayed within an actor's memory. */
async function roundTrip(name: string, src: string): Promise<{ url: string; clone: string }> {
  const url = repoUrl(name);
  await withinActorMemory(`push of ${name}`, () => git(src, ["push", "-q", url, "refs/heads/*:refs/heads/*"]));
  const clone = join(tempDir(), "clone");
  await withinActorMemory(`clone of ${name}`, () => git(tempDir(), ["clone", "-q", "--no-checkout", url, clone]));
  await fsck(clone);
  expect(await revParse(clone, "HEAD")).toBe(await revParse(src, "main"));
  expect(await treeOf(clone, "HEAD")).toBe(await treeOf(src, "main"));
  return { url, clone };
}

describe("sizes", () => {
  it("one 30 MB random blob", async () => {
    const src = tempDir();
    await git(src, ["init", "-q"]);
    writeFileSync(join(src, "random.bin"), randomBytes(30 << 20));
    await git(src, ["add", "random.bin"]);
    await git(src, ["commit", "-q", "-m", "30 MB of random bytes"]);
    const { clone } = await roundTrip("size-blob", src);
    expect((await git(clone, ["cat-file", "-s", "HEAD:random.bin"])).stdout.trim()).toBe(String(30 << 20));
  });

  it("20,000 files in one directory", async () => {
    const files = Array.from({ length: 20_000 }, (_, i): [string, string] => [`wide/file-${String(i).padStart(5, "0")}.txt`, `file ${i}\n`]);
    const src = await imported(commitCommand("20,000 files in one directory", files));
    const { clone } = await roundTrip("size-wide", src);
    expect((await git(clone, ["ls-tree", "HEAD:wide"])).stdout.trim().split("\n")).toHaveLength(20_000);
  });

  it("a tree 200 levels deep", async () => {
    const path = Array.from({ length: 200 }, (_, i) => `d${i}`).join("/") + "/leaf.txt";
    const src = await imported(commitCommand("200 levels deep", [[path, "at the bottom\n"]]));
    const { clone } = await roundTrip("size-deep", src);
    expect((await git(clone, ["cat-file", "-p", `HEAD:${path}`])).stdout).toBe("at the bottom\n");
  });

  it("a commit message of 1 MB", async () => {
    const line = "a long commit message line that goes on and on and on\n";
    const message = line.repeat(Math.ceil((1 << 20) / line.length)).slice(0, 1 << 20);
    const src = await imported(commitCommand(message, [["file.txt", "one file\n"]]));
    const { clone } = await roundTrip("size-message", src);
    expect((await git(clone, ["log", "-1", "--format=%B", "HEAD"])).stdout.length).toBeGreaterThanOrEqual(1 << 20);
  });

  it("5,000 refs in one push", async () => {
    const stream = Array.from({ length: 10 }, (_, i) => commitCommand(`commit ${i}`, [["n.txt", `${i}\n`]], 1_700_000_000 + i)).join("");
    const src = await imported(stream);
    const commits = (await git(src, ["rev-list", "main"])).stdout.trim().split("\n");
    const updates = Array.from({ length: 4_999 }, (_, i) => `create refs/heads/branch-${String(i).padStart(4, "0")} ${commits[i % commits.length]}\n`);
    await git(src, ["update-ref", "--stdin"], { input: new TextEncoder().encode(updates.join("")) });
    const local = await refsOf(src, "refs/heads");
    expect(local.size).toBe(5_000);

    const { url, clone } = await roundTrip("size-refs", src);
    const remote = await lsRemote(url, 2);
    expect(remote).toEqual(new Map([["HEAD", await revParse(src, "main")], ...local]));
    const cloned = await refsOf(clone, "refs/remotes/origin");
    cloned.delete("refs/remotes/origin/HEAD");
    expect(new Map([...cloned].map(([ref, oid]) => [ref.replace("refs/remotes/origin/", "refs/heads/"), oid]))).toEqual(local);
  });

  it("10,000 commits in one linear history", async () => {
    const stream = Array.from({ length: 10_000 }, (_, i) => commitCommand(`commit ${i}`, [["counter.txt", `${i}\n`]], 1_700_000_000 + i)).join("");
    const src = await imported(stream);
    const { clone } = await roundTrip("size-history", src);
    expect((await git(clone, ["rev-list", "--count", "HEAD"])).stdout.trim()).toBe("10000");
    expect((await git(clone, ["rev-list", "--max-parents=0", "HEAD"])).stdout.trim()).toBe(
      (await git(src, ["rev-list", "--max-parents=0", "main"])).stdout.trim(),
    );
  });
});
