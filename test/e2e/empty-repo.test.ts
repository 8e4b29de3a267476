/**
 * Repos that do not exist, repos with no refs, and names the server must refuse.
 * Invariants:
 * - A missing repo is a 404 and git says so; a repo whose only branch was deleted clones as empty.
 * - An invalid owner or repo name gets a 400 on both services, and a push to it fails.
 * Spec: gitprotocol-http(5) "Smart Clients"; gitprotocol-v2(5) "ls-refs" (unborn).
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { baseUrl, commitFile, externalServer, git, lsRemote, splitCredentials, tempDir, tinyRepo, uniqueRepoUrl, withToken } from "./git.ts";

describe("missing and empty repos", () => {
  for (const protocol of [0, 2] as const) {
    it(`v${protocol}: cloning a repo that does not exist fails with 404`, async () => {
      const url = uniqueRepoUrl("missing");
      const r = await git(tempDir(), ["clone", url, join(tempDir(), "clone")], { protocol, allowFail: true });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/not found/i);
      const res = await fetch(`${splitCredentials(url).url}/info/refs?service=git-upload-pack`);
      await res.arrayBuffer();
      expect(res.status).toBe(404);
    });

    it(`v${protocol}: a repo whose only branch was deleted clones as empty and takes a push`, async () => {
      const src = await tinyRepo(1);
      const url = uniqueRepoUrl(`emptied-v${protocol}`);
      // Not main: git's server keeps HEAD on main and refuses to delete the branch HEAD names.
      await git(src, ["push", "-q", url, "main:refs/heads/only"]);
      await git(src, ["push", "-q", url, ":refs/heads/only"]);
      expect((await lsRemote(url, protocol)).size).toBe(0);

      const clone = join(tempDir(), "clone");
      const r = await git(tempDir(), ["clone", url, clone], { protocol });
      expect(r.stderr).toContain("You appear to have cloned an empty repository");
      expect((await git(clone, ["rev-parse", "--verify", "-q", "HEAD"], { allowFail: true })).code).not.toBe(0);

      // Which branch an empty clone starts on is the server's HEAD policy (v2 advertises an unborn
      // HEAD); whichever it is, pushing it must make HEAD resolve again.
      const branch = (await git(clone, ["symbolic-ref", "HEAD"])).stdout.trim();
      const tip = await commitFile(clone, "again.txt", "back again\n");
      await git(clone, ["push", "-q", "origin", "HEAD"], { protocol });
      expect(await lsRemote(url, protocol)).toEqual(new Map([["HEAD", tip], [branch, tip]]));
    });
  }
});

describe("invalid names", () => {
  const bad = {
    "an owner with a space": "/bad%20owner/x.git",
    "a repo named ..": "/e2e/...git",
    "a non-ASCII repo name": "/e2e/caf%C3%A9.git",
    // Unique, because refserver creates it on a receive-pack request.
    "an over-long repo name": `/e2e/${"a".repeat(150)}-${randomBytes(4).toString("hex")}.git`,
  };
  for (const [what, path] of Object.entries(bad)) {
    it(`refuses ${what}`, async () => {
      // With the write token: the name is what gets refused, not the caller.
      const { url, headers } = splitCredentials(withToken(`${baseUrl()}${path}`));
      const status = async (service: string) => {
        const res = await fetch(`${url}/info/refs?service=${service}`, { headers });
        await res.arrayBuffer();
        return res.status;
      };
      // git's http-backend checks no names: it answers 404 for any repo it lacks, and refserver
      // creates any push target made of safe characters, however long. So an external server is
      // only held to refusing the fetch side.
      if (externalServer()) {
        expect([400, 404]).toContain(await status("git-upload-pack"));
        return;
      }
      expect(await status("git-upload-pack")).toBe(400);
      expect(await status("git-receive-pack")).toBe(400);
      const push = await git(await tinyRepo(1), ["push", withToken(`${baseUrl()}${path}`), "main"], { allowFail: true });
      expect(push.code).not.toBe(0);
    });
  }
});
