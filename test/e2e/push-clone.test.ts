/**
 * Pushes a varied history (history.sh) to a new repo and clones it back with protocol v0 and v2.
 * Invariants:
 * - A clone holds exactly the source's branches and tags, fscks clean, and checks out main's tree.
 * - An annotated tag stays annotated; a lightweight tag stays a plain commit ref.
 * Spec: gitprotocol-http(5), gitprotocol-pack(5), gitprotocol-v2(5) "fetch".
 */
import { lstatSync, readlinkSync, statSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { expectedAdvertisement, fsck, git, historyRepo, lsRemote, refsOf, revParse, tempDir, treeOf, uniqueRepoUrl } from "./git.ts";

describe("push a history, clone it back", () => {
  let src: string;
  let url: string;

  beforeAll(async () => {
    src = await historyRepo();
    url = uniqueRepoUrl("push-clone");
    // Two pushes: the second sends only the annotated tag object on top of what the server has.
    await git(src, ["push", "-q", url, "--all"]);
    await git(src, ["push", "-q", url, "--tags"]);
  });

  it("the server advertises every pushed branch and tag, HEAD as main", async () => {
    expect(await lsRemote(url, 2)).toEqual(await expectedAdvertisement(src));
  });

  for (const protocol of [0, 2] as const) {
    it(`clones with protocol v${protocol}: complete, clean, same refs and trees`, async () => {
      const dir = join(tempDir(), "clone");
      const r = await git(tempDir(), ["clone", "--progress", url, dir], { protocol });
      expect(r.stderr).toMatch(/Receiving objects|remote: /);

      await fsck(dir);
      expect((await git(dir, ["symbolic-ref", "HEAD"])).stdout.trim()).toBe("refs/heads/main");
      expect(await treeOf(dir, "HEAD")).toBe(await treeOf(src, "main"));
      expect((await git(dir, ["status", "--porcelain"])).stdout).toBe("");

      const expected = new Map<string, string>();
      for (const [ref, oid] of await refsOf(src)) expected.set(ref.replace(/^refs\/heads\//, "refs/remotes/origin/"), oid);
      expected.set("refs/remotes/origin/HEAD", await revParse(src, "main"));
      expect(await refsOf(dir)).toEqual(new Map([...expected, ["refs/heads/main", await revParse(src, "main")]]));

      expect((await git(dir, ["cat-file", "-t", "refs/tags/v1.0"])).stdout.trim()).toBe("tag");
      expect(await revParse(dir, "v1.0^{}")).toBe(await revParse(src, "v1.0^{}"));
      expect((await git(dir, ["cat-file", "-t", "refs/tags/v0.1"])).stdout.trim()).toBe("commit");

      expect(lstatSync(join(dir, "link-to-readme")).isSymbolicLink()).toBe(true);
      expect(readlinkSync(join(dir, "link-to-readme"))).toBe("README");
      expect(statSync(join(dir, "scripts/run.sh")).mode & 0o111).not.toBe(0);
      expect((await git(dir, ["rev-list", "--count", "--all"])).stdout).toBe((await git(src, ["rev-list", "--count", "--all"])).stdout);
    });
  }
});
