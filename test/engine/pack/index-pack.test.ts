import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ByteReader } from "../../../engine/byte-reader.ts";
import { GitError } from "../../../engine/errors.ts";
import { hashObject } from "../../../engine/hash.ts";
import type { Oid } from "../../../engine/oid.ts";
import type { GitObject } from "../../../engine/object/types.ts";
import { PackIndexer, type IndexPackOptions, type IndexedEntry } from "../../../engine/pack/index-pack.ts";
import { scanPack } from "../../../engine/pack/scan.ts";
import { git, gitText, makeRepo, catAll, verifyPack, type PackRow } from "../../fixtures/pack-repo.ts";


interface Run {
  entries: IndexedEntry[];
  /** Ids in the order onObject saw them. */
  reported: Oid[];
  rangeReads: number;
  thinBases: Set<Oid>;
}

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

/** Scans and indexes `pack`, checking every object handed to onObject against its id. */
/** Options of the indexer, the scan's `streamAbove`, and `window`: feed the scan's bytes to `remember`. */
type RunOptions = IndexPackOptions & { streamAbove?: number; window?: boolean };

async function indexPack(pack: Uint8Array, readExisting: (oid: Oid) => GitObject | null, opts: RunOptions = {}): Promise<Run> {
  const reported: Oid[] = [];
  let rangeReads = 0;
  const indexer = new PackIndexer(
    {
      readExisting: async (oid) => readExisting(oid),
      readPackRange: async (offset, length) => {
        rangeReads++;
        return pack.slice(offset, offset + length);
      },
      onObject(entry, data) {
        if (data === undefined) expect(entry.type).toBe("blob"); // streamed, hashed by the scan
        else {
          expect(hashObject(entry.type, data)).toBe(entry.oid);
          expect(data.length).toBe(entry.size);
        }
        reported.push(entry.oid);
      },
    },
    opts,
  );
  const scan = scanPack(new ByteReader(once(pack)), {
    ...(opts.streamAbove === undefined ? {} : { streamAbove: opts.streamAbove }),
    ...(opts.window ? { onBytes: (b: Uint8Array) => indexer.remember(b) } : {}),
  });
  for await (const item of scan) if (item.kind === "entry") await indexer.add(item);
  const entries = await indexer.finish();
  return { entries, reported, rangeReads, thinBases: new Set(indexer.thinBases) };
}

async function indexError(pack: Uint8Array, readExisting: (oid: Oid) => GitObject | null, opts: RunOptions = {}): Promise<GitError> {
  try {
    await indexPack(pack, readExisting, opts);
  } catch (e) {
    expect(e).toBeInstanceOf(GitError);
    return e as GitError;
  }
  return expect.unreachable("indexing should have failed");
}

let dir: string;
let objects: Map<Oid, GitObject>;
const packs: Record<string, { bytes: Uint8Array; rows: PackRow[] }> = {};
const none = () => null;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "edgegit-index-pack-"));
  makeRepo(dir, 70);
  git(dir, ["repack", "-adfq", "--depth=50", "--window=50"]);
  const packDir = join(dir, ".git/objects/pack");
  const stem = join(packDir, readdirSync(packDir).find((f) => f.endsWith(".pack"))!.slice(0, -".pack".length));
  packs.repacked = { bytes: new Uint8Array(readFileSync(`${stem}.pack`)), rows: verifyPack(dir, `${stem}.idx`) };
  objects = catAll(dir);

  const hash = gitText(dir, ["pack-objects", "-q", "--revs", join(dir, "ref")], "refs/heads/main\nrefs/tags/v1\n");
  packs["ref-delta"] = { bytes: new Uint8Array(readFileSync(join(dir, `ref-${hash}.pack`))), rows: verifyPack(dir, join(dir, `ref-${hash}.idx`)) };

  // --fix-thin appends the missing bases after the thin pack's own entries, which keep their offsets.
  const thin = git(dir, ["pack-objects", "-q", "--stdout", "--revs", "--thin", "--delta-base-offset"], "main\n^main~30\n");
  const fixed = gitText(dir, ["index-pack", "--stdin", "--fix-thin"], thin).replace(/^pack\s+/, "");
  packs.thin = { bytes: thin, rows: verifyPack(dir, join(packDir, `pack-${fixed}.idx`)) };
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What git says about each entry, in the shape of an IndexedEntry. */
function expected(rows: readonly PackRow[]) {
  return rows.map((r) => ({ oid: r.oid, offset: r.offset, type: objects.get(r.oid)!.type, size: objects.get(r.oid)!.data.length, depth: r.depth, baseOid: r.base }));
}
const actual = (entries: readonly IndexedEntry[]) =>
  entries.map((e) => ({ oid: e.oid, offset: e.offset, type: e.type, size: e.size, depth: e.depth, baseOid: e.baseOid }));

