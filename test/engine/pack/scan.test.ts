import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ByteReader } from "../../../engine/byte-reader.ts";
import { bytesEqual, concatBytes } from "../../../engine/bytes.ts";
import { GitError } from "../../../engine/errors.ts";
import { hashObject } from "../../../engine/hash.ts";
import { bytesToHex } from "../../../engine/oid.ts";
import { OBJECT_TYPE_BY_CODE } from "../../../engine/object/types.ts";
import { scanPack, type ScanOptions, type ScannedEntry, type ScannedTrailer } from "../../../engine/pack/scan.ts";
import { git, gitText, makeRepo, verifyPack, type PackRow } from "../../fixtures/pack-repo.ts";


interface TestPack {
  bytes: Uint8Array;
  /** The checksum git named the pack by (or, for a stdout pack, wrote as its trailer). */
  name: string;
  rows: PackRow[];
}

async function* chunksOf(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.slice(at, at + size);
}

async function scanAll(bytes: Uint8Array, chunk: number, opts: ScanOptions = {}) {
  const seen: Uint8Array[] = [];
  let seenLen = 0;
  const entries: ScannedEntry[] = [];
  let trailer: ScannedTrailer | undefined;
  const onBytes = (b: Uint8Array) => {
    seen.push(b.slice());
    seenLen += b.length;
  };
  for await (const item of scanPack(new ByteReader(chunksOf(bytes, chunk)), { ...opts, onBytes })) {
    if (item.kind === "trailer") trailer = item;
    else {
      // Every byte of an entry reaches onBytes before the entry is yielded, and nothing beyond it.
      expect(seenLen).toBe(item.offset + item.packedLen);
      entries.push(item);
    }
  }
  return { entries, trailer, seen: concatBytes(seen) };
}

async function scanError(bytes: Uint8Array, opts: ScanOptions): Promise<GitError> {
  try {
    await scanAll(bytes, 4096, opts);
  } catch (e) {
    expect(e).toBeInstanceOf(GitError);
    return e as GitError;
  }
  return expect.unreachable("scan should have failed");
}

let dir: string;
const packs: Record<string, TestPack> = {};

/** Writes a pack with `git pack-objects <base>`, which names it by its checksum, and lists it. */
function packObjects(name: string, args: string[], revs: string) {
  const hash = gitText(dir, ["pack-objects", "-q", "--revs", ...args, join(dir, name)], revs);
  const file = join(dir, `${name}-${hash}`);
  packs[name] = { bytes: new Uint8Array(readFileSync(`${file}.pack`)), name: hash, rows: verifyPack(dir, `${file}.idx`) };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "edgegit-scan-"));
  makeRepo(dir, 70);
  git(dir, ["repack", "-adfq", "--depth=50", "--window=50"]);
  const packDir = join(dir, ".git/objects/pack");
  const [repacked] = readdirSync(packDir).filter((f) => f.endsWith(".pack"));
  const stem = join(packDir, repacked!.slice(0, -".pack".length));
  packs.repacked = { bytes: new Uint8Array(readFileSync(`${stem}.pack`)), name: repacked!.slice(5, -5), rows: verifyPack(dir, `${stem}.idx`) };

  const all = "refs/heads/main\nrefs/tags/v1\n";
  packObjects("ref-delta", [], all);
  packObjects("fresh-ofs", ["--no-reuse-delta", "--delta-base-offset", "--depth=10", "--window=20"], all);
  packObjects("stored", ["--no-reuse-object", "--compression=0", "--delta-base-offset"], all);

  // A thin pack cannot be indexed alone: --fix-thin appends its bases after its own entries, which
  // keep their offsets, so the first rows of the fixed pack describe the thin pack.
  const thin = git(dir, ["pack-objects", "-q", "--stdout", "--revs", "--thin", "--delta-base-offset"], "main\n^main~30\n");
  const fixed = gitText(dir, ["index-pack", "--stdin", "--fix-thin"], thin).replace(/^pack\s+/, "");
  const fixedRows = verifyPack(dir, join(packDir, `pack-${fixed}.idx`));
  packs.thin = { bytes: thin, name: bytesToHex(thin.subarray(-20)), rows: fixedRows.filter((r) => r.offset < thin.length - 20) };
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PACKS = ["repacked", "ref-delta", "fresh-ofs", "stored", "thin"];
const CHUNKS = [1, 7, 64 << 10, Number.POSITIVE_INFINITY];

