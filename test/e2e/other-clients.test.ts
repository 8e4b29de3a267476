/**
 * The other git clients users run: isomorphic-git, dulwich and libgit2 (pygit2). Each clones,
 * commits and pushes; stock git then checks what landed.
 */
import { describe, it, expect, beforeAll } from "vitest";
import fs from "node:fs";
import { join, resolve } from "node:path";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import isogit from "isomorphic-git";
import http from "isomorphic-git/http/node";
import { fsck, git, historyRepo, revParse, tempDir, uniqueRepoUrl } from "./git.ts";

const run = promisify(execFile);
const PYTHON = "/usr/bin/python3";

describe("other git clients", () => {
  let src: string;
  let url: string;

  beforeAll(async () => {
    src = await historyRepo();
    url = uniqueRepoUrl("clients");
    await git(src, ["push", "-q", url, "refs/heads/*:refs/heads/*", "refs/tags/*:refs/tags/*"]);
  });

  /** Clones with stock git and checks the pushed commit is main's tip, with its file. */
  async function expectLanded(commit: string, file: string, content: string) {
    const dir = join(tempDir(), "check");
    await git(tempDir(), ["clone", "-q", url, dir]);
    await fsck(dir);
    expect(await revParse(dir, "HEAD")).toBe(commit);
    expect(fs.readFileSync(join(dir, file), "utf8")).toBe(content);
  }

  it("isomorphic-git clones, commits and pushes", async () => {
    const dir = join(tempDir(), "iso");
    await isogit.clone({ fs, http, dir, url, singleBranch: true, ref: "main" });
    expect(await isogit.resolveRef({ fs, dir, ref: "HEAD" })).toBe(await revParse(src, "main"));
    fs.writeFileSync(join(dir, "iso.txt"), "written by isomorphic-git\n");
    await isogit.add({ fs, dir, filepath: "iso.txt" });
    const author = { name: "Iso", email: "i@example.com" };
    const commit = await isogit.commit({ fs, dir, message: "isomorphic-git commit", author });
    const res = await isogit.push({ fs, http, dir, url, ref: "main" });
    expect(res.ok).toBe(true);
    await expectLanded(commit, "iso.txt", "written by isomorphic-git\n");
  });

  it("dulwich clones, commits and pushes", async () => {
    const dir = join(tempDir(), "dul");
    const { stdout } = await run(PYTHON, [resolve(import.meta.dirname, "clients/dulwich_roundtrip.py"), url, dir, "dulwich.txt"]);
    await expectLanded(stdout.trim(), "dulwich.txt", "written by dulwich\n");
  });

  it("libgit2 (pygit2) clones, commits, pushes and fetches", async () => {
    const dir = join(tempDir(), "lg2");
    const { stdout } = await run(PYTHON, [resolve(import.meta.dirname, "clients/pygit2_roundtrip.py"), url, dir, "libgit2.txt"]);
    await expectLanded(stdout.trim(), "libgit2.txt", "written by libgit2\n");
  });
});
