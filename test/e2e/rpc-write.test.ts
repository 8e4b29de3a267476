/**
 * The write RPCs: `commit` (then `git clone` and `git fsck`), two clients racing on one branch,
 * `createBranch`, `deleteBranch`, `createTag`, and the typed errors of each.
 * Invariants:
 * - Every write is checked from the outside with real git: ls-remote, clone, fetch, cat-file, fsck.
 * Spec: git-commit-tree(1); git-update-ref(1) (compare-and-swap); git-tag(1); git-fsck(1).
 */
import { lstatSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type RepoClient } from "../../client/index.ts";
import { baseUrl, fsck, git, lsRemote, revParse, tempDir, tinyRepo, uniqueRepoUrl, writeToken } from "./git.ts";

const AUTHOR = { name: "Rpc Writer", email: "writer@example.com", date: new Date("2024-05-01T12:00:00Z"), timezone: "+0200" };
const clients: RepoClient[] = [];

function clientFor(url: string): RepoClient {
  const [owner, repo] = new URL(url).pathname.slice(1).replace(/\.git$/, "").split("/");
  const c = connect(baseUrl(), owner!, repo!, { token: writeToken() });
  clients.push(c);
  return c;
}

afterAll(() => {
  for (const c of clients) c.close();
});

async function rejection(p: Promise<unknown>): Promise<{ code: string; message: string; data: Record<string, unknown> }> {
  try {
    await p;
  } catch (e) {
    return e as { code: string; message: string; data: Record<string, unknown> };
  }
  throw new Error("expected the call to fail");
}

/** A repo on the server with main (2 commits), and a client for it. */
async function served(name: string): Promise<{ url: string; src: string; client: RepoClient }> {
  const src = await tinyRepo(2);
  const url = uniqueRepoUrl(name);
  await git(src, ["push", "-q", url, "main"]);
  return { url, src, client: clientFor(url) };
}

async function clone(url: string): Promise<string> {
  const dir = join(tempDir(), "clone");
  await git(tempDir(), ["clone", "-q", url, dir]);
  return dir;
}

