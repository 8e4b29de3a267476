/**
 * The pack-stream methods through the client: `push` (ref commands plus a pack made by
 * `git pack-objects`) and `fetchPack` (a pack `git index-pack` accepts, smaller with haves).
 * Invariants:
 * - Same engine as git's smart HTTP: a stale old id is a refused ref, not an error.
 * Spec: gitprotocol-pack(5); gitformat-pack(5).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type RepoClient } from "../../client/index.ts";
import { baseUrl, commitFile, git, lines, lsRemote, packOf, revParse, tempDir, tinyRepo, uniqueRepoUrl, writeToken } from "./git.ts";

let src: string;
let url: string;
let client: RepoClient;

beforeAll(async () => {
  src = await tinyRepo(3);
  url = uniqueRepoUrl("rpc-pack");
  await git(src, ["push", "-q", url, "main"]);
  const [owner, repo] = new URL(url).pathname.slice(1).replace(/\.git$/, "").split("/");
  client = connect(baseUrl(), owner!, repo!, { token: writeToken() });
});

afterAll(() => client?.close());

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Object ids in a pack, by indexing it with git. */
async function packObjects(pack: Uint8Array): Promise<string[]> {
  const dir = tempDir();
  writeFileSync(join(dir, "p.pack"), pack);
  await git(dir, ["index-pack", "p.pack"]);
  return lines((await git(dir, ["verify-pack", "-v", "p.idx"])).stdout)
    .filter((l) => /^[0-9a-f]{40} /.test(l))
    .map((l) => l.slice(0, 40))
    .sort();
}

describe("pack streams", () => {
  it("fetchPack sends everything for a want, and only the difference with haves", async () => {
    const all = await packObjects(await readAll(await client.fetchPack({ wants: ["main"] })));
    expect(all).toEqual(lines((await git(src, ["rev-list", "--objects", "main"])).stdout).map((l) => l.slice(0, 40)).sort());
    const newer = await packObjects(await readAll(await client.fetchPack({ wants: ["main"], haves: [await revParse(src, "main~1")] })));
    expect(newer).toEqual(lines((await git(src, ["rev-list", "--objects", "main~1..main"])).stdout).map((l) => l.slice(0, 40)).sort());
    await expect(client.fetchPack({ wants: ["no-such-rev"] })).rejects.toMatchObject({ code: "rev-not-found" });
  });

  it("push moves a ref by compare-and-swap; a stale old id is refused", async () => {
    const old = await revParse(src, "main");
    const next = await commitFile(src, "pushed.txt", "pushed through the client\n");
    const pack = await packOf(src, next, `^${old}`);
    expect(await client.push([{ ref: "refs/heads/main", old, new: next }], pack)).toEqual({ unpack: "ok", refs: [{ ref: "refs/heads/main", ok: true }] });
    expect((await lsRemote(url, 2)).get("refs/heads/main")).toBe(next);
    const stale = await client.push([{ ref: "refs/heads/main", old, new: next }], pack);
    expect(stale.refs[0]).toMatchObject({ ok: false, reason: "stale old id (fetch first)" });
    expect(await client.push([{ ref: "refs/heads/copy", old: null, new: next }], await packOf(src))).toMatchObject({ refs: [{ ok: true }] });
    expect(await client.push([{ ref: "refs/heads/copy", old: next, new: null }], new Uint8Array(0))).toMatchObject({ refs: [{ ok: true }] });
    expect((await lsRemote(url, 2)).has("refs/heads/copy")).toBe(false);
  });

  it("a corrupt pack is refused with the reason, and moves nothing", async () => {
    const old = await revParse(src, "main");
    const next = await commitFile(src, "corrupt.txt", "this pack gets damaged\n");
    const pack = await packOf(src, next, `^${old}`);
    pack[pack.length - 1] ^= 0xff; // break the trailer
    const r = await client.push([{ ref: "refs/heads/main", old, new: next }], pack);
    expect(r.unpack).toMatch(/trailer/);
    expect(r.refs[0]!.ok).toBe(false);
    expect((await lsRemote(url, 2)).get("refs/heads/main")).toBe(old);
  });
});
