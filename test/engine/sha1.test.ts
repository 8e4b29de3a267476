// sha1ObjectId against node:crypto over the object header and data, which is what git hashes.
import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { hashObject } from "../../engine/hash.ts";
import { encodeObjectHeader } from "../../engine/object/object-header.ts";
import type { ObjectType } from "../../engine/object/types.ts";
import { sha1ObjectId } from "../../engine/sha1.ts";

const TYPES: readonly ObjectType[] = ["commit", "tree", "blob", "tag"];

function reference(type: ObjectType, data: Uint8Array): string {
  return createHash("sha1").update(encodeObjectHeader(type, data.length)).update(data).digest("hex");
}

function bytes(n: number): Uint8Array {
  const b = randomBytes(n);
  return new Uint8Array(b.buffer, b.byteOffset, n);
}

describe("sha1ObjectId", () => {
  it("matches node:crypto for every length 0..300 and every type", () => {
    for (let n = 0; n <= 300; n++) {
      const data = bytes(n);
      for (const type of TYPES) expect(sha1ObjectId(type, data), `${type} ${n}`).toBe(reference(type, data));
    }
  });

  it("matches where header and data straddle the 55/56/64-byte padding boundaries", () => {
    // "blob N\0" is 7 bytes for N < 10 and 8 up to 99, "commit N\0" 9 and 10: cover every total from
    // a header alone to a few blocks, so the 0x80 and the length land on each side of each boundary.
    for (const type of TYPES) {
      const header = encodeObjectHeader(type, 100).length;
      for (let total = 40; total <= 200; total++) {
        const n = Math.max(0, total - header);
        const data = bytes(n);
        expect(sha1ObjectId(type, data), `${type} ${n}`).toBe(reference(type, data));
      }
    }
  });

  it("matches for random lengths up to 70 KB", () => {
    for (let k = 0; k < 200; k++) {
      const data = bytes(Math.floor(Math.random() * 70_000));
      expect(sha1ObjectId("blob", data), `${data.length}`).toBe(reference("blob", data));
    }
  });

  it("reads every byte value, and only the view's bytes of a subarray", () => {
    const all = Uint8Array.from({ length: 256 * 3 }, (_, i) => i & 255);
    expect(sha1ObjectId("blob", all)).toBe(reference("blob", all));
    expect(sha1ObjectId("blob", all.subarray(1, 700))).toBe(reference("blob", all.subarray(1, 700)));
    const ones = new Uint8Array(1000).fill(0xff);
    expect(sha1ObjectId("tree", ones)).toBe(reference("tree", ones));
  });

  it("writes every decimal size correctly, including powers of ten and one below", () => {
    for (const n of [9, 10, 99, 100, 999, 1000, 9999, 10_000, 99_999, 100_000]) {
      const data = bytes(n);
      expect(sha1ObjectId("commit", data), `${n}`).toBe(reference("commit", data));
    }
  });

  it("gives git's ids for the empty blob and tree", () => {
    expect(sha1ObjectId("blob", new Uint8Array())).toBe("e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
    expect(sha1ObjectId("tree", new Uint8Array())).toBe("4b825dc642cb6eb9a060e54bf8d69288fbee4904");
  });
});

describe("hashObject", () => {
  it("gives the same id on either side of the TypeScript threshold, for each type", () => {
    for (const type of TYPES) {
      for (const n of [0, 1, 266, 557, 1023, 1024, 1025, 2048, 11_000]) {
        const data = bytes(n);
        expect(hashObject(type, data), `${type} ${n}`).toBe(reference(type, data));
      }
    }
  });
});