describe("PackIndexer on whole packs made by git", () => {
  describe.each(["repacked", "ref-delta"])("%s pack", (name) => {
    it("finds every id, type, size and delta depth git verify-pack lists", async () => {
      const { bytes, rows } = packs[name]!;
      const run = await indexPack(bytes, none);
      expect(actual(run.entries)).toEqual(expected(rows));
      expect(run.thinBases.size).toBe(0);
    });

    it("reports each object once, every delta after its base", async () => {
      const run = await indexPack(packs[name]!.bytes, none);
      expect(run.reported.length).toBe(run.entries.length);
      const seen = new Set<Oid>();
      for (const oid of run.reported) {
        const e = run.entries.find((x) => x.oid === oid)!;
        if (e.baseOid) expect(seen.has(e.baseOid)).toBe(true);
        seen.add(oid);
      }
      expect(seen.size).toBe(run.entries.length);
    });

    it("gives the same result from the stored pack when the cache holds nothing", async () => {
      const { bytes, rows } = packs[name]!;
      const run = await indexPack(bytes, none, { cacheBytes: 1 });
      expect(run.rangeReads).toBeGreaterThan(0);
      expect(actual(run.entries)).toEqual(expected(rows));
    });
  });

  // Deep chains whose links the cache cannot keep resolve from the two big-object slots: without
  // them, each delta would re-read its whole chain (~2,000 reads here).
  it.each([{ cacheBytes: 1 }, { streamAbove: 0 }, { streamAbove: 0, cacheBytes: 1 }])("re-reads at most one entry per delta when content is not kept (%o)", async (opts) => {
    const { bytes, rows } = packs.repacked!;
    const run = await indexPack(bytes, none, opts);
    expect(actual(run.entries)).toEqual(expected(rows));
    expect(run.rangeReads).toBeGreaterThan(0);
    expect(run.rangeReads).toBeLessThanOrEqual(rows.filter((r) => r.base).length);
  });

  it.each([{ cacheBytes: 1 }, { cacheBytes: 1, streamAbove: 0 }])("re-inflates evicted bases from the window instead of re-reading the pack (%o)", async (opts) => {
    const { bytes, rows } = packs.repacked!;
    const run = await indexPack(bytes, none, { ...opts, window: true });
    expect(actual(run.entries)).toEqual(expected(rows));
    expect(run.rangeReads).toBe(0);
  });

  it("re-reads the stored pack for bases that left the window, with the same result", async () => {
    const { bytes, rows } = packs.repacked!;
    const run = await indexPack(bytes, none, { cacheBytes: 1, window: true, windowBytes: 16 });
    expect(actual(run.entries)).toEqual(expected(rows));
    expect(run.rangeReads).toBeGreaterThan(0);
  });

  it("never re-reads the pack when every base precedes its delta and fits the cache", async () => {
    expect((await indexPack(packs.repacked!.bytes, none)).rangeReads).toBe(0);
  });

  it("has deep delta chains to test against", () => {
    expect(Math.max(...packs.repacked!.rows.map((r) => r.depth))).toBeGreaterThanOrEqual(40);
  });

  describe.each([{}, { cacheBytes: 1 }, { cacheBytes: 1, window: true }])("maxDeltaDepth (options %o)", (opts) => {
    const deepest = () => Math.max(...packs.repacked!.rows.map((r) => r.depth));

    it("accepts chains exactly as deep as the limit", async () => {
      const run = await indexPack(packs.repacked!.bytes, none, { ...opts, maxDeltaDepth: deepest() });
      expect(run.entries.length).toBe(packs.repacked!.rows.length);
    });

    it("refuses a chain one deeper than the limit with delta-too-deep", async () => {
      expect((await indexError(packs.repacked!.bytes, none, { ...opts, maxDeltaDepth: deepest() - 1 })).code).toBe("delta-too-deep");
      expect((await indexError(packs.repacked!.bytes, none, { ...opts, maxDeltaDepth: 0 })).code).toBe("delta-too-deep");
    });
  });
});

describe("PackIndexer on a thin pack", () => {
  const own = () => packs.thin!.rows.filter((r) => r.offset < packs.thin!.bytes.length - 20);
  const appended = () => packs.thin!.rows.filter((r) => r.offset >= packs.thin!.bytes.length - 20);

  it.each([{}, { cacheBytes: 1 }, { cacheBytes: 1, window: true }])("resolves deltas against the repository's objects (options %o)", async (opts) => {
    const run = await indexPack(packs.thin!.bytes, (oid) => objects.get(oid) ?? null, opts);
    expect(actual(run.entries)).toEqual(expected(own()));
    // The bases git had to append to make the pack whole are exactly the ones we read from the repo.
    expect(appended().length).toBeGreaterThan(0);
    expect(run.thinBases).toEqual(new Set(appended().map((r) => r.oid)));
  });

  it("asks the repository only for bases the pack lacks", async () => {
    const asked: Oid[] = [];
    await indexPack(packs.thin!.bytes, (oid) => (asked.push(oid), objects.get(oid) ?? null));
    const inPack = new Set(own().map((r) => r.oid));
    expect(asked.length).toBeGreaterThan(0);
    expect(asked.filter((o) => inPack.has(o))).toEqual([]);
  });

  it.each([{}, { cacheBytes: 1 }, { cacheBytes: 1, window: true }])("fails with delta-base-missing when the repository lacks a base (options %o)", async (opts) => {
    const err = await indexError(packs.thin!.bytes, none, opts);
    expect(err.code).toBe("delta-base-missing");
    expect(appended().some((r) => err.message.includes(r.oid))).toBe(true);
  });
});
