/**
 * The read RPCs over the client's WebSocket, against a history pushed by real git: refs, resolve,
 * log (with paths and paging), tree and blob; and the typed errors bad input gets.
 * Invariants:
 * - git itself (rev-parse, for-each-ref, log, ls-tree, cat-file) is the reference for every answer.
 * Spec: gitrevisions(7); git-log(1) "History Simplification"; git-ls-tree(1); git-cat-file(1).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type RepoClient } from "../../client/index.ts";
import { baseUrl, git, historyRepo, lines, refsOf, revParse, uniqueRepoUrl } from "./git.ts";

let src: string;
let client: RepoClient;

beforeAll(async () => {
  src = await historyRepo();
  const url = uniqueRepoUrl("rpc-read");
  await git(src, ["push", "-q", url, "refs/heads/*:refs/heads/*", "refs/tags/*:refs/tags/*"]);
  const [owner, repo] = new URL(url).pathname.slice(1).replace(/\.git$/, "").split("/");
  client = connect(baseUrl(), owner!, repo!);
  await client.ready;
});

afterAll(() => client?.close());

async function rejection(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (e) {
    return e as { code: string; message: string };
  }
  throw new Error("expected the call to fail");
}

describe("refs", () => {
  it("lists every ref with peeled tags, and HEAD", async () => {
    const r = await client.refs({});
    const expected = await refsOf(src);
    expect(new Map(r.refs.map((x) => [x.name, x.oid]))).toEqual(expected);
    expect(r.refs.find((x) => x.name === "refs/tags/v1.0")!.peeled).toBe(await revParse(src, "v1.0^{}"));
    expect(r.refs.find((x) => x.name === "refs/tags/v0.1")!.peeled).toBeUndefined(); // lightweight
    expect(r.head).toEqual({ target: "refs/heads/main", oid: await revParse(src, "main") });
  });

  it("filters by prefix", async () => {
    const r = await client.refs({ prefix: "refs/tags/" });
    expect(r.refs.map((x) => x.name)).toEqual(["refs/tags/v0.1", "refs/tags/v1.0"]);
  });
});

describe("resolve", () => {
  const revs = [
    "main", "HEAD", "@", "main~3", "main~0", "main^0", "v1.0^2", "v1.0^^2", "v1.0~1^2~2", "feature^", "topic~2^{tree}", "v1.0", "v1.0^{}",
    "v1.0^{commit}", "v1.0^{tree}", "v1.0^{tag}", "v0.1^{tree}", "main:README", "main:src", "main:deep/a/b", "v1.0:docs/manual.md",
    "refs/heads/topic", "heads/topic", "tags/v1.0",
  ];
  it.each(revs)("%s as git rev-parse does", async (rev) => {
    const r = await client.resolve({ rev });
    expect(r.oid).toBe(await revParse(src, rev));
    expect(r.type).toBe((await git(src, ["cat-file", "-t", r.oid])).stdout.trim());
  });

  it("an abbreviated id, and a path's mode", async () => {
    const full = await revParse(src, "topic");
    expect((await client.resolve({ rev: full.slice(0, 8) })).oid).toBe(full);
    expect(await client.resolve({ rev: "main:scripts/run.sh" })).toMatchObject({ type: "blob", mode: "100755" });
    expect(await client.resolve({ rev: "main:link-to-readme" })).toMatchObject({ type: "blob", mode: "120000" });
  });

  it.each([
    ["nope", "rev-not-found"],
    ["main~1000", "rev-not-found"],
    ["main^3", "rev-not-found"],
    ["v0.1^{blob}", "rev-wrong-type"],
    ["main:no/such/file", "path-not-found"],
    ["main@{1}", "rev-malformed"],
    [":README", "rev-malformed"],
    ["main^{/fix}", "rev-malformed"],
    ["", "rpc-bad-input"],
  ])("%s fails with %s", async (rev, code) => {
    expect((await rejection(client.resolve({ rev }))).code).toBe(code);
  });

  it("a schema violation is a typed error, not a crash", async () => {
    const e = await rejection(client.resolve({ rev: 5 } as unknown as { rev: string }));
    expect(e.code).toBe("rpc-bad-input");
    expect(e.message).toMatch(/rev/);
    expect((await client.refs({})).refs.length).toBeGreaterThan(0); // the actor is still fine
  });
});

describe("log", () => {
  async function allPages(rev: string, path: string, limit: number): Promise<string[]> {
    const out: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 100; pages++) {
      const page = await client.log({ rev, path, limit, ...(cursor ? { cursor } : {}) });
      expect(page.commits.length).toBeLessThanOrEqual(limit);
      out.push(...page.commits.map((c) => c.oid));
      if (!page.cursor) return out;
      cursor = page.cursor;
    }
    throw new Error("log did not end");
  }

  it.each([
    ["main", ""],
    ["main", "README"],
    ["main", "docs"],
    ["main", "log.txt"],
    ["main", "src/app.c"],
    ["main", "deep"],
    ["main", "scripts/run.sh"],
    ["topic", "docs/manual.md"],
    ["v1.0", "assets/blob.bin"],
  ])("%s -- %s, in pages, equals git log", async (rev, path) => {
    const expected = lines((await git(src, ["log", "--format=%H", rev, ...(path ? ["--", path] : [])])).stdout);
    expect(expected.length).toBeGreaterThan(0);
    expect(await allPages(rev, path, 7)).toEqual(expected);
  });

  it("gives each commit's details as git records them", async () => {
    const [c] = (await client.log({ rev: "v1.0^{}", limit: 1 })).commits;
    const fmt = (await git(src, ["show", "-s", "--format=%H%n%T%n%P%n%an%n%ae%n%at%n%cn%n%ce%n%ct%n%B", "v1.0^{}"])).stdout.split("\n");
    expect(c!.oid).toBe(fmt[0]);
    expect(c!.tree).toBe(fmt[1]);
    expect(c!.parents.join(" ")).toBe(fmt[2]);
    expect([c!.author.name, c!.author.email, c!.author.date.getTime() / 1000]).toEqual([fmt[3], fmt[4], Number(fmt[5])]);
    expect([c!.committer.name, c!.committer.email, c!.committer.date.getTime() / 1000]).toEqual([fmt[6], fmt[7], Number(fmt[8])]);
    expect(c!.message.trim()).toBe(fmt.slice(9).join("\n").trim());
    expect(c!.author.date).toBeInstanceOf(Date); // superjson carried the date
  });

  it("refuses a forged cursor and one made for another path", async () => {
    expect((await rejection(client.log({ rev: "main", cursor: "bm90IGEgY3Vyc29y" }))).code).toBe("cursor-invalid");
    const page = await client.log({ rev: "main", path: "README", limit: 1 });
    expect((await rejection(client.log({ rev: "main", path: "log.txt", cursor: page.cursor! }))).code).toBe("cursor-invalid");
  });
});

describe("tree", () => {
  it.each([
    ["main", ""],
    ["main", "src"],
    ["main", "deep/a/b"],
    ["v0.1", ""],
    ["topic", "docs"],
  ])("%s:%s equals git ls-tree -l", async (rev, path) => {
    const t = await client.tree({ rev, path });
    const ls = lines((await git(src, ["ls-tree", "-l", path ? `${rev}:${path}` : rev])).stdout).map((l) => {
      const [meta, name] = l.split("\t");
      const [mode, type, oid, size] = meta!.split(/ +/);
      return { name, mode: mode!.replace(/^0+/, ""), type, oid, size: size === "-" ? undefined : Number(size) };
    });
    expect(t.entries.map((e) => ({ name: e.name, mode: e.mode, type: e.type, oid: e.oid, size: e.size }))).toEqual(ls);
    expect(t.entries.every((e) => e.path === (path ? `${path}/${e.name}` : e.name))).toBe(true);
    expect(t.oid).toBe(await revParse(src, `${rev}:${path}`));
  });

  it("errors: a file, a missing path, a path that escapes", async () => {
    expect((await rejection(client.tree({ rev: "main", path: "README" }))).code).toBe("rev-wrong-type");
    expect((await rejection(client.tree({ rev: "main", path: "nope" }))).code).toBe("path-not-found");
    expect((await rejection(client.tree({ rev: "main", path: "../etc" }))).code).toBe("rpc-bad-input");
    expect((await rejection(client.tree({ rev: "main", path: "/src" }))).code).toBe("rpc-bad-input");
  });
});

describe("blob", () => {
  async function gitBytes(spec: string): Promise<Uint8Array> {
    return (await git(src, ["cat-file", "blob", spec])).bytes;
  }

  it("reads text and binary files whole", async () => {
    const readme = await client.blob({ rev: "main", path: "README" });
    expect(readme.content).toEqual(await gitBytes("main:README"));
    expect(readme).toMatchObject({ size: readme.content.length, binary: false, truncated: false, mode: "100644" });
    const bin = await client.blob({ rev: "main", path: "assets/blob.bin" });
    expect(bin.content).toEqual(await gitBytes("main:assets/blob.bin"));
    expect(bin.binary).toBe(true);
  });

  it("reads ranges and stops at maxBytes", async () => {
    const all = await gitBytes("main:log.txt");
    const mid = await client.blob({ rev: "main", path: "log.txt", offset: 100, length: 50 });
    expect(mid.content).toEqual(all.subarray(100, 150));
    expect(mid.truncated).toBe(false);
    const capped = await client.blob({ rev: "main", path: "log.txt", offset: 10, maxBytes: 64 });
    expect(capped.content).toEqual(all.subarray(10, 74));
    expect(capped).toMatchObject({ truncated: true, size: all.length });
    const tail = await client.blob({ rev: "main", path: "log.txt", offset: all.length });
    expect(tail.content.length).toBe(0);
  });

  it("errors: past the end, a directory, a missing file", async () => {
    expect((await rejection(client.blob({ rev: "main", path: "README", offset: 1 << 20 }))).code).toBe("range-invalid");
    expect((await rejection(client.blob({ rev: "main", path: "src" }))).code).toBe("rev-wrong-type");
    expect((await rejection(client.blob({ rev: "v0.1", path: "scripts/other.sh" }))).code).toBe("path-not-found");
    expect((await rejection(client.blob({ rev: "main", path: "README", maxBytes: 1 << 30 }))).code).toBe("rpc-bad-input");
  });
});
