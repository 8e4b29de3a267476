import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bytesEqual, concatBytes, fromUtf8, utf8 } from "../../engine/bytes.ts";
import { GitError } from "../../engine/errors.ts";
import type { Oid } from "../../engine/oid.ts";
import { ObjectReader } from "../../engine/object-reader.ts";
import type { GitObject, ObjectType } from "../../engine/object/types.ts";
import type { ObjectIndex } from "../../engine/storage.ts";
import { MemoryStore } from "./memory-store.ts";

const ENV = { ...process.env, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null", LC_ALL: "C" };
const git = (cwd: string, args: string[], input?: Uint8Array | string) =>
  new Uint8Array(execFileSync("git", args, { cwd, input, env: ENV, maxBuffer: 1 << 28 }));

/**
 * One fast-import run: a log file with a different line edited per commit (so a repack chains deltas
 * deep), an incompressible 100 KB blob changed every 20 commits, nested trees and an annotated tag.
 */
function makeRepo(dir: string, commits: number): void {
  git(dir, ["init", "-q", "-b", "main"]);
  // Edits keep every line's length, so git orders the versions by age and chains each on the next.
  const line = (n: number, text: string) => `line ${String(n).padStart(3, "0")}: ${((n * 2654435761) >>> 0).toString(16).padStart(8, "0")} ${text}`;
  const lines = Array.from({ length: 400 }, (_, n) => line(n, "as first written"));
  const big = new Uint8Array(randomBytes(100_000));
  const stream: Uint8Array[] = [];
  const file = (path: string, data: Uint8Array) => stream.push(utf8(`M 100644 inline ${path}\ndata ${data.length}\n`), data, utf8("\n"));
  for (let i = 1; i <= commits; i++) {
    stream.push(utf8(`commit refs/heads/main\ncommitter C <c@example.com> ${1_700_000_000 + 60 * i} +0000\ndata <<END\ncommit ${i}\nEND\n`));
    const n = (i * 5) % lines.length;
    lines[n] = line(n, `edited in c${String(i).padStart(3, "0")}`);
    file("log.txt", utf8(lines.join("\n")));
    if (i % 20 === 1) {
      big[i] = big[i]! ^ 0xff;
      file("data/big.bin", big.slice());
    }
    if (i % 10 === 0) file(`dir/sub/note-${i}.txt`, utf8(`note ${i}\n`));
  }
  stream.push(utf8("tag v1\nfrom refs/heads/main\ntagger T <t@example.com> 1700009999 +0000\ndata <<END\nrelease\nEND\n"));
  git(dir, ["fast-import", "--quiet"], concatBytes(stream));
}

/** Every object of the repo, from `git cat-file --batch`. */
function catAll(cwd: string): Map<Oid, GitObject> {
  const out = git(cwd, ["cat-file", "--batch-all-objects", "--batch"]);
  const objects = new Map<Oid, GitObject>();
  for (let at = 0; at < out.length; ) {
    const eol = out.indexOf(10, at);
    const [oid, type, size] = fromUtf8(out.subarray(at, eol)).split(" ");
    const start = eol + 1;
    objects.set(oid as Oid, { type: type as ObjectType, data: out.slice(start, start + Number(size)) });
    at = start + Number(size) + 1;
  }
  return objects;
}

let dir: string;
let expected: Map<Oid, GitObject>;
/** The repo as one pack, repacked with delta chains up to 50 deep. */
let whole: MemoryStore;
/** The repo as a full pack of main~30 plus a thin pack on top, whose deltas reach into the first. */
let layered: MemoryStore;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "edgegit-object-reader-"));
  makeRepo(dir, 70);
  git(dir, ["repack", "-adfq", "--depth=50", "--window=50"]);
  expected = catAll(dir);
  const packDir = join(dir, ".git/objects/pack");
  whole = new MemoryStore();
  await whole.indexPack("repacked", new Uint8Array(readFileSync(join(packDir, readdirSync(packDir).find((f) => f.endsWith(".pack"))!))));

  layered = new MemoryStore();
  await layered.indexPack("old", git(dir, ["pack-objects", "-q", "--stdout", "--revs", "--delta-base-offset"], "main~30\n"));
  await layered.indexPack("new", git(dir, ["pack-objects", "-q", "--stdout", "--revs", "--thin", "--delta-base-offset"], "refs/heads/main\nrefs/tags/v1\n^main~30\n"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function expectAllObjects(reader: ObjectReader) {
  for (const [oid, want] of expected) {
    const got = await reader.read(oid);
    expect(got?.type, oid).toBe(want.type);
    expect(bytesEqual(got!.data, want.data), oid).toBe(true);
  }
}

describe("ObjectReader", () => {
  it("indexes every object git has, with chains close to 50 deltas deep", () => {
    expect(whole.locations.map((l) => l.oid).sort()).toEqual([...expected.keys()].sort());
    expect(Math.max(...whole.locations.map((l) => l.depth))).toBeGreaterThanOrEqual(45);
  });

  it("reads every object as git cat-file does", async () => {
    await expectAllObjects(new ObjectReader(whole, whole));
  });

  it("reads every object with no cache, resolving each chain from its root", async () => {
    await expectAllObjects(new ObjectReader(whole, whole, 0));
  });

  it("follows deltas from one stored pack into another", async () => {
    const crossPack = layered.locations.filter((l) => l.pack === "new" && l.baseOid && !layered.locations.some((m) => m.pack === "new" && m.oid === l.baseOid));
    expect(crossPack.length).toBeGreaterThan(0);
    expect(layered.locations.length).toBe(expected.size);
    await expectAllObjects(new ObjectReader(layered, layered));
  });

  it("returns null for an object the repository lacks, and require() throws object-missing", async () => {
    const reader = new ObjectReader(whole, whole);
    const absent = "0123456789abcdef0123456789abcdef01234567" as Oid;
    expect(await reader.read(absent)).toBeNull();
    await expect(reader.require(absent)).rejects.toMatchObject({ code: "object-missing" });
  });

  it("throws object-missing when a delta's base is not indexed", async () => {
    const delta = whole.locations.find((l) => l.depth === 1)!;
    const lacksBase: ObjectIndex = {
      locate: async (oids) => {
        const found = await whole.locate(oids);
        found.delete(delta.baseOid!);
        return found;
      },
    };
    const err = await new ObjectReader(lacksBase, whole).read(delta.oid).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GitError);
    expect((err as GitError).code).toBe("object-missing");
  });

  it("throws object-corrupt when the content disagrees with the indexed size", async () => {
    const target = whole.locations.find((l) => l.depth > 10)!;
    const wrongSize: ObjectIndex = {
      locate: async (oids) => new Map([...(await whole.locate(oids))].map(([oid, l]) => [oid, oid === target.oid ? { ...l, size: l.size + 1 } : l])),
    };
    const err = await new ObjectReader(wrongSize, whole).read(target.oid).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GitError);
    expect((err as GitError).code).toBe("object-corrupt");
  });
});
