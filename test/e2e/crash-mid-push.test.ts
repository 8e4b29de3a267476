/**
 * The server is killed (SIGKILL, whole process group) while a large push streams in, then restarted
 * on the same persisted state.
 * Invariants:
 * - A push the server never finished moves no ref: after the restart the refs are exactly as before it.
 * - The repo still clones and fscks clean, and takes new pushes, the cut-off one included.
 * Spec: gitprotocol-pack(5) "Pushing Data To a Server" (refs move only after the whole pack is in).
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createToken } from "./admin-api.ts";
import { commitFile, fsck, git, lsRemote, revParse, tempDir, tinyRepo, treeOf, withToken } from "./git.ts";
import { randomAdminToken, startWrangler, type WranglerServer } from "./wrangler-server.ts";

const BIG_FILES = 30;
const BIG_FILE_BYTES = 2 << 20;

/** Starts `git push`, resolves once git reports writing objects (some bytes are on the wire), and on exit. */
function startPush(dir: string, url: string, refspec: string) {
  // Random blobs don't deltify; skipping the search gets the bytes on the wire at once.
  const child = spawn("git", ["-c", "core.bigFileThreshold=1m", "push", "--progress", url, refspec], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: tempDir(), GIT_CONFIG_NOSYSTEM: "1", GIT_TERMINAL_PROMPT: "0", LC_ALL: "C" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  let onWriting: () => void;
  const writing = new Promise<void>((r) => (onWriting = r));
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
    // "Writing objects:  13% (4/31), 8.00 MiB | ..." once a few objects went out.
    const pct = [...stderr.matchAll(/Writing objects: +(\d+)%/g)].map((m) => Number(m[1]));
    if (pct.some((p) => p >= 10)) onWriting();
  });
  const exited = new Promise<{ code: number | null; stderr: string }>((r) => child.on("exit", (code) => r({ code, stderr })));
  return { writing, exited };
}

describe("a server killed in the middle of a push", () => {
  it("keeps the refs from before the push, clones clean after a restart, and takes the next pushes", { timeout: 240_000 }, async () => {
    const persistDir = tempDir();
    const adminToken = randomAdminToken();
    let server: WranglerServer = await startWrangler({ persistDir, adminToken });
    const path = `/e2e/crash-${randomBytes(4).toString("hex")}.git`;
    try {
      // Made before the crash: the token must outlive it, like the refs.
      const { token } = await createToken(server.baseUrl, adminToken, { name: "crash-mid-push", scopes: ["write"] });
      const at = (base: string) => withToken(base + path, token);
      const src = await tinyRepo(3);
      await git(src, ["tag", "-a", "v1", "-m", "before the crash"]);
      await git(src, ["push", "-q", at(server.baseUrl), "main", "v1"]);
      const before = await lsRemote(at(server.baseUrl), 2);
      const oldMain = await revParse(src, "main");

      mkdirSync(join(src, "big"));
      for (let i = 0; i < BIG_FILES; i++) writeFileSync(join(src, "big", `random-${i}.bin`), randomBytes(BIG_FILE_BYTES));
      await git(src, ["add", "big"]);
      await git(src, ["commit", "-q", "-m", "60 MB of random blobs"]);

      const push = startPush(src, at(server.baseUrl), "main");
      const first = await Promise.race([push.writing.then(() => "writing" as const), push.exited.then(() => "exited" as const)]);
      if (first === "exited") expect.fail(`git push ended before it was writing objects:\n${(await push.exited).stderr}`);
      await server.stop("SIGKILL");
      const result = await push.exited;
      expect(result.code, `the push finished before the kill; it must be cut off:\n${result.stderr}`).not.toBe(0);

      server = await startWrangler({ persistDir, adminToken });
      const url = at(server.baseUrl);
      expect(await lsRemote(url, 2)).toEqual(before);
      const clone = join(tempDir(), "after-restart");
      await git(tempDir(), ["clone", "-q", url, clone]);
      await fsck(clone);
      expect(await revParse(clone, "HEAD")).toBe(oldMain);

      const next = await commitFile(clone, "after-restart.txt", "the first push after the crash\n");
      await git(clone, ["push", "-q", "origin", "main"]);
      expect(await lsRemote(url, 2)).toEqual(new Map([...before, ["HEAD", next], ["refs/heads/main", next]]));
      const fresh = join(tempDir(), "fresh");
      await git(tempDir(), ["clone", "-q", url, fresh]);
      await fsck(fresh);
      expect(await treeOf(fresh, "HEAD")).toBe(await treeOf(clone, "HEAD"));

      // The push that was cut off, sent again, lands whole.
      const rp = await git(src, ["push", url, "main:refs/heads/big"], { allowFail: true });
      expect(rp.code, `${rp.stderr}\n${server.output().slice(-4000)}`).toBe(0);
      expect((await lsRemote(url, 2, "--heads")).get("refs/heads/big")).toBe(await revParse(src, "main"));
      const big = join(tempDir(), "big");
      await git(tempDir(), ["clone", "-q", "--no-checkout", "--branch", "big", url, big]);
      await fsck(big);
      expect(await treeOf(big, "HEAD")).toBe(await treeOf(src, "main"));
    } finally {
      await server.stop();
    }
  });
});