describe("scanPack on packs made by git", () => {
  it("has fixtures with the entry kinds each case is for", () => {
    const kinds = (name: string) => new Set(packs[name]!.rows.map((r) => (r.base ? "delta" : r.type)));
    for (const name of PACKS) expect(kinds(name).has("delta"), name).toBe(true);
    expect(kinds("repacked")).toEqual(new Set(["commit", "tree", "blob", "tag", "delta"]));
    expect(Math.max(...packs.repacked!.rows.map((r) => r.packedLen))).toBeGreaterThan(64 << 10);
    const thinBases = packs.thin!.rows.filter((r) => r.base && !packs.thin!.rows.some((q) => q.oid === r.base));
    expect(thinBases.length).toBeGreaterThan(0);
  });

  describe.each(PACKS)("%s pack", (name) => {
    it.each(CHUNKS)("yields what git verify-pack lists, fed in %d-byte chunks", { timeout: 30_000 }, async (chunk) => {
      const { bytes, name: checksum, rows } = packs[name]!;
      const { entries, trailer, seen } = await scanAll(bytes, chunk);
      expect(trailer).toEqual({ kind: "trailer", objectCount: rows.length, checksum, bytes: bytes.length });
      expect(seen.length).toBe(bytes.length);
      expect(bytesEqual(seen, bytes)).toBe(true);

      const oidAt = new Map(rows.map((r) => [r.offset, r.oid]));
      const actual = entries.map((e) => ({
        offset: e.offset,
        packedLen: e.packedLen,
        size: e.size,
        type: e.entryType < 5 ? OBJECT_TYPE_BY_CODE[e.entryType] : "delta",
        base: e.entryType === 6 ? oidAt.get(e.baseOffset!) : e.baseOid,
      }));
      const expected = rows.map((r) => ({ offset: r.offset, packedLen: r.packedLen, size: r.size, type: r.base ? "delta" : r.type, base: r.base }));
      expect(actual).toEqual(expected);

      for (const [i, e] of entries.entries()) {
        expect(e.data!.length).toBe(e.size);
        if (e.entryType < 5) expect(hashObject(OBJECT_TYPE_BY_CODE[e.entryType]!, e.data!)).toBe(rows[i]!.oid);
      }
    });
  });

  describe.each(["repacked", "stored", "thin"])("%s pack, every entry streamed (streamAbove: 0)", (name) => {
    it.each([7, 64 << 10, Number.POSITIVE_INFINITY])("finds the same entries, blobs by id only, fed in %d-byte chunks", { timeout: 60_000 }, async (chunk) => {
      const { bytes, rows } = packs[name]!;
      const whole = await scanAll(bytes, 64 << 10);
      const streamed = await scanAll(bytes, chunk, { streamAbove: 0 });
      expect(bytesEqual(streamed.seen, bytes)).toBe(true);
      expect(streamed.trailer).toEqual(whole.trailer);
      expect(streamed.entries.length).toBe(rows.length);
      for (const [i, e] of streamed.entries.entries()) {
        const { data, ...header } = whole.entries[i]!;
        if (e.entryType === 3) {
          expect(e).toEqual({ ...header, oid: rows[i]!.oid });
        } else {
          expect(e.oid).toBeUndefined();
          expect(bytesEqual(e.data!, data!)).toBe(true);
          expect({ ...e, data: undefined }).toEqual({ ...header, data: undefined });
        }
      }
    });
  });

  it("keeps git's choice of delta encoding", async () => {
    const types = async (name: string) => new Set((await scanAll(packs[name]!.bytes, 1 << 20)).entries.map((e) => e.entryType));
    expect((await types("ref-delta")).has(6)).toBe(false);
    expect((await types("ref-delta")).has(7)).toBe(true);
    expect((await types("repacked")).has(7)).toBe(false);
    expect((await types("repacked")).has(6)).toBe(true);
    const thin = await types("thin");
    expect(thin.has(6) && thin.has(7)).toBe(true);
  });
});

describe("scanPack limits", () => {
  it("refuses a pack with more objects than maxObjects before reading any entry", async () => {
    const { bytes, rows } = packs.repacked!;
    const yielded: string[] = [];
    const scan = async () => {
      for await (const item of scanPack(new ByteReader(chunksOf(bytes, 4096)), { maxObjects: rows.length - 1 })) yielded.push(item.kind);
    };
    await expect(scan()).rejects.toMatchObject({ code: "pack-too-many-objects", data: { count: rows.length, limit: rows.length - 1 } });
    expect(yielded).toEqual([]);
    expect((await scanAll(bytes, 4096, { maxObjects: rows.length })).entries.length).toBe(rows.length);
  });

  it("refuses an entry larger than maxObjectSize", async () => {
    const { bytes, rows } = packs.repacked!;
    const largest = Math.max(...rows.map((r) => r.size));
    const err = await scanError(bytes, { maxObjectSize: largest - 1 });
    expect(err.code).toBe("object-too-large");
    expect(err.data).toEqual({ size: largest, limit: largest - 1 });
    expect((await scanAll(bytes, 4096, { maxObjectSize: largest })).entries.length).toBe(rows.length);
  });

  it("refuses a pack whose entries inflate past maxInflatedBytes in total", async () => {
    const { bytes, rows } = packs.repacked!;
    const total = rows.reduce((n, r) => n + r.size, 0);
    const err = await scanError(bytes, { maxInflatedBytes: total - 1 });
    expect(err.code).toBe("pack-too-large");
    expect((await scanAll(bytes, 4096, { maxInflatedBytes: total })).entries.length).toBe(rows.length);
  });
});