describe("commit", () => {
  it("writes, changes and deletes files; a clone shows the commit and fscks clean", async () => {
    const { url, src, client } = await served("commit-clone");
    const parent = await revParse(src, "main");
    const bytes = Uint8Array.from({ length: 300 }, (_, i) => (i * 7) % 256);
    const r = await client.commit({
      branch: "main",
      expectedParent: parent,
      message: "server-side commit\n\nwith a body",
      author: AUTHOR,
      changes: [
        { path: "docs/guide/intro.md", content: "# Intro\n\nWritten by RPC.\n" },
        { path: "bin/data.bin", content: bytes },
        { path: "file-2.txt", content: "content 2, edited\n", mode: "100755" },
        { path: "file-1.txt", delete: true },
        { path: "link", content: "file-2.txt", mode: "120000" },
      ],
    });
    expect(r).toMatchObject({ parent, ref: "refs/heads/main" });
    expect((await lsRemote(url, 2)).get("refs/heads/main")).toBe(r.commit);

    const dir = await clone(url);
    expect(await revParse(dir, "HEAD")).toBe(r.commit);
    expect(await revParse(dir, "HEAD^")).toBe(parent);
    expect(await revParse(dir, "HEAD^{tree}")).toBe(r.tree);
    expect(readFileSync(join(dir, "docs/guide/intro.md"), "utf8")).toBe("# Intro\n\nWritten by RPC.\n");
    expect(new Uint8Array(readFileSync(join(dir, "bin/data.bin")))).toEqual(bytes);
    expect(lstatSync(join(dir, "file-2.txt")).mode & 0o111).not.toBe(0);
    expect(() => lstatSync(join(dir, "file-1.txt"))).toThrow();
    expect(readlinkSync(join(dir, "link"))).toBe("file-2.txt");
    const raw = (await git(dir, ["cat-file", "-p", "HEAD"])).stdout;
    expect(raw).toContain(`author Rpc Writer <writer@example.com> ${AUTHOR.date.getTime() / 1000} +0200\n`);
    expect(raw).toContain(`committer Rpc Writer <writer@example.com> ${AUTHOR.date.getTime() / 1000} +0200\n`);
    expect(raw.endsWith("\nserver-side commit\n\nwith a body\n")).toBe(true);
    await fsck(dir);

    // An existing clone fetches it incrementally.
    await git(src, ["pull", "-q", "--ff-only", url, "main"]);
    expect(await revParse(src, "HEAD")).toBe(r.commit);
    await fsck(src);
  });

  it("two clients racing on one branch: one wins, the other gets a typed conflict", async () => {
    const { url, src, client } = await served("commit-race");
    const other = clientFor(url);
    const parent = await revParse(src, "main");
    const attempt = (c: RepoClient, who: string) =>
      c.commit({ branch: "main", expectedParent: parent, message: `from ${who}`, author: AUTHOR, changes: [{ path: `${who}.txt`, content: `${who}\n` }] });
    const results = await Promise.allSettled([attempt(client, "alice"), attempt(other, "bob")]);
    const won = results.filter((r) => r.status === "fulfilled");
    const lost = results.filter((r) => r.status === "rejected");
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    const winner = (won[0] as PromiseFulfilledResult<{ commit: string }>).value.commit;
    const error = (lost[0] as PromiseRejectedResult).reason as { code: string; data: Record<string, unknown> };
    expect(error.code).toBe("ref-conflict");
    expect(error.data).toMatchObject({ ref: "refs/heads/main", expected: parent, actual: winner });
    expect((await lsRemote(url, 2)).get("refs/heads/main")).toBe(winner);
    await fsck(await clone(url));
  });

  it("refuses stale parents, existing branches, bad paths and empty commits", async () => {
    const { src, client } = await served("commit-errors");
    const parent = await revParse(src, "main");
    const base = { branch: "main", expectedParent: parent, message: "m", author: AUTHOR };
    expect((await rejection(client.commit({ ...base, expectedParent: await revParse(src, "main~1"), changes: [{ path: "x", content: "x" }] }))).code).toBe("ref-conflict");
    expect((await rejection(client.commit({ ...base, expectedParent: null, changes: [{ path: "x", content: "x" }] }))).code).toBe("ref-exists");
    expect((await rejection(client.commit({ ...base, changes: [{ path: "nope.txt", delete: true }] }))).code).toBe("path-not-found");
    expect((await rejection(client.commit({ ...base, changes: [{ path: "file-1.txt/inner", content: "x" }] }))).code).toBe("path-conflict");
    expect((await rejection(client.commit({ ...base, changes: [{ path: "a", content: "x" }, { path: "a/b", content: "y" }] }))).code).toBe("path-conflict");
    expect((await rejection(client.commit({ ...base, changes: [{ path: ".git/config", content: "x" }] }))).code).toBe("rpc-bad-input");
    expect((await rejection(client.commit({ ...base, changes: [{ path: "../up", content: "x" }] }))).code).toBe("rpc-bad-input");
    expect((await rejection(client.commit({ ...base, branch: "bad..name", changes: [{ path: "x", content: "x" }] }))).code).toBe("rpc-bad-input");
    expect((await rejection(client.commit({ ...base, changes: [{ path: "file-1.txt", content: "content 1\n" }] }))).code).toBe("nothing-to-commit");
    const empty = await client.commit({ ...base, allowEmpty: true, changes: [{ path: "file-1.txt", content: "content 1\n" }] });
    expect(empty.tree).toBe(await revParse(src, "main^{tree}"));
    expect((await client.refs({})).head.oid).toBe(empty.commit);
  });

  it("creates a new branch and a new repository from a root commit", async () => {
    const url = uniqueRepoUrl("commit-new-repo");
    const client = clientFor(url);
    expect((await rejection(client.refs({}))).code).toBe("repo-not-found");
    const r = await client.commit({ branch: "trunk", expectedParent: null, message: "first", author: AUTHOR, changes: [{ path: "README.md", content: "hello\n" }] });
    expect(r.parent).toBeNull();
    const refs = await client.refs({});
    expect(refs.head).toEqual({ target: "refs/heads/trunk", oid: r.commit }); // HEAD follows the only branch
    const dir = await clone(url);
    expect(readFileSync(join(dir, "README.md"), "utf8")).toBe("hello\n");
    await fsck(dir);
  });
});

