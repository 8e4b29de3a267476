// The JS inflater against node:zlib, which is the zlib git itself links: every stream node deflates
// must come back byte for byte with its exact length, and every stream node refuses must be refused
// (never crash, never hand back wrong data). Hand-made streams reach the paths deflaters never take.
import { constants, deflateRawSync, deflateSync, inflateSync, type ZlibOptions } from "node:zlib";
import { describe, expect, it } from "vitest";
import { bytesEqual, concatBytes } from "../../engine/bytes.ts";
import { GitError } from "../../engine/errors.ts";
import { inflate } from "../../engine/inflate.ts";
import { inflateEntry } from "../../engine/zlib.ts";
import { adler32 } from "../fixtures/adler32.ts";

/** xorshift32: the same bytes on every run. */
function random(seed: number): () => number {
  let x = seed || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

function randomBytes(n: number, seed: number): Uint8Array {
  const next = random(seed);
  return Uint8Array.from({ length: n }, () => next() & 0xff);
}

/** Text-like bytes: words, repeats near and far, and runs, so deflate uses every kind of match. */
function compressible(n: number, seed: number): Uint8Array {
  const next = random(seed);
  const words = ["tree ", "100644 blob ", "parent ", "author A U Thor <a@example.com> ", "\n", "const x = ", "return;", "    "];
  const out = new Uint8Array(n);
  let at = 0;
  while (at < n) {
    const r = next();
    if (r % 7 === 0 && at > 300) {
      const from = at - 1 - (next() % Math.min(at, 32_768)); // a far repeat
      for (let k = 3 + (r % 40); k > 0 && at < n; k--) out[at++] = out[from + (at % 3)]!;
    } else if (r % 11 === 0) {
      for (let k = r % 300; k > 0 && at < n; k--) out[at++] = 0x2d; // a run
    } else {
      const w = (r >>> 8) % 3 === 0 ? String.fromCharCode(97 + (r % 26)) : words[(r >>> 4) % words.length]!;
      for (let i = 0; i < w.length && at < n; i++) out[at++] = w.charCodeAt(i);
    }
  }
  return out;
}

const KINDS = { random: randomBytes, compressible, zeros: (n: number) => new Uint8Array(n) } as const;
const SIZES = [0, 1, 2, 3, 9, 64, 255, 256, 1000, 2048, 4097, 32_767, 32_768, 32_769, 65_536, 100_000, 200_000];
const STRATEGIES = {
  default: constants.Z_DEFAULT_STRATEGY,
  filtered: constants.Z_FILTERED,
  fixed: constants.Z_FIXED,
  "huffman-only": constants.Z_HUFFMAN_ONLY,
  rle: constants.Z_RLE,
} as const;

function expectRoundTrip(data: Uint8Array, z: Uint8Array, tail: Uint8Array): void {
  const input = concatBytes([z, tail]);
  const r = inflate(input, data.length);
  expect(r).not.toBeNull();
  expect(r!.consumed).toBe(z.length);
  expect(bytesEqual(r!.data, data)).toBe(true);
  expect(r!.data.buffer.byteLength).toBe(data.length); // its own backing store, no view into a bigger one
}

type Verdict = { ok: true; data: Uint8Array; consumed: number } | { ok: false; code: string };

/** What our inflater says of `input` declared as `size` bytes: null (needs more input) is "short". */
function ours(input: Uint8Array, size: number): Verdict {
  try {
    const r = inflate(input, size);
    return r ? { ok: true, data: r.data, consumed: r.consumed } : { ok: false, code: "short" };
  } catch (e) {
    if (!(e instanceof GitError)) throw e; // anything else is a crash
    return { ok: false, code: e.code };
  }
}

/** What node:zlib says of the same input, in our terms. */
function reference(input: Uint8Array, size: number): Verdict {
  try {
    const r = inflateSync(input, { info: true, maxOutputLength: size + 1 }) as unknown as { buffer: Uint8Array; engine: { bytesWritten: number } };
    if (r.buffer.length !== size) return { ok: false, code: "zlib-size-mismatch" };
    return { ok: true, data: r.buffer, consumed: r.engine.bytesWritten };
  } catch (e) {
    if (e instanceof RangeError) return { ok: false, code: "zlib-size-mismatch" };
    return { ok: false, code: /unexpected end/.test(String(e)) ? "short" : "zlib-corrupt" };
  }
}

/**
 * Our verdict agrees with node's: the same bytes and length, or a refusal of the same kind. Going past
 * the declared size may be seen before the damage node reports, so a size mismatch answers any refusal.
 */
function expectSameVerdict(input: Uint8Array, size: number, what: string): void {
  const want = reference(input, size);
  const got = ours(input, size);
  if (want.ok) {
    expect(got.ok, what).toBe(true);
    if (got.ok) {
      expect(got.consumed, what).toBe(want.consumed);
      expect(bytesEqual(got.data, want.data), what).toBe(true);
    }
  } else {
    expect(got.ok, what).toBe(false);
    if (!got.ok && got.code !== "zlib-size-mismatch") expect(got.code, what).toBe(want.code);
  }
}

describe("inflate round trips node:zlib's deflate", () => {
  it.each([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])("level %i: every strategy, 0 … 200 KB, random, compressible and zeros, with trailing bytes", (level) => {
    let seed = level * 1000 + 1;
    for (const strategy of Object.values(STRATEGIES)) {
      for (const size of SIZES) {
        for (const make of Object.values(KINDS)) {
          const data = make(size, seed++);
          expectRoundTrip(data, deflateSync(data, { level, strategy }), randomBytes(seed % 9, seed));
        }
      }
    }
  });

  it("inflates every window size and memory level", () => {
    const data = compressible(50_000, 7);
    for (const windowBits of [9, 10, 12, 15])
      for (const memLevel of [1, 8, 9]) expectRoundTrip(data, deflateSync(data, { windowBits, memLevel }), Uint8Array.of(0x78, 0x9c));
  });

  it("inflates a stream of many blocks: flushed pieces, empty stored blocks, final block last", () => {
    const next = random(99);
    const pieces: Uint8Array[] = [];
    for (let i = 0; i < 40; i++) pieces.push(i % 3 === 0 ? randomBytes(next() % 600, i) : compressible(next() % 3000, i));
    const opts = (i: number): ZlibOptions => ({ level: i % 10, strategy: Object.values(STRATEGIES)[i % 5] });
    const raw = pieces.map((p, i) =>
      deflateRawSync(p, { ...opts(i), finishFlush: i === pieces.length - 1 ? constants.Z_FINISH : i % 2 ? constants.Z_SYNC_FLUSH : constants.Z_FULL_FLUSH }),
    );
    const data = concatBytes(pieces);
    expectRoundTrip(data, concatBytes([Uint8Array.of(0x78, 0x01), ...raw, adler32(data)]), Uint8Array.of(1, 2, 3));
  });

  it("agrees with node:zlib on 2,000 small objects the way git packs them", () => {
    // A pack's entries are mostly tiny: deltas of a few dozen bytes, trees and commits of hundreds.
    const next = random(5);
    for (let i = 0; i < 2000; i++) {
      const data = i % 2 ? compressible(next() % 700, i) : randomBytes(next() % 80, i);
      const z = deflateSync(data, { level: i % 10 });
      expectSameVerdict(concatBytes([z, randomBytes(20, i)]), data.length, `object ${i}`);
    }
  });
});

describe("inflate on truncated input", () => {
  const streams = {
    empty: deflateSync(new Uint8Array(0)),
    stored: deflateSync(randomBytes(300, 1), { level: 0 }),
    fixed: deflateSync(compressible(400, 2), { strategy: constants.Z_FIXED }),
    dynamic: deflateSync(compressible(1500, 3)),
    "huffman-only": deflateSync(compressible(600, 4), { strategy: constants.Z_HUFFMAN_ONLY }),
  };
  const sizes = { empty: 0, stored: 300, fixed: 400, dynamic: 1500, "huffman-only": 600 };

  it.each(Object.keys(streams) as (keyof typeof streams)[])("needs more input at every cut of a %s stream, and refuses it as final", (name) => {
    const z = streams[name];
    for (let cut = 0; cut < z.length; cut++) {
      const part = z.slice(0, cut);
      expect(inflate(part, sizes[name]), `cut at ${cut}`).toBeNull();
      expect(inflateEntry(part, sizes[name], false), `cut at ${cut}`).toBeNull();
      expect(() => inflateEntry(part, sizes[name], true)).toThrow(expect.objectContaining({ code: "zlib-corrupt" }));
    }
    expect(inflate(z, sizes[name])!.consumed).toBe(z.length);
  });
});

describe("inflate on damaged input", () => {
  const streams = [
    ["stored", randomBytes(200, 11), { level: 0 }],
    ["fixed", compressible(300, 12), { strategy: constants.Z_FIXED }],
    ["dynamic", compressible(900, 13), {}],
    ["dynamic, random", randomBytes(400, 14), { level: 9 }],
    ["rle", compressible(500, 15), { strategy: constants.Z_RLE }],
  ] as const;

  it.each(streams)("agrees with node:zlib on every byte of a %s stream flipped", (_name, data, opts) => {
    const z = concatBytes([deflateSync(data, opts), randomBytes(16, 3)]);
    for (let at = 0; at < z.length - 16; at++) {
      for (const mask of [0x01, 0x08, 0x40, 0x80, 0xff]) {
        const bad = z.slice();
        bad[at]! ^= mask;
        expectSameVerdict(bad, data.length, `byte ${at} ^ ${mask}`);
      }
    }
  });

  it("agrees with node:zlib on 3,000 streams with random damage", () => {
    const next = random(77);
    for (let i = 0; i < 3000; i++) {
      const data = compressible(next() % 2000, i);
      const z = concatBytes([deflateSync(data, { level: i % 10, strategy: Object.values(STRATEGIES)[i % 5] }), randomBytes(8, i)]);
      for (let k = 1 + (next() % 3); k > 0; k--) z[next() % z.length] = next() & 0xff;
      expectSameVerdict(z, data.length, `stream ${i}`);
    }
  });

  it("refuses every wrong Adler-32", () => {
    const data = compressible(700, 21);
    const z = deflateSync(data);
    for (let bit = 0; bit < 32; bit++) {
      const bad = z.slice();
      bad[z.length - 4 + (bit >> 3)]! ^= 1 << (bit & 7);
      expect(() => inflate(bad, data.length), `bit ${bit}`).toThrow(expect.objectContaining({ code: "zlib-corrupt" }));
    }
  });

  /** CMF and an FLG that passes the header check (and asks for no dictionary). */
  const checked = (cmf: number) => Uint8Array.of(cmf, 31 - ((cmf << 8) % 31));
  it.each([
    ["compression method 7", checked(0x77)],
    ["a 64 KiB window", checked(0x88)],
    ["a bad header check", Uint8Array.of(0x78, 0x9d)],
  ])("refuses a header with %s", (_why, header) => {
    const z = deflateSync(compressible(100, 1));
    expect(() => inflate(concatBytes([header, z.subarray(2)]), 100)).toThrow(expect.objectContaining({ code: "zlib-corrupt" }));
  });

  it("refuses a stream that needs a preset dictionary", () => {
    const data = compressible(300, 2);
    const z = deflateSync(data, { dictionary: compressible(100, 3) });
    expect(() => inflate(z, data.length)).toThrow(expect.objectContaining({ code: "zlib-corrupt" }));
  });
});

describe("inflate on hand-made deflate data", () => {
  /** Writes deflate bits: fields least significant bit first, Huffman codes most significant first. */
  class Bits {
    readonly bytes: number[] = [];
    #bit = 0;
    put(value: number, n: number): this {
      for (let i = 0; i < n; i++, this.#bit++) {
        if (this.#bit % 8 === 0) this.bytes.push(0);
        this.bytes[this.bytes.length - 1]! |= ((value >> i) & 1) << this.#bit % 8;
      }
      return this;
    }
    code(code: number, len: number): this {
      for (let i = len - 1; i >= 0; i--) this.put((code >> i) & 1, 1);
      return this;
    }
    /** Header, these deflate bits, and the Adler-32 of no data: what they produce, if anything. */
    stream(): Uint8Array {
      return concatBytes([Uint8Array.of(0x78, 0x01), Uint8Array.from(this.bytes), adler32(new Uint8Array(0))]);
    }
  }
  // Fixed codes (RFC 1951 3.2.6): literal 0-143 are 8 bits from 0x30, 256-279 7 bits from 0, 280-287 8 bits from 0xc0.
  const literal = (b: Bits, byte: number) => b.code(0x30 + byte, 8);
  const endOfBlock = (b: Bits) => b.code(0, 7);
  /**
   * A dynamic block's header up to its code lengths, whose own code is: 18 (a run of zeros) "0",
   * 0 "10", 1 "110", 2 "111". HCLEN 18 reaches symbol 1, the last of RFC 1951's order it needs.
   */
  const codeLengthCode = (b: Bits, nlen: number, ndist: number) => {
    b.put(1, 1).put(2, 2).put(nlen - 257, 5).put(ndist - 1, 5).put(18 - 4, 4);
    const lengthOf: Record<number, number> = { 18: 1, 0: 2, 1: 3, 2: 3 };
    for (const sym of [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1]) b.put(lengthOf[sym] ?? 0, 3);
  };
  const zeros = (b: Bits, n: number) => {
    while (n >= 11) {
      const k = Math.min(n, 138);
      b.code(0, 1).put(k - 11, 7);
      n -= k;
    }
    for (; n > 0; n--) b.code(2, 2);
  };
  const one = (b: Bits) => b.code(6, 3);
  const two = (b: Bits) => b.code(7, 3);

  it("inflates a dynamic block whose only literal/length code is end-of-block, as zlib does", () => {
    const b = new Bits();
    codeLengthCode(b, 257, 1);
    zeros(b, 256);
    one(b); // 256: the lone code, one bit
    zeros(b, 1); // no distance code at all
    b.code(0, 1); // end of block
    expectSameVerdict(b.stream(), 0, "lone end-of-block");
    expect(inflate(b.stream(), 0)!.data.length).toBe(0);
  });

  it.each([
    ["a length past the fixed code's 29", (b: Bits) => literal(b.put(1, 1).put(1, 2), 0x61).code(0xc6, 8)],
    ["distance code 30", (b: Bits) => literal(b.put(1, 1).put(1, 2), 0x61).code(1, 7).code(30, 5)],
    ["a distance before the first byte", (b: Bits) => literal(b.put(1, 1).put(1, 2), 0x61).code(1, 7).code(1, 5)],
    ["block type 3", (b: Bits) => b.put(1, 1).put(3, 2)],
    ["a stored length unlike its complement", (b: Bits) => b.put(1, 1).put(0, 2).put(0, 5).put(3, 16).put(0xfffd, 16)],
    ["a code-length repeat before any length", (b: Bits) => b.put(1, 1).put(2, 2).put(0, 5).put(0, 5).put(0, 4).put(1, 3).put(1, 3).put(0, 3).put(0, 3).code(0, 1)],
    ["an over-subscribed code-length code", (b: Bits) => b.put(1, 1).put(2, 2).put(0, 5).put(0, 5).put(0, 4).put(1, 3).put(1, 3).put(1, 3).put(0, 3)],
    ["an incomplete code-length code", (b: Bits) => b.put(1, 1).put(2, 2).put(0, 5).put(0, 5).put(0, 4).put(1, 3).put(0, 3).put(0, 3).put(0, 3)],
    ["more than 286 literal/length codes", (b: Bits) => b.put(1, 1).put(2, 2).put(30, 5).put(0, 5).put(0, 4)],
    [
      "no end-of-block code",
      (b: Bits) => {
        codeLengthCode(b, 257, 1);
        zeros(b, 97);
        one(b);
        one(b); // 'a' and 'b', one bit each: complete, but nothing ends the block
        zeros(b, 159);
      },
    ],
    [
      "an incomplete literal/length code",
      (b: Bits) => {
        codeLengthCode(b, 257, 1);
        zeros(b, 97);
        one(b); // 'a' one bit, end-of-block two: a quarter of the code space is left over
        zeros(b, 158);
        two(b);
        zeros(b, 1);
      },
    ],
    [
      "code lengths that overrun their count",
      (b: Bits) => {
        codeLengthCode(b, 257, 1);
        zeros(b, 138);
        zeros(b, 138);
      },
    ],
  ])("refuses %s, as zlib does", (_why, write) => {
    const b = new Bits();
    write(b);
    endOfBlock(b);
    const input = concatBytes([b.stream(), new Uint8Array(8)]);
    expect(reference(input, 1)).toMatchObject({ ok: false, code: "zlib-corrupt" });
    expect(() => inflate(input, 1)).toThrow(expect.objectContaining({ code: "zlib-corrupt" }));
  });
});

describe("inflate and the declared size", () => {
  it("refuses a 1 MB bomb declared as 10 bytes, and a stored one", () => {
    expect(() => inflate(deflateSync(new Uint8Array(1 << 20)), 10)).toThrow(expect.objectContaining({ code: "zlib-size-mismatch" }));
    expect(() => inflate(deflateSync(randomBytes(70_000, 1), { level: 0 }), 10)).toThrow(expect.objectContaining({ code: "zlib-size-mismatch" }));
    // The stored block says 65,535 bytes: refused before its bytes are there.
    expect(() => inflate(deflateSync(randomBytes(70_000, 1), { level: 0 }).subarray(0, 100), 10)).toThrow(expect.objectContaining({ code: "zlib-size-mismatch" }));
  });

  it.each([0, 1, 100, 2048, 5000])("refuses %i bytes declared one more or one less", (size) => {
    const data = compressible(size, size);
    const z = deflateSync(data);
    if (size > 0) expect(() => inflate(z, size - 1)).toThrow(expect.objectContaining({ code: "zlib-size-mismatch" }));
    expect(() => inflate(z, size + 1)).toThrow(expect.objectContaining({ code: "zlib-size-mismatch" }));
  });
});

describe("inflateEntry", () => {
  it.each([0, 50, 2047, 2048, 2049, 20_000])("answers alike on either side of the JS inflater's threshold (%i bytes)", (size) => {
    const data = compressible(size, 3);
    const z = deflateSync(data);
    const tail = randomBytes(5, 4);
    const r = inflateEntry(concatBytes([z, tail]), size, false)!;
    expect([r.consumed, bytesEqual(r.data, data)]).toEqual([z.length, true]);
    expect(inflateEntry(z.subarray(0, z.length - 1), size, false)).toBeNull();
    expect(() => inflateEntry(z.subarray(0, z.length - 1), size, true)).toThrow(expect.objectContaining({ code: "zlib-corrupt" }));
    expect(() => inflateEntry(z, size + 1, true)).toThrow(expect.objectContaining({ code: "zlib-size-mismatch" }));
    const bad = z.slice();
    bad[bad.length - 1]! ^= 1;
    expect(() => inflateEntry(bad, size, true)).toThrow(expect.objectContaining({ code: "zlib-corrupt" }));
  });
});

