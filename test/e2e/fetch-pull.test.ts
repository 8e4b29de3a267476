/**
 * Incremental fetch and pull after a clone, with protocol v0 and v2.
 * Invariants:
 * - A fetch after one new commit receives exactly that commit's new objects, not the trees the
 *   client already has.
 * - `git pull` fast-forwards the work tree to the pushed commit.
 * Spec: gitprotocol-pack(5) "Packfile Negotiation"; gitprotocol-v2(5) "fetch".
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { commitFile, fsck, git, historyRepo, lines, looseObjects, revParse, tempDir, uniqueRepoUrl } from "./git.ts";

/** The object count in a pack's 12-byte header ("PACK", version, count). */
function packObjectCount(pack: Uint8Array): number {
  expect(new TextDecoder().decode(pack.subarray(0, 4))).toBe("PACK");
  return new DataView(pack.buffer, pack.byteOffset).getUint32(8);
}

describe("fetch and pull", () => {
  for (const protocol of [0, 2] as const) {
    it(`v${protocol}: fetch receives only the new objects, pull fast-forwards`, async () => {
      const src = await historyRepo();
      const url = uniqueRepoUrl(`fetch-v${protocol}`);
      await git(src, ["push", "-q", url, "--all"]);
      const a = join(tempDir(), "a");
      const b = join(tempDir(), "b");
      await git(tempDir(), ["clone", "-q", url, a], { protocol });
      await git(tempDir(), ["clone", "-q", url, b], { protocol });

      const old = await revParse(b, "HEAD");
      // A file three trees deep: the commit, the root tree, deep/, deep/a/, deep/a/b/ and the blob.
      const tip = await commitFile(b, "deep/a/b/new-file.txt", "one small new file\n");
      const newObjects = lines((await git(b, ["rev-list", "--objects", tip, `^${old}`])).stdout).length;
      expect(newObjects).toBe(6);
      await git(b, ["push", "-q", "origin", "main"], { protocol });

      const before = await looseObjects(a);
      // A high unpackLimit makes fetch explode the pack into loose objects we can count. Loose
      // counting misses objects the client already had, so the received pack's header is checked too.
      const received = join(tempDir(), "received.pack");
      await git(a, ["-c", "fetch.unpackLimit=100000", "fetch", "-q", "origin"], { protocol, env: { GIT_TRACE_PACKFILE: received } });
      expect(await looseObjects(a)).toBe(before + newObjects);
      expect(packObjectCount(readFileSync(received))).toBe(newObjects);
      expect(await revParse(a, "refs/remotes/origin/main")).toBe(tip);
      expect(await revParse(a, "HEAD")).toBe(old);

      await git(a, ["pull", "-q", "--ff-only"], { protocol });
      expect(await revParse(a, "HEAD")).toBe(tip);
      expect(readFileSync(join(a, "deep/a/b/new-file.txt"), "utf8")).toBe("one small new file\n");
      expect((await git(a, ["status", "--porcelain"])).stdout).toBe("");
      await fsck(a);
    });
  }
});
