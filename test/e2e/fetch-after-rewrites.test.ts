/**
 * Incremental fetches after history rewrites (issue 13). A fetched pack never both sends an object
 * and uses it as a client-held base, and it sends what git's own upload-pack (`file://` on the same
 * history) sends for the same client.
 * - The regression: the smallest history on which the old walk sent a pack index-pack rejected
 *   (test/fixtures/resent-thin-base.sh), fetched with and without ofs-delta, v0 and v2.
 * - The model-based run: seeded traffic (commits, old-commit branches, deletes, forced updates,
 *   tags, --no-ff merges, atomic pushes) checked after every operation, with mirror, shallow and
 *   partial clones every few operations (test/e2e/model/). `npm run bench -- --long` runs thousands.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { fsck, git, lines, refsOf, tempDir, uniqueRepoUrl, type Protocol } from "./git.ts";
import { decodePack, showIndex } from "./model/checks.ts";
import { runModel } from "./model/run-model.ts";

async function objectIds(dir: string): Promise<Set<string>> {
  return new Set(lines((await git(dir, ["cat-file", "--batch-all-objects", "--batch-check=%(objectname)"])).stdout));
}

describe("fetch after rewrites: the rejected pack's history", () => {
  const fixture = resolve(import.meta.dirname, "../fixtures/resent-thin-base.sh");

  describe.each<[Protocol, boolean]>([
    [2, true],
    [2, false],
    [0, true],
    [0, false],
  ])("protocol v%i, ofs-delta %s", (protocol, ofs) => {
    it("fetches c1..c2 into a mirror at c1: index-pack accepts the pack, which holds nothing the client had", async () => {
      const src = join(tempDir(), "src");
      execFileSync("bash", [fixture, src], {
        env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" },
      });
      const url = uniqueRepoUrl(`rewrites-v${protocol}-${ofs ? "ofs" : "ref"}`);
      // One push a commit, so each is stored as the delta git sent for it (c2's `d` on c1's).
      for (const c of ["c0", "c1"]) await git(src, ["push", "-q", url, `${c}:refs/heads/main`]);
      const mirror = join(tempDir(), "mirror");
      await git(tempDir(), ["clone", "-q", "--mirror", url, mirror], { protocol });
      await git(src, ["push", "-q", url, "c2:refs/heads/main"]);

      const before = await objectIds(mirror);
      const packDir = join(mirror, "objects/pack");
      const packsBefore = new Set(readdirSync(packDir));
      const trace = join(tempDir(), "ours.pack");
      // unpackLimit=1: index-pack --fix-thin takes the pack, as it does for any pack of 100+ objects.
      const cfg = ["-c", "fetch.unpackLimit=1", "-c", `repack.useDeltaBaseOffset=${ofs}`];
      await git(mirror, [...cfg, "fetch", "-q", "--prune", "--force", url, "+refs/*:refs/*"], {
        protocol,
        env: { GIT_TRACE_PACKFILE: trace },
      });
      await fsck(mirror);
      expect(await refsOf(mirror)).toEqual(await refsOf(src, "refs/heads/main"));

      const received = readdirSync(packDir).filter((f) => f.endsWith(".idx") && !packsBefore.has(f));
      expect(received.length).toBe(1);
      const stats = decodePack(
        new Uint8Array(readFileSync(trace)),
        showIndex(readFileSync(join(packDir, received[0]!))),
        before,
      );
      expect(stats.refToInPack).toBe(0);
      expect(stats.resentIds).toEqual([]);
      // c2, its root tree, d's new tree and blob, f's new tree and blob: what git's rev-list sends.
      const want = lines((await git(src, ["rev-list", "--objects", "c2", "^c1"])).stdout).length;
      expect(stats.objects).toBe(want);
    });
  });
});

describe("fetch after rewrites: a seeded model of ordinary traffic", () => {
  it.each<[number, Protocol]>([
    [11, 2],
    [12, 0],
  ])(
    "seed %i (protocol v%i): refs, mirrors, shallow and partial clones match git",
    async (seed, protocol) => {
      const report = await runModel({
        serverUrl: uniqueRepoUrl(`model-${seed}`),
        seed,
        ops: 100,
        checkEvery: 20,
        protocol,
      });
      expect(report.ops).toBe(100);
      expect(report.fetches.length).toBeGreaterThanOrEqual(5);
      expect(report.fetches.some((f) => f.ours.objects > 0)).toBe(true);
    },
    600_000,
  );
});
