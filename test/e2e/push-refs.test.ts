/**
 * Ref updates by push: tags, deletes, forced and refused updates, stale old ids, atomic pushes,
 * several refs at once.
 * Invariants:
 * - A refused update leaves every ref as it was; an atomic push with one refused ref moves none.
 * - The server checks each command's old id against the ref (compare-and-swap), whatever the client believed.
 * Spec: gitprotocol-pack(5) "Reference Update Request and Packfile Transfer", "Report Status";
 *       gitprotocol-capabilities(5) "atomic".
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  commitFile, fsck, git, lsRemote, packOf, postReceivePack, revParse, tempDir, tinyRepo, treeOf, uniqueRepoUrl, ZERO_OID,
} from "./git.ts";

/** A repo on the server with main (3 commits) and feature, and a clone of it. */
async function setup(name: string): Promise<{ url: string; clone: string }> {
  const src = await tinyRepo(3);
  await git(src, ["branch", "feature", "HEAD~1"]);
  await git(src, ["branch", "topic", "HEAD~2"]);
  const url = uniqueRepoUrl(name);
  await git(src, ["push", "-q", url, "main", "feature", "topic"]);
  const clone = join(tempDir(), "clone");
  await git(tempDir(), ["clone", "-q", url, clone]);
  return { url, clone };
}

describe("push ref updates", () => {
  it("pushes a new annotated tag", async () => {
    const { url, clone } = await setup("push-tag");
    await git(clone, ["tag", "-a", "v2.0", "-m", "release 2.0"]);
    await git(clone, ["push", "-q", "origin", "v2.0"]);
    const refs = await lsRemote(url, 2);
    expect(refs.get("refs/tags/v2.0")).toBe(await revParse(clone, "refs/tags/v2.0"));
    expect(refs.get("refs/tags/v2.0^{}")).toBe(await revParse(clone, "HEAD"));
  });

  it("deletes branches with --delete and with :ref", async () => {
    const { url, clone } = await setup("push-delete");
    const before = await lsRemote(url, 2);
    await git(clone, ["push", "-q", "origin", "--delete", "feature"]);
    await git(clone, ["push", "-q", "origin", ":topic"]);
    const after = await lsRemote(url, 2);
    before.delete("refs/heads/feature");
    before.delete("refs/heads/topic");
    expect(after).toEqual(before);
  });

  it("refuses a non-fast-forward push, then accepts it with --force", async () => {
    const { url, clone } = await setup("push-force");
    const before = await lsRemote(url, 2);
    await git(clone, ["reset", "-q", "--hard", "HEAD~1"]);
    const rewritten = await commitFile(clone, "rewritten.txt", "history rewritten\n");

    const refused = await git(clone, ["push", "origin", "main"], { allowFail: true });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/! \[rejected\] +main -> main \(non-fast-forward\)/);
    expect(await lsRemote(url, 2)).toEqual(before);

    await git(clone, ["push", "-q", "--force", "origin", "main"]);
    expect(await lsRemote(url, 2)).toEqual(new Map([...before, ["HEAD", rewritten], ["refs/heads/main", rewritten]]));
    const fresh = join(tempDir(), "fresh");
    await git(tempDir(), ["clone", "-q", url, fresh]);
    await fsck(fresh);
    expect(await treeOf(fresh, "HEAD")).toBe(await treeOf(clone, "HEAD"));
  });

  it("refuses --force-with-lease when the lease is stale", async () => {
    const { url, clone: a } = await setup("push-lease");
    const b = join(tempDir(), "b");
    await git(tempDir(), ["clone", "-q", url, b]);
    const old = await revParse(b, "HEAD");
    await commitFile(a, "from-a.txt", "a\n");
    await git(a, ["push", "-q", "origin", "main"]);
    const afterA = await lsRemote(url, 2);

    await commitFile(b, "from-b.txt", "b\n");
    const r = await git(b, ["push", `--force-with-lease=main:${old}`, "origin", "main"], { allowFail: true });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("stale info");
    expect(await lsRemote(url, 2)).toEqual(afterA);
  });

  it("the server refuses a command whose old id is not the ref's current id", async () => {
    const { url, clone } = await setup("push-cas");
    const before = await lsRemote(url, 2);
    const stale = await revParse(clone, "HEAD~1");
    const existing = await revParse(clone, "origin/topic");
    // The new id is already on the server, so an empty pack completes the request.
    const { status, report } = await postReceivePack(url, [{ old: stale, new: existing, ref: "refs/heads/main" }], await packOf(clone));
    expect(status).toBe(200);
    expect(report[0]).toBe("unpack ok");
    expect(report.find((l) => l.startsWith("ng refs/heads/main "))).toBeDefined();
    expect(report.some((l) => l.startsWith("ok "))).toBe(false);
    expect(await lsRemote(url, 2)).toEqual(before);
  });

  it("--atomic with one non-fast-forward ref moves no ref", async () => {
    const { url, clone } = await setup("push-atomic");
    const before = await lsRemote(url, 2);
    await git(clone, ["branch", "good"]);
    await git(clone, ["reset", "-q", "--hard", "HEAD~1"]);
    await commitFile(clone, "diverged.txt", "diverged\n");
    const r = await git(clone, ["push", "--atomic", "origin", "good", "main"], { allowFail: true });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/\[rejected\] +main -> main/);
    expect(await lsRemote(url, 2)).toEqual(before);
  });

  it("the server applies an atomic request with one stale ref as all or nothing", async () => {
    const { url, clone } = await setup("push-atomic-cas");
    const before = await lsRemote(url, 2);
    const commands = [
      { old: ZERO_OID, new: before.get("refs/heads/main")!, ref: "refs/heads/created" },
      { old: before.get("refs/heads/feature")!, new: before.get("refs/heads/main")!, ref: "refs/heads/feature" },
      // topic is at HEAD~2 on the server: this old id is stale.
      { old: await revParse(clone, "HEAD~1"), new: before.get("refs/heads/main")!, ref: "refs/heads/topic" },
    ];
    const { status, report } = await postReceivePack(url, commands, await packOf(clone), "report-status side-band-64k atomic");
    expect(status).toBe(200);
    expect(report[0]).toBe("unpack ok");
    expect(report.filter((l) => l.startsWith("ng ")).map((l) => l.split(" ")[1]).sort()).toEqual(commands.map((c) => c.ref).sort());
    expect(await lsRemote(url, 2)).toEqual(before);
  });

  it("creates and deletes several refs in one push", async () => {
    const { url, clone } = await setup("push-many");
    const before = await lsRemote(url, 2);
    await git(clone, ["tag", "light"]);
    const r = await git(clone, ["push", "--porcelain", "origin", "HEAD:refs/heads/n1", "HEAD~1:refs/heads/n2", "HEAD~2:refs/heads/n3", "light", ":feature", ":topic"]);
    expect(r.stdout).toContain("Done");
    const head = await revParse(clone, "HEAD");
    const expected = new Map(before);
    expected.delete("refs/heads/feature");
    expected.delete("refs/heads/topic");
    expected.set("refs/heads/n1", head);
    expected.set("refs/heads/n2", await revParse(clone, "HEAD~1"));
    expected.set("refs/heads/n3", await revParse(clone, "HEAD~2"));
    expected.set("refs/tags/light", head);
    expect(await lsRemote(url, 2)).toEqual(expected);
  });
});
