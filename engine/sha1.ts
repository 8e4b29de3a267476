/**
 * Object ids in plain TypeScript: the SHA-1 of `<type> <size>\0` and the content, for the many
 * small objects of a push, where node:crypto's per-call wrappers in workerd cost more than hashing.
 * Invariants:
 * - The id equals node:crypto's SHA-1 of `encodeObjectHeader(type, size)` and the data, as 40 hex.
 * - Neither the header nor the data is copied whole: blocks are read from the data where it holds
 *   all 64 bytes, and only the first (header) and last (padding) blocks pass through scratch.
 * - Module-level arrays are scratch, written before each read: the code is synchronous.
 * Spec: FIPS 180-4 §5.1.1 (padding), §6.1.2 (SHA-1 computation); gitformat-loose(5) "Object format".
 */
import { oidFromBytes, type Oid } from "./oid.ts";
import type { ObjectType } from "./object/types.ts";

/** The message schedule of one block. */
const W = new Int32Array(80);
/** The running hash, H0…H4. */
const H = new Int32Array(5);
/** The header's block, and the one or two blocks of the tail and its padding. */
const EDGE = new Uint8Array(128);
const DIGEST = new Uint8Array(20);

export function sha1ObjectId(type: ObjectType, data: Uint8Array): Oid {
  H[0] = 0x67452301;
  H[1] = 0xefcdab89;
  H[2] = 0x98badcfe;
  H[3] = 0x10325476;
  H[4] = 0xc3d2e1f0;
  const n = data.length;
  let at = sha1Header(type, n);
  const total = at + n;
  let from = 0; // data bytes hashed so far
  if (total >= 64) {
    for (; at < 64; at++) EDGE[at] = data[from++]!;
    sha1Block(EDGE, 0);
    for (; from + 64 <= n; from += 64) sha1Block(data, from);
    at = 0;
  }
  while (from < n) EDGE[at++] = data[from++]!;
  EDGE[at++] = 0x80;
  const end = at <= 56 ? 64 : 128; // the 8-byte bit length must fit after the 0x80
  EDGE.fill(0, at, end - 8);
  const bitsHigh = Math.floor(total / 0x20000000);
  const bitsLow = (total * 8) >>> 0; // exact: an object's size is far below 2^50
  putBigEndian32(EDGE, end - 8, bitsHigh);
  putBigEndian32(EDGE, end - 4, bitsLow);
  sha1Block(EDGE, 0);
  if (end === 128) sha1Block(EDGE, 64);
  for (let i = 0; i < 5; i++) putBigEndian32(DIGEST, i * 4, H[i]!);
  return oidFromBytes(DIGEST);
}

/** Writes `<type> <size>\0` at the start of EDGE (at most 4 + 1 + 16 + 1 bytes) and returns its length. */
function sha1Header(type: ObjectType, size: number): number {
  let at = 0;
  for (; at < type.length; at++) EDGE[at] = type.charCodeAt(at);
  EDGE[at++] = 0x20;
  let digits = 1;
  for (let p = 10; p <= size; p *= 10) digits++;
  for (let i = at + digits - 1, v = size; i >= at; i--, v = Math.floor(v / 10)) EDGE[i] = 0x30 + (v % 10);
  at += digits;
  EDGE[at++] = 0;
  return at;
}

function putBigEndian32(into: Uint8Array, at: number, word: number): void {
  into[at] = word >>> 24;
  into[at + 1] = word >>> 16;
  into[at + 2] = word >>> 8;
  into[at + 3] = word;
}

/** Folds the 64-byte block at `src[off]` into H. Sums stay far below 2^53, so `| 0` wraps them exactly. */
function sha1Block(src: Uint8Array, off: number): void {
  const w = W;
  for (let i = 0; i < 16; i++, off += 4) w[i] = (src[off]! << 24) | (src[off + 1]! << 16) | (src[off + 2]! << 8) | src[off + 3]!;
  for (let i = 16; i < 80; i++) {
    const x = w[i - 3]! ^ w[i - 8]! ^ w[i - 14]! ^ w[i - 16]!;
    w[i] = (x << 1) | (x >>> 31);
  }
  let a = H[0]!;
  let b = H[1]!;
  let c = H[2]!;
  let d = H[3]!;
  let e = H[4]!;
  for (let i = 0; i < 20; i++) {
    const t = (((a << 5) | (a >>> 27)) + ((b & c) | (~b & d)) + e + w[i]! + 0x5a827999) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = t;
  }
  for (let i = 20; i < 40; i++) {
    const t = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + w[i]! + 0x6ed9eba1) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = t;
  }
  for (let i = 40; i < 60; i++) {
    const t = (((a << 5) | (a >>> 27)) + ((b & c) | (b & d) | (c & d)) + e + w[i]! + 0x8f1bbcdc) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = t;
  }
  for (let i = 60; i < 80; i++) {
    const t = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + w[i]! + 0xca62c1d6) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = t;
  }
  H[0] = (H[0]! + a) | 0;
  H[1] = (H[1]! + b) | 0;
  H[2] = (H[2]! + c) | 0;
  H[3] = (H[3]! + d) | 0;
  H[4] = (H[4]! + e) | 0;
}
