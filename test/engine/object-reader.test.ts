import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bytesEqual } from "../../engine/bytes.ts";
import { GitError } from "../../engine/errors.ts";
import type { Oid } from "../../engine/oid.ts";
import { ObjectReader } from "../../engine/object-reader.ts";
import type { GitObject } from "../../engine/object/types.ts";
import type { ObjectIndex } from "../../engine/storage.ts";
import { MemoryStore } from "./memory-store.ts";
import { git, makeRepo, catAll } from "../fixtures/pack-repo.ts";


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
