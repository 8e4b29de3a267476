import { createHash } from "node:crypto";
import { deflateRawSync, deflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { ByteReader } from "../../../engine/byte-reader.ts";
import { concatBytes, utf8 } from "../../../engine/bytes.ts";
import { GitError } from "../../../engine/errors.ts";
import { hashObject } from "../../../engine/hash.ts";
import type { Oid } from "../../../engine/oid.ts";
import type { GitObject, PackEntryType } from "../../../engine/object/types.ts";
import { encodeEntryHeader } from "../../../engine/pack/entry-header.ts";
import { PackIndexer } from "../../../engine/pack/index-pack.ts";
import { scanPack } from "../../../engine/pack/scan.ts";
import { adler32 } from "../../fixtures/adler32.ts";

// Hostile packs must fail fast with a specific code; a hang fails the test by timeout.
const FAST = { timeout: 3000 };

const deflate = (data: Uint8Array) => new Uint8Array(deflateSync(data));
const sha1 = (data: Uint8Array) => new Uint8Array(createHash("sha1").update(data).digest());

/** A pack entry: header, then the given (or the honest) zlib stream of `data`. */
function entry(type: PackEntryType, data: Uint8Array, opts: { base?: { rel: number } | { oid: Oid }; size?: number; zlib?: Uint8Array } = {}) {
  return concatBytes([encodeEntryHeader(type, opts.size ?? data.length, opts.base), opts.zlib ?? deflate(data)]);
}

/** A version-2 pack of `entries` whose header claims `count` objects, with a correct trailer. */
function pack(entries: readonly Uint8Array[], count = entries.length): Uint8Array {
  const header = new Uint8Array(12);
  header.set(utf8("PACK"));
  new DataView(header.buffer).setUint32(4, 2);
  new DataView(header.buffer).setUint32(8, count);
  const body = concatBytes([header, ...entries]);
  return concatBytes([body, sha1(body)]);
}

/** A delta that ignores its base's content (it must still have `baseSize` bytes) and inserts `result`. */
function insertDelta(baseSize: number, result: Uint8Array): Uint8Array {
  const varint = (n: number) => {
    const out: number[] = [];
    for (; n >= 0x80; n = Math.floor(n / 128)) out.push((n & 0x7f) | 0x80);
    out.push(n);
    return out;
  };
  if (result.length > 127) throw new RangeError("one insert holds at most 127 bytes");
  return Uint8Array.from([...varint(baseSize), ...varint(result.length), result.length, ...result]);
}

async function* chunksOf(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.slice(at, at + size);
}

/** Scans (and indexes) `bytes`; returns the error it must end in. */
async function failure(bytes: Uint8Array, opts: { chunk?: number; existing?: Map<Oid, GitObject>; streamAbove?: number } = {}): Promise<GitError> {
  const indexer = new PackIndexer({
    readExisting: async (oid) => opts.existing?.get(oid) ?? null,
    readPackRange: async (offset, length) => bytes.slice(offset, offset + length),
    onObject: () => {},
  });
  try {
    const scan = scanPack(new ByteReader(chunksOf(bytes, opts.chunk ?? 4096)), {
      ...(opts.streamAbove === undefined ? {} : { streamAbove: opts.streamAbove }),
      onBytes: (b) => indexer.remember(b),
    });
    for await (const item of scan) if (item.kind === "entry") await indexer.add(item);
    await indexer.finish();
  } catch (e) {
    expect(e).toBeInstanceOf(GitError);
    return e as GitError;
  }
  return expect.unreachable("the pack was accepted");
}

const blobA = utf8("first blob\n");
const blobB = utf8("second blob, a little longer\n");
const good = () => pack([entry(3, blobA), entry(3, blobB)]);

describe("malformed packs", () => {
  it("accepts the well-formed pack the others are made from", FAST, async () => {
    const entries: number[] = [];
    for await (const item of scanPack(new ByteReader(chunksOf(good(), 7)))) if (item.kind === "entry") entries.push(item.offset);
    expect(entries).toEqual([12, 12 + entry(3, blobA).length]);
  });

  describe("header", () => {
    it("refuses a bad signature", FAST, async () => {
      const bytes = good();
      bytes[0] = 0x51;
      expect((await failure(bytes)).code).toBe("pack-malformed");
    });

    it.each([0, 1, 4])("refuses version %i", FAST, async (version) => {
      const bytes = good();
      new DataView(bytes.buffer).setUint32(4, version);
      expect((await failure(bytes)).code).toBe("pack-malformed");
    });

    it("refuses a pack that ends inside its header", FAST, async () => {
      expect((await failure(new Uint8Array(0))).code).toBe("pack-truncated");
      expect((await failure(good().subarray(0, 11), { chunk: 1 })).code).toBe("pack-truncated");
    });
  });

  describe("object count", () => {
    it("refuses a count lower than the entries: the next entry is read as the trailer", FAST, async () => {
      expect((await failure(pack([entry(3, blobA), entry(3, blobB)], 1))).code).toBe("pack-trailer-mismatch");
    });

    it("refuses a count higher than the entries as truncated, whatever the trailer's bytes are", FAST, async () => {
      for (let k = 0; k < 20; k++) expect((await failure(pack([entry(3, utf8(`blob ${k}\n`))], 2))).code, `blob ${k}`).toBe("pack-truncated");
    });

    it("refuses a count higher than the entries when the pack ends where the trailer should be", FAST, async () => {
      const body = pack([entry(3, blobA), entry(3, blobB)], 3).subarray(0, -20);
      expect((await failure(body)).code).toBe("pack-truncated");
    });
  });

  // Entries are inflated whole (held) or, past `streamAbove`, as their bytes arrive (streamed).
  describe.each([["held", undefined], ["streamed", 0]] as const)("truncation (%s)", (_mode, streamAbove) => {
    const bytes = good();
    const secondEntry = 12 + entry(3, blobA).length;
    it.each([
      ["inside the first entry's zlib data", 12 + 5],
      ["between two entries", secondEntry],
      ["inside the second entry's header", secondEntry + 1],
      ["inside the second entry's zlib data", bytes.length - 25],
      ["right before the trailer", bytes.length - 20],
      ["inside the trailer", bytes.length - 7],
    ])("refuses a pack cut %s", FAST, async (_where, at) => {
      for (const chunk of [1, 7, 4096]) expect((await failure(bytes.slice(0, at), { chunk, streamAbove })).code).toBe("pack-truncated");
    });
  });

  describe("trailer", () => {
    it("refuses a trailer that is not the pack's checksum", FAST, async () => {
      const bytes = good();
      bytes[bytes.length - 1] ^= 1;
      expect((await failure(bytes)).code).toBe("pack-trailer-mismatch");
    });

    it("refuses bytes after the trailer", FAST, async () => {
      for (const extra of [Uint8Array.of(0), utf8("PACK")]) expect((await failure(concatBytes([good(), extra]))).code).toBe("pack-malformed");
    });
  });

  describe.each([["held", undefined], ["streamed", 0]] as const)("zlib (%s)", (_mode, streamAbove) => {
    it.each([1, 7, 4096, 1 << 20])("refuses a 1 MB zlib bomb behind a 10-byte header (%i-byte chunks)", FAST, async (chunk) => {
      const bomb = entry(3, new Uint8Array(1 << 20), { size: 10 });
      expect((await failure(pack([bomb]), { chunk, streamAbove })).code).toBe("zlib-size-mismatch");
    });

    it("refuses data that inflates short of its declared size", FAST, async () => {
      expect((await failure(pack([entry(3, blobA, { size: blobA.length + 1 })]), { streamAbove })).code).toBe("zlib-size-mismatch");
    });

    it("refuses a bad zlib header", FAST, async () => {
      const zlib = deflate(blobA);
      zlib[0] = 0x79;
      expect((await failure(pack([entry(3, blobA, { zlib }), entry(3, blobB)]), { streamAbove })).code).toBe("zlib-corrupt");
    });

    it("refuses a bad adler-32 checksum", FAST, async () => {
      const zlib = deflate(blobA);
      zlib[zlib.length - 1] ^= 0xff;
      expect((await failure(pack([entry(3, blobA, { zlib }), entry(3, blobB)]), { streamAbove })).code).toBe("zlib-corrupt");
    });

    it("refuses a reserved deflate block type", FAST, async () => {
      const zlib = Uint8Array.of(0x78, 0x01, 0x07, 0, 0, 0, 0, 0, 0);
      expect((await failure(pack([entry(3, blobA, { zlib }), entry(3, blobB)]), { streamAbove })).code).toBe("zlib-corrupt");
    });
  
    it("streams an entry whose compressed data outgrows any honest deflate of its size", FAST, async () => {
      // 300 KB of empty stored blocks in front of blobA's own deflate stream: valid zlib, 11 bytes out.
      const padded = concatBytes([Uint8Array.of(0x78, 0x01), ...Array.from({ length: 60_000 }, () => Uint8Array.of(0, 0, 0, 0xff, 0xff)), deflateRawSync(blobA), adler32(blobA)]);
      const bytes = pack([entry(3, blobA, { zlib: padded }), entry(3, blobB)]);
      const got = [];
      for await (const item of scanPack(new ByteReader(chunksOf(bytes, 4096)))) if (item.kind === "entry") got.push(item);
      const first = entry(3, blobA, { zlib: padded }).length;
      expect(got.map((e) => [e.offset, e.packedLen, e.oid ?? hashObject("blob", e.data!)])).toEqual([
        [12, first, hashObject("blob", blobA)],
        [12 + first, entry(3, blobB).length, hashObject("blob", blobB)],
      ]);
      expect(got[0]!.data).toBeUndefined();
    });
  });

  describe("entry headers", () => {
    it.each([0, 5])("refuses entry type %i", FAST, async (type) => {
      const bad = concatBytes([Uint8Array.of((type << 4) | blobA.length), deflate(blobA)]);
      expect((await failure(pack([entry(3, blobB), bad]))).code).toBe("pack-entry-malformed");
    });

    it("refuses an OFS_DELTA whose base would lie before the pack", FAST, async () => {
      const delta = entry(6, insertDelta(blobA.length, blobB), { base: { rel: 13 } });
      expect((await failure(pack([delta]))).code).toBe("pack-entry-malformed");
    });
  });

  describe("deltas", () => {
    it("refuses an OFS_DELTA that points into the middle of an entry", FAST, async () => {
      const base = entry(3, blobA);
      const delta = entry(6, insertDelta(blobA.length, blobB), { base: { rel: base.length - 2 } });
      expect((await failure(pack([base, delta]))).code).toBe("delta-base-missing");
    });

    it("refuses a REF_DELTA whose base is neither in the pack nor in the repository", FAST, async () => {
      const absent = hashObject("blob", utf8("never stored\n"));
      const delta = entry(7, insertDelta(5, blobB), { base: { oid: absent } });
      const err = await failure(pack([entry(3, blobA), delta]));
      expect(err.code).toBe("delta-base-missing");
      expect(err.message).toContain(absent);
    });

    it("refuses two REF_DELTAs that name each other as base", FAST, async () => {
      // An insert-only delta's result ignores its base's content, so each one's result id is known:
      // A's base is what B would become and B's base is what A would become.
      const a = insertDelta(blobB.length, blobA);
      const b = insertDelta(blobA.length, blobB);
      const deltaA = entry(7, a, { base: { oid: hashObject("blob", blobB) } });
      const deltaB = entry(7, b, { base: { oid: hashObject("blob", blobA) } });
      const err = await failure(pack([deltaA, deltaB]));
      expect(["delta-base-missing", "delta-cycle"]).toContain(err.code);
    });

    it("resolves the same two deltas once the repository has one base", FAST, async () => {
      const deltaA = entry(7, insertDelta(blobB.length, blobA), { base: { oid: hashObject("blob", blobB) } });
      const deltaB = entry(7, insertDelta(blobA.length, blobB), { base: { oid: hashObject("blob", blobA) } });
      const existing = new Map([[hashObject("blob", blobB), { type: "blob" as const, data: blobB }]]);
      const bytes = pack([deltaA, deltaB]);
      const indexer = new PackIndexer({ readExisting: async (oid) => existing.get(oid) ?? null, readPackRange: async (o, l) => bytes.slice(o, o + l), onObject: () => {} });
      for await (const item of scanPack(new ByteReader(chunksOf(bytes, 4096)))) if (item.kind === "entry") await indexer.add(item);
      expect((await indexer.finish()).map((e) => e.oid)).toEqual([hashObject("blob", blobA), hashObject("blob", blobB)]);
    });

    it("refuses a delta whose declared base size is not its base's", FAST, async () => {
      const delta = entry(6, insertDelta(blobA.length + 1, blobB), { base: { rel: entry(3, blobA).length } });
      expect((await failure(pack([entry(3, blobA), delta]))).code).toBe("delta-base-size-mismatch");
    });

    it("refuses a delta that copies past the end of its base", FAST, async () => {
      // Copy 100 bytes from offset 0 (opcode 0x80 | size byte 1 present), from an 11-byte base.
      const copy = Uint8Array.of(blobA.length, 100, 0x90, 100);
      const delta = entry(6, copy, { base: { rel: entry(3, blobA).length } });
      expect((await failure(pack([entry(3, blobA), delta]))).code).toBe("delta-out-of-bounds");
    });
  });
});