describe("branches and tags", () => {
  let url: string;
  let src: string;
  let client: RepoClient;

  beforeAll(async () => {
    ({ url, src, client } = await served("refs-writes"));
  });

  it("createBranch from a revision; a second time is ref-exists", async () => {
    const r = await client.createBranch({ name: "topic", from: "main~1" });
    expect(r).toMatchObject({ ref: "refs/heads/topic", old: null, new: await revParse(src, "main~1") });
    expect((await lsRemote(url, 0)).get("refs/heads/topic")).toBe(await revParse(src, "main~1"));
    expect((await rejection(client.createBranch({ name: "refs/heads/topic", from: "main" }))).code).toBe("ref-exists");
    expect((await rejection(client.createBranch({ name: "x", from: "nope" }))).code).toBe("rev-not-found");
    expect((await rejection(client.createBranch({ name: "x", from: "main:file-1.txt" }))).code).toBe("rev-wrong-type");
  });

  it("createTag: lightweight and annotated; git sees both and fscks clean", async () => {
    const light = await client.createTag({ name: "v1", target: "main" });
    expect(light.new).toBe(await revParse(src, "main"));
    const annotated = await client.createTag({ name: "v2", target: "main~1", message: "release two", tagger: AUTHOR });
    const dir = await clone(url);
    expect(await revParse(dir, "refs/tags/v1")).toBe(light.new);
    expect(await revParse(dir, "refs/tags/v2")).toBe(annotated.new);
    expect(await revParse(dir, "v2^{}")).toBe(await revParse(src, "main~1"));
    const raw = (await git(dir, ["cat-file", "-p", "v2"])).stdout;
    expect(raw).toBe(`object ${await revParse(src, "main~1")}\ntype commit\ntag v2\ntagger Rpc Writer <writer@example.com> ${AUTHOR.date.getTime() / 1000} +0200\n\nrelease two\n`);
    await fsck(dir);
    const branchFromTag = await client.createBranch({ name: "from-tag", from: "v2" });
    expect(branchFromTag.new).toBe(await revParse(src, "main~1")); // peeled to the commit
    expect((await client.refs({ prefix: "refs/tags/" })).refs.find((r) => r.name === "refs/tags/v2")?.peeled).toBe(await revParse(src, "main~1"));
    expect((await rejection(client.createTag({ name: "v3", target: "main", message: "no tagger" }))).code).toBe("rpc-bad-input");
  });

  it("deleteBranch by compare-and-swap", async () => {
    await client.createBranch({ name: "doomed", from: "main" });
    const e = await rejection(client.deleteBranch({ name: "doomed", expected: await revParse(src, "main~1") }));
    expect(e.code).toBe("ref-conflict");
    expect((await lsRemote(url, 2)).has("refs/heads/doomed")).toBe(true);
    const r = await client.deleteBranch({ name: "doomed", expected: await revParse(src, "main") });
    expect(r).toMatchObject({ ref: "refs/heads/doomed", new: null });
    expect((await lsRemote(url, 2)).has("refs/heads/doomed")).toBe(false);
    expect((await rejection(client.deleteBranch({ name: "doomed" }))).code).toBe("ref-not-found");
    await fsck(await clone(url));
  });
});
