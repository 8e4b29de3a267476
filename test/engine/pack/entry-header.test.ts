import { describe, expect, it } from "vitest";
import { GitError } from "../../../engine/errors.ts";
import type { Oid } from "../../../engine/oid.ts";
import type { PackEntryType } from "../../../engine/object/types.ts";
import { decodeEntryHeader, encodeEntryHeader } from "../../../engine/pack/entry-header.ts";

const WHOLE_TYPES: PackEntryType[] = [1, 2, 3, 4];
const SIZES = [0, 15, 16, 127, 2 ** 20, 2 ** 32 + 5];
const REL_OFFSETS = [1, 127, 128, 16511, 16512, 2 ** 28];
const OID = "0123456789abcdef0123456789abcdef01234567" as Oid;

function expectMalformed(buf: Uint8Array, offset: number) {
  let caught: unknown;
  try {
    decodeEntryHeader(buf, offset);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(GitError);
  expect((caught as GitError).code).toBe("pack-entry-malformed");
}

describe("encodeEntryHeader / decodeEntryHeader", () => {
  it.each(WHOLE_TYPES.flatMap((t) => SIZES.map((s) => [t, s] as const)))("round-trips type %i size %i", (type, size) => {
    const bytes = encodeEntryHeader(type, size);
    expect(decodeEntryHeader(bytes, 12)).toEqual({ entryType: type, size, headerLen: bytes.length });
  });

  it("packs 4 bits of size into the first byte, then 7 per byte, least significant first", () => {
    // gitformat-pack(5): MSB continues, bits 4-6 of the first byte are the type.
    expect([...encodeEntryHeader(3, 15)]).toEqual([0x3f]);
    expect([...encodeEntryHeader(3, 16)]).toEqual([0xb0, 0x01]);
    expect([...encodeEntryHeader(1, 100)]).toEqual([0x94, 0x06]);
    expect(encodeEntryHeader(2, 2 ** 32 + 5).length).toBe(1 + Math.ceil((33 - 4) / 7));
  });

  it.each(REL_OFFSETS)("round-trips an OFS_DELTA %i bytes back", (rel) => {
    const bytes = encodeEntryHeader(6, 300, { rel });
    const offset = rel + 1000;
    expect(decodeEntryHeader(bytes, offset)).toEqual({ entryType: 6, size: 300, headerLen: bytes.length, baseOffset: 1000 });
  });

  it("encodes OFS_DELTA offsets with git's +1 per continuation byte", () => {
    // Each extra byte adds 2^(7k) more, so 127 | 128 and 16511 | 16512 are where the length steps.
    const ofsBytes = (rel: number) => [...encodeEntryHeader(6, 1, { rel })].slice(1);
    expect(ofsBytes(127)).toEqual([0x7f]);
    expect(ofsBytes(128)).toEqual([0x80, 0x00]);
    expect(ofsBytes(16511)).toEqual([0xff, 0x7f]);
    expect(ofsBytes(16512)).toEqual([0x80, 0x80, 0x00]);
  });

  it("round-trips a REF_DELTA's base id", () => {
    const bytes = encodeEntryHeader(7, 2 ** 20, { oid: OID });
    expect(bytes.length).toBe(4 + 20); // 2^20 needs 21 bits: 4 in the first byte, then 7, 7, 3
    expect(decodeEntryHeader(bytes, 50)).toEqual({ entryType: 7, size: 2 ** 20, headerLen: 24, baseOid: OID });
  });

  it("ignores bytes after the header", () => {
    const bytes = encodeEntryHeader(6, 5000, { rel: 16512 });
    const padded = new Uint8Array(bytes.length + 30).fill(0xff);
    padded.set(bytes);
    expect(decodeEntryHeader(padded, 20000)?.headerLen).toBe(bytes.length);
  });

  it("returns null for every truncation of a header", () => {
    const headers = [
      encodeEntryHeader(3, 2 ** 32 + 5),
      encodeEntryHeader(6, 2 ** 20, { rel: 2 ** 28 }),
      encodeEntryHeader(7, 16, { oid: OID }),
    ];
    for (const h of headers) for (let n = 0; n < h.length; n++) expect(decodeEntryHeader(h.subarray(0, n), 2 ** 29)).toBeNull();
  });

  it("refuses entry types 0 and 5", () => {
    expectMalformed(Uint8Array.of(0x05), 12);
    expectMalformed(Uint8Array.of(0x55), 12);
  });

  it("refuses an OFS_DELTA base before the start of the pack, or at the delta itself", () => {
    expectMalformed(encodeEntryHeader(6, 10, { rel: 101 }), 100);
    expectMalformed(encodeEntryHeader(6, 10, { rel: 16512 }), 16511);
    expectMalformed(Uint8Array.of(0x6a, 0x00), 100);
  });

  it("refuses a size varint longer than any real object needs", () => {
    expectMalformed(Uint8Array.of(0xb0, ...new Array<number>(12).fill(0x80), 0x01), 12);
  });

  it("needs a base for delta types", () => {
    expect(() => encodeEntryHeader(6, 1)).toThrow(TypeError);
    expect(() => encodeEntryHeader(7, 1, { rel: 5 })).toThrow(TypeError);
  });
});
