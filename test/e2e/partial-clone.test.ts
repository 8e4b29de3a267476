/**
 * Partial clones (`--filter`) with the real git client, v0 and v2: the object set equals what git's
 * own upload-pack sends for the same filter, lazy fetches fill in what a checkout or `log -p`
 * needs, and later fetches keep the filter.
 */
import { describe, it, expect, beforeAll } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { commitFile, fsck, git, historyRepo, lines, revParse, tempDir, treeOf, uniqueRepoUrl, type Protocol } from "./git.ts";

async function objects(dir: string): Promise<{ oid: string; type: string }[]> {
  const out = (await git(dir, ["cat-file", "--batch-all-objects", "--batch-check=%(objectname) %(objecttype)"])).stdout;
  return lines(out).map((l) => {
    const [oid, type] = l.split(" ");
    return { oid: oid!, type: type! };
  });
}

describe.each<Protocol>([0, 2])("partial clone, protocol v%i", (protocol) => {
  let src: string;
  let url: string;

  beforeAll(async () => {
    src = await historyRepo();
    await git(src, ["config", "uploadpack.allowFilter", "true"]);
    await git(src, ["config", "uploadpack.allowAnySHA1InWant", "true"]);
    url = uniqueRepoUrl(`partial-v${protocol}`);
    await git(src, ["push", "-q", url, "refs/heads/*:refs/heads/*", "refs/tags/*:refs/tags/*"]);
  });

  async function cloneBoth(filter: string): Promise<[string, string]> {
    const dirs: [string, string] = [join(tempDir(), "ours"), join(tempDir(), "theirs")];
    await git(tempDir(), ["clone", "-q", "--no-checkout", `--filter=${filter}`, url, dirs[0]], { protocol });
    await git(tempDir(), ["clone", "-q", "--no-checkout", `--filter=${filter}`, `file://${src}`, dirs[1]], { protocol });
    return dirs;
  }

  it.each(["blob:none", "blob:limit=1k", "tree:0", "tree:1"])("--filter=%s sends what git's upload-pack sends", async (filter) => {
    const [ours, theirs] = await cloneBoth(filter);
    const got = await objects(ours);
    expect(got.map((o) => o.oid).sort()).toEqual((await objects(theirs)).map((o) => o.oid).sort());
    expect((await git(ours, ["config", "remote.origin.promisor"])).stdout.trim()).toBe("true");
    const filterOf = async (dir: string) => (await git(dir, ["config", "remote.origin.partialclonefilter"])).stdout.trim();
    expect(await filterOf(ours)).toBe(await filterOf(theirs));
    await fsck(ours);
    if (filter === "blob:none" || filter.startsWith("tree:")) expect(got.filter((o) => o.type === "blob")).toEqual([]);
    if (filter === "tree:0") expect(got.filter((o) => o.type === "tree")).toEqual([]);
  });

  it.each(["blob:none", "blob:limit=1k"])("--filter=%s --single-branch (a walk, not every object) sends what git's upload-pack sends", async (filter) => {
    const dirs = [join(tempDir(), "ours"), join(tempDir(), "theirs")];
    for (const [dir, from] of [[dirs[0]!, url], [dirs[1]!, `file://${src}`]] as const)
      await git(tempDir(), ["clone", "-q", "--bare", "--single-branch", "--branch", "topic", `--filter=${filter}`, from, dir], { protocol });
    expect((await objects(dirs[0]!)).map((o) => o.oid).sort()).toEqual((await objects(dirs[1]!)).map((o) => o.oid).sort());
    await fsck(dirs[0]!);
  });

  it("a checkout fetches the missing blobs lazily and matches the source", async () => {
    const dir = join(tempDir(), "lazy");
    await git(tempDir(), ["clone", "-q", "--filter=blob:none", url, dir], { protocol });
    expect(await treeOf(dir, "HEAD")).toBe(await treeOf(src, "main"));
    expect((await git(dir, ["status", "--porcelain"])).stdout).toBe("");
    // The clone holds exactly the blobs of the checked-out tree: fetched on demand, nothing more.
    const blobs = (await objects(dir)).filter((o) => o.type === "blob").map((o) => o.oid).sort();
    const tipBlobs = lines((await git(src, ["ls-tree", "-r", "main"])).stdout).map((l) => l.split(/\s+/)).filter((f) => f[1] === "blob").map((f) => f[2]!);
    expect(blobs).toEqual([...new Set(tipBlobs)].sort());
    await fsck(dir);
  });

  it("git log -p fetches old blobs lazily", async () => {
    const dir = join(tempDir(), "logp");
    await git(tempDir(), ["clone", "-q", "--no-checkout", "--filter=blob:none", url, dir], { protocol });
    const ours = (await git(dir, ["log", "-p", "-5", "main"], { protocol })).stdout;
    expect(ours).toBe((await git(src, ["log", "-p", "-5", "main"])).stdout);
  });

  it("a later fetch keeps the filter: new blobs stay on the server", async () => {
    const dir = join(tempDir(), "keep");
    await git(tempDir(), ["clone", "-q", "--no-checkout", "--filter=blob:none", url, dir], { protocol });
    const work = join(tempDir(), "work");
    await git(tempDir(), ["clone", "-q", url, work]);
    await commitFile(work, `new-${protocol}.txt`, "fresh content\n");
    await git(work, ["push", "-q", "origin", "HEAD:main"]);
    const received = join(tempDir(), "received.pack");
    await git(dir, ["fetch", "-q", "origin"], { protocol, env: { GIT_TRACE_PACKFILE: received } });
    const head = await revParse(work, "HEAD");
    expect(await revParse(dir, "origin/main")).toBe(head);
    const missing = lines((await git(dir, ["rev-list", "--objects", "--missing=print", `${head}~1..${head}`])).stdout).filter((l) => l.startsWith("?"));
    const newBlob = (await git(work, ["rev-parse", `HEAD:new-${protocol}.txt`])).stdout.trim();
    expect(missing).toContain(`?${newBlob}`);
    // The new root tree went out as a delta against the client's own root tree: the pack is thin
    // (alone, it cannot be indexed), and the clone that completed it is sound.
    const alone = join(tempDir(), "alone");
    await git(tempDir(), ["init", "-q", "--bare", alone]);
    const indexed = await git(alone, ["index-pack", "--stdin"], { allowFail: true, input: readFileSync(received) });
    expect(indexed.stderr).toMatch(/unresolved delta/);
    await fsck(dir);
  });
});
