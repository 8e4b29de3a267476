/**
 * Real `git push` processes racing on one repo: to the same branch (exactly one may win) and to
 * different branches (all must win).
 * Invariants:
 * - Of concurrent pushes to one branch, exactly one succeeds; the others are rejected, and the
 *   branch ends at the winner's commit.
 * - Concurrent pushes to different branches all succeed.
 * - After every round a fresh clone fscks clean and has the refs the round left.
 * Spec: gitprotocol-pack(5) "Reference Update Request" (old-oid compare-and-swap); git-push(1) "OUTPUT".
 */
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { commitFile, fsck, git, lsRemote, revParse, tempDir, tinyRepo, uniqueRepoUrl } from "./git.ts";

const ROUNDS = 20;

/** A repo on the server with main (2 commits) and `n` clones of it. */
async function setup(name: string, n: number): Promise<{ url: string; clones: string[] }> {
  const seed = await tinyRepo(2);
  const url = uniqueRepoUrl(name);
  await git(seed, ["push", "-q", url, "main"]);
  const clones = await Promise.all(
    Array.from({ length: n }, async (_, k) => {
      const dir = join(tempDir(), `pusher-${k}`);
      await git(tempDir(), ["clone", "-q", url, dir]);
      return dir;
    }),
  );
  return { url, clones };
}

/** A fresh clone fscks clean and its branches are exactly `branches`. */
async function expectClone(url: string, branches: Map<string, string>): Promise<void> {
  const dir = join(tempDir(), "check");
  await git(tempDir(), ["clone", "-q", "--no-checkout", url, dir]);
  await fsck(dir);
  const out = (await git(dir, ["for-each-ref", "--format=%(objectname) %(refname)", "refs/remotes/origin"])).stdout;
  const got = new Map(
    out.split("\n").filter((l) => l && !l.endsWith("/HEAD")).map((l) => l.split(" ")).map(([oid, ref]) => [ref!.replace("refs/remotes/origin/", "refs/heads/"), oid!]),
  );
  expect(got).toEqual(branches);
}

describe("racing pushes", () => {
  describe("to the same branch", () => {
    let url: string;
    let clones: string[];
    beforeAll(async () => {
      ({ url, clones } = await setup("race-same", 4));
    });

    it(`exactly one of four wins, in each of ${ROUNDS} rounds`, async () => {
      // Losers the server refused by compare-and-swap, not the client by its own fast-forward check.
      let refusedByServer = 0;
      for (let round = 1; round <= ROUNDS; round++) {
        // Three pushers build on the tip, one on the commit before it: different bases, one target.
        const tips = await Promise.all(
          clones.map(async (dir, k) => {
            await git(dir, ["fetch", "-q", "origin"]);
            await git(dir, ["reset", "-q", "--hard", k === 3 ? "origin/main~1" : "origin/main"]);
            return commitFile(dir, `round-${round}-pusher-${k}.txt`, `round ${round}, pusher ${k}\n`);
          }),
        );
        const pushes = await Promise.all(clones.map((dir) => git(dir, ["push", "origin", "HEAD:main"], { allowFail: true })));

        const winners = pushes.flatMap((p, k) => (p.code === 0 ? [k] : []));
        expect(winners, `round ${round}: ${pushes.map((p, k) => `pusher ${k} exit ${p.code}: ${p.stderr.trim()}`).join("\n")}`).toHaveLength(1);
        for (const [k, p] of pushes.entries()) {
          if (k === winners[0]) continue;
          expect(p.stderr, `round ${round}, pusher ${k}`).toMatch(/! \[(remote )?rejected\] +HEAD -> main \(/);
          if (p.stderr.includes("[remote rejected]")) refusedByServer++;
        }
        const winner = tips[winners[0]!]!;
        const remote = await lsRemote(url, 2);
        expect(remote.get("refs/heads/main")).toBe(winner);
        expect(remote.get("HEAD")).toBe(winner);
        await expectClone(url, new Map([["refs/heads/main", winner]]));
      }
      expect(refusedByServer, "no round raced far enough to reach the server's compare-and-swap").toBeGreaterThan(0);
    });
  });

  describe("to different branches", () => {
    let url: string;
    let clones: string[];
    beforeAll(async () => {
      ({ url, clones } = await setup("race-lanes", 4));
    });

    it(`all four win, in each of ${ROUNDS} rounds`, async () => {
      const lanes = new Map<string, string>([["refs/heads/main", await revParse(clones[0]!, "origin/main")]]);
      for (let round = 1; round <= ROUNDS; round++) {
        const tips = await Promise.all(clones.map((dir, k) => commitFile(dir, `lane-${k}/round-${round}.txt`, `lane ${k}, round ${round}\n`)));
        const pushes = await Promise.all(clones.map((dir, k) => git(dir, ["push", "origin", `HEAD:refs/heads/lane-${k}`], { allowFail: true })));
        for (const [k, p] of pushes.entries()) expect(p.code, `round ${round}, lane ${k}: ${p.stderr}`).toBe(0);
        tips.forEach((tip, k) => lanes.set(`refs/heads/lane-${k}`, tip));

        const remote = await lsRemote(url, 2, "--heads");
        expect(remote).toEqual(lanes);
        await expectClone(url, lanes);
      }
    });
  });
});
