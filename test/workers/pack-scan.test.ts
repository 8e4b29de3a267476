// Inside workerd: scanPack and PackIndexer on a real git pack. Entry boundaries come from node:zlib's
// `info: true` byte count, or for streamed entries from its streaming inflater's `bytesWritten`, which
// only this runtime can show work here; a zlib bomb is refused either way.
import { createHash } from "node:crypto";
import { deflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { ByteReader } from "../../engine/byte-reader.ts";
import { concatBytes } from "../../engine/bytes.ts";
import { GitError } from "../../engine/errors.ts";
import { encodeEntryHeader } from "../../engine/pack/entry-header.ts";
import { PackIndexer } from "../../engine/pack/index-pack.ts";
import { scanPack, type ScanOptions, type ScannedEntry, type ScannedTrailer } from "../../engine/pack/scan.ts";

/*
 * Made once with git 2.39 (workerd cannot run git):
 *   export GIT_AUTHOR_NAME=A GIT_AUTHOR_EMAIL=a@example.com GIT_COMMITTER_NAME=C GIT_COMMITTER_EMAIL=c@example.com \
 *     GIT_AUTHOR_DATE="@1700000000 +0000" GIT_COMMITTER_DATE="@1700000000 +0000"
 *   git init -q -b main r && cd r
 *   seq -f "line %g of a file that git will deltify" 1 40 > notes.txt && git add . && git commit -qm one
 *   sed -i 's/^line 20 of/line twenty of/' notes.txt && git commit -qam two && git tag -a v1 -m release
 *   printf 'main\nv1\n' | git pack-objects -q --revs --stdout --delta-base-offset | base64
 * EXPECTED is `git index-pack` (the pack's name), `git verify-pack -v` and `git cat-file -s` of the delta (1591).
 */
const PACK_BASE64 =
  "UEFDSwAAAAIAAAAHmgt4nIWLywoCMQxF9/2K7AWxkz4mMIjil6RpgoLjDKWin+8I7r2Lszic25sqjFiy2ZAtSMKAvgoZWQg8DKmw" +
  "FSPMJSd0Kzd9dIijpxAjVR+FjX3G7ZtCLDWgoLIoEfGYHT/7dWlwholP+uZ5vetelvkIPh9+g92XbrPzrXdtcIFJ/sSuvxb3AaiG" +
  "NJnGB3icLYrNCoMwEAbv+xR7L0j+jBFKKfRJNtuv0mJQbCj69lVwDjOXmfIHWtn13htJGqPNbZc8FBHBpeDFROuCeQXJz9RT3Waw" +
  "TqW8K1UZ+GePDFj4wVe9Y5Uyj2j248a2Myd8OUy0YIR8QX8JbiIJmgh4nIWKwQqDMBAF7/mKvRdK3NRsCiKWfkncPLDQmBIi+Pmt" +
  "0LtzmMMwrQLEbkYvHmqj8/fkOVjlzkEDRFlvSThI75KJW1tKpQcNccIe8+eNq5Y8Uif2D10Om1/Nr9ZQ6UmDnsymrDBfzPEmhqUC" +
  "eJwzNDAwMzFRyMsvSS3WK6koYZgzuYqr42XLl/7EfynT5ix7c+W/wnwACHwRS6UCeJwzNDAwMzFRyMsvSS3WK6koYfgn2cbnKZOz" +
  "dcGtXZVae4M8K5v/JQEA7sAOw7tjeJyN1MsNwlAMRNE9VbgE7Am/ciLxHliywsZSlO4RFXD3d3c8rtyGuX2mrTazhvV7bXtl255V" +
  "9hzVOY9T/bJgmVi2sOzCsivLbiy7s+zBMj/DDjo4hHAo4ZDCoYVDDIcaDjkcevQ+tj7gzdNtQJOAJgFNApoENAloEtAkoIngRgQ9" +
  "RJ8V9BD0EPQQ9BD0EPQQ9Fj+e3wBP0UenOIBgBx4nNvNs51nwxcmJiODiR/UNiswSzMDAEQ7BjCTY9Wa8FC0hM9EB1HcAFmuhb87" +
  "nA==";

const EXPECTED = {
  checksum: "9363d59af050b484cf440751dc0059ae85bf3b9c",
  entries: [
    { oid: "29330a8c661b5783ece6e42843a061240f4abd89", type: "commit", size: 186, packedLen: 140, offset: 12, depth: 0 },
    { oid: "906f83a06f2bc9bc1b4dec4ce1eaf3d89b7dd9fa", type: "tag", size: 118, packedLen: 112, offset: 152, depth: 0 },
    { oid: "58194559d15cafa17327f645bd43c3eace999a87", type: "commit", size: 138, packedLen: 109, offset: 264, depth: 0 },
    { oid: "83b7ff27f4c63431dc9f9f44a226bafbf937b763", type: "tree", size: 37, packedLen: 48, offset: 373, depth: 0 },
    { oid: "23be576ec0a369d6280c213ec8e7c2c4d728753d", type: "tree", size: 37, packedLen: 48, offset: 421, depth: 0 },
    { oid: "9c937a0a88e984f48f61fe64969ca6ecd4ff209f", type: "blob", size: 1595, packedLen: 156, offset: 469, depth: 0 },
    // git lists a delta's own size (18), not its result's.
    { oid: "fe19860e491c6cb5a0daba792abd52497983fe62", type: "blob", size: 18, packedLen: 31, offset: 625, depth: 1 },
  ],
};

const PACK = Uint8Array.from(atob(PACK_BASE64), (c) => c.charCodeAt(0));

async function* chunksOf(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.slice(at, at + size);
}

async function scanAll(bytes: Uint8Array, chunk: number, opts: ScanOptions = {}) {
  const entries: ScannedEntry[] = [];
  let trailer: ScannedTrailer | undefined;
  for await (const item of scanPack(new ByteReader(chunksOf(bytes, chunk)), opts)) {
    if (item.kind === "entry") entries.push(item);
    else trailer = item;
  }
  return { entries, trailer };
}

describe("pack scanning in workerd", () => {
  it("runs in workerd, not Node", () => {
    expect(navigator.userAgent).toBe("Cloudflare-Workers");
  });

  it.each([1, 7, PACK.length])("finds every entry git lists, fed in %d-byte chunks", async (chunk) => {
    const { entries, trailer } = await scanAll(PACK, chunk);
    expect(trailer).toEqual({ kind: "trailer", objectCount: 7, checksum: EXPECTED.checksum, bytes: PACK.length });
    expect(entries.map((e) => ({ offset: e.offset, packedLen: e.packedLen, size: e.size }))).toEqual(
      EXPECTED.entries.map((e) => ({ offset: e.offset, packedLen: e.packedLen, size: e.size })),
    );
    expect(entries[6]).toMatchObject({ entryType: 6, baseOffset: 469 });
  });

  it("gives each entry's data a backing store of about its own size, so a cache counting lengths is honest", async () => {
    const { entries } = await scanAll(PACK, 64);
    for (const e of entries) expect(e.data!.buffer.byteLength).toBeLessThanOrEqual(Math.max(64, e.data!.length + 1));
  });

  it("indexes the pack to git's ids, resolving the OFS_DELTA", async () => {
    const indexer = new PackIndexer({
      readExisting: async () => null,
      readPackRange: async (offset, length) => PACK.slice(offset, offset + length),
      onObject: () => {},
    });
    for (const e of (await scanAll(PACK, 64)).entries) await indexer.add(e);
    const indexed = await indexer.finish();
    expect(indexed.map((e) => ({ oid: e.oid, type: e.type, offset: e.offset, depth: e.depth }))).toEqual(
      EXPECTED.entries.map((e) => ({ oid: e.oid, type: e.type, offset: e.offset, depth: e.depth })),
    );
    expect(indexed[6]).toMatchObject({ size: 1591, baseOid: EXPECTED.entries[5]!.oid });
  });

  it("refuses a 1 MB zlib bomb behind a 10-byte header", async () => {
    const header = new Uint8Array(12);
    header.set([0x50, 0x41, 0x43, 0x4b, 0, 0, 0, 2, 0, 0, 0, 1]);
    const body = concatBytes([header, encodeEntryHeader(3, 10), new Uint8Array(deflateSync(new Uint8Array(1 << 20)))]);
    const bomb = concatBytes([body, new Uint8Array(createHash("sha1").update(body).digest())]);
    for (const [chunk, streamAbove] of [[7, undefined], [bomb.length, undefined], [7, 0], [bomb.length, 0]] as const) {
      const err = await scanAll(bomb, chunk, streamAbove === undefined ? {} : { streamAbove }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GitError);
      expect((err as GitError).code).toBe("zlib-size-mismatch");
    }
  });

  it.each([1, 7, PACK.length])("streams every entry (streamAbove: 0) to the same boundaries and ids, fed in %d-byte chunks", async (chunk) => {
    const { entries, trailer } = await scanAll(PACK, chunk, { streamAbove: 0 });
    expect(trailer?.checksum).toBe(EXPECTED.checksum);
    expect(entries.map((e) => ({ offset: e.offset, packedLen: e.packedLen, size: e.size }))).toEqual(
      EXPECTED.entries.map((e) => ({ offset: e.offset, packedLen: e.packedLen, size: e.size })),
    );
    const blob = entries.find((e) => e.entryType === 3)!;
    expect(blob.data).toBeUndefined();
    expect(blob.oid).toBe(EXPECTED.entries[5]!.oid);
    const indexer = new PackIndexer({ readExisting: async () => null, readPackRange: async (offset, length) => PACK.slice(offset, offset + length), onObject: () => {} });
    for (const e of entries) await indexer.add(e);
    expect((await indexer.finish()).map((e) => e.oid)).toEqual(EXPECTED.entries.map((e) => e.oid));
  });
});
