import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bytesEqual } from "../../engine/bytes.ts";
import { GitError } from "../../engine/errors.ts";
import type { Oid } from "../../engine/oid.ts";
import { ObjectReader } from "../../engine/object-reader.ts";
import type { GitObject } from "../../engine/object/types.ts";
import type { ObjectIndex, ObjectLocation, PackReader } from "../../engine/storage.ts";
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

/** A store seen through counters: how many index look-ups and ranged reads a reader makes. */
function counted(store: MemoryStore) {
  const n = { locates: 0, reads: 0 };
  const index: ObjectIndex = { locate: (oids) => (n.locates++, store.locate(oids)) };
  const packs: PackReader = { readRange: (pack, offset, length) => (n.reads++, store.readRange(pack, offset, length)) };
  return { n, index, packs };
}

describe("ObjectReader batches", () => {
  async function expectBatch(store: MemoryStore, cacheBytes?: number) {
    const { n, index, packs } = counted(store);
    const got = await new ObjectReader(index, packs, cacheBytes).readMany(expected.keys());
    expect(got.size).toBe(expected.size);
    for (const [oid, want] of expected) {
      expect(got.get(oid)?.type, oid).toBe(want.type);
      expect(bytesEqual(got.get(oid)!.data, want.data), oid).toBe(true);
    }
    return n;
  }

  it("reads a whole repository in one look-up and a few coalesced reads", async () => {
    const n = await expectBatch(whole);
    // Every base is itself a target, so no chain level needs a look-up of its own.
    expect(n.locates).toBe(1);
    expect(n.reads).toBeLessThanOrEqual(2);
  });

  it("resolves every chain with no cache at all", async () => {
    await expectBatch(whole, 0);
  });

  it("follows chains across packs, looking bases up one chain level at a time", async () => {
    const n = await expectBatch(layered);
    expect(n.reads).toBeLessThanOrEqual(4);
    const tips = layered.locations.filter((l) => l.pack === "new" && l.depth > 0);
    // A thin pack's depths count from its own bases, so chains are measured by following them.
    const byOid = new Map(layered.locations.map((l) => [l.oid, l]));
    const chainLength = (l: ObjectLocation): number => (l.baseOid ? 1 + chainLength(byOid.get(l.baseOid)!) : 0);
    const deepest = Math.max(...tips.map(chainLength));
    const { n: m, index, packs } = counted(layered);
    const reader = new ObjectReader(index, packs);
    const got = await reader.readManyAt(tips);
    expect(got.size).toBe(tips.length);
    for (const t of tips) expect(bytesEqual(got.get(t.oid)!.data, expected.get(t.oid)!.data), t.oid).toBe(true);
    expect(m.locates).toBeLessThanOrEqual(deepest);
    // A second batch finds the targets cached: no look-up, no read.
    const before = { ...m };
    await reader.readManyAt(tips);
    expect(m).toEqual(before);
  });

  it("reads more objects than one chunk resolves at once, re-reading bases the cache lacks", async () => {
    const big = mkdtempSync(join(tmpdir(), "edgegit-object-reader-big-"));
    try {
      makeRepo(big, 400);
      git(big, ["repack", "-adfq", "--depth=50", "--window=50"]);
      const all = catAll(big);
      expect(all.size).toBeGreaterThan(1200);
      const store = new MemoryStore();
      const packDir = join(big, ".git/objects/pack");
      await store.indexPack("big", new Uint8Array(readFileSync(join(packDir, readdirSync(packDir).find((f) => f.endsWith(".pack"))!))));
      for (const cacheBytes of [0, 16 << 20]) {
        const got = await new ObjectReader(store, store, cacheBytes).readMany(all.keys());
        expect(got.size).toBe(all.size);
        for (const [oid, want] of all) expect(bytesEqual(got.get(oid)!.data, want.data), oid).toBe(true);
      }
    } finally {
      rmSync(big, { recursive: true, force: true });
    }
  });

  it("leaves out ids the repository lacks", async () => {
    const absent = "0123456789abcdef0123456789abcdef01234567" as Oid;
    const some = [...expected.keys()].slice(0, 5);
    const got = await new ObjectReader(whole, whole).readMany([absent, ...some]);
    expect([...got.keys()].sort()).toEqual([...some].sort());
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
    await expect(new ObjectReader(lacksBase, whole).readMany([delta.oid])).rejects.toMatchObject({ code: "object-missing" });
  });

  it("throws object-corrupt when a batch's content disagrees with the indexed size", async () => {
    const target = whole.locations.find((l) => l.depth > 10)!;
    const wrongSize: ObjectIndex = {
      locate: async (oids) => new Map([...(await whole.locate(oids))].map(([oid, l]) => [oid, oid === target.oid ? { ...l, size: l.size + 1 } : l])),
    };
    await expect(new ObjectReader(wrongSize, whole).readMany([target.oid])).rejects.toMatchObject({ code: "object-corrupt" });
  });
});
