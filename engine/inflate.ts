/**
 * Inflates one zlib stream in plain TypeScript: for the many tiny entries of a pack, the per-call
 * cost of node:zlib's wrappers in workerd is many times the cost of the inflating itself.
 * Invariants:
 * - Output is one buffer of exactly the declared size, made before decoding; a stream that would
 *   write past it throws at that write, so a bomb costs its declared size and no more.
 * - `consumed` is exact: header, deflate data to the end of its final block's byte, Adler-32.
 *   Bytes read ahead of that are only read, and given back.
 * - Missing input gives null only where the stream needs a byte that is not there, never on a guess.
 * - Module-level tables are scratch, rebuilt before each use: the code is synchronous.
 * Spec: RFC 1950 (zlib), RFC 1951 (deflate).
 */
import { GitError } from "./errors.ts";
import type { Inflated, ZlibErrorCode } from "./zlib.ts";

/** Thrown inside when the stream needs more input than there is; the caller sees null. */
const NEED_INPUT: unique symbol = Symbol("need input");

// RFC 1951 3.2.5: base value and extra bits of each length code (257…285) and distance code (0…29).
const LENGTH_BASE = Uint16Array.of(3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258);
const LENGTH_EXTRA = Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0);
const DIST_BASE = Uint16Array.of(1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577);
const DIST_EXTRA = Uint8Array.of(0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13);
// RFC 1951 3.2.7: the order in which a dynamic block lists its code-length code lengths.
const CODE_LENGTH_ORDER = Uint8Array.of(16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15);

/** Bit-reversed bytes: deflate packs Huffman codes most significant bit first into an LSB-first stream. */
const REVERSED = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  let r = 0;
  for (let b = 0; b < 8; b++) r |= ((i >>> b) & 1) << (7 - b);
  REVERSED[i] = r;
}

// A decoded symbol is one number, `value << 9 | op << 4 | code length`, so the hot loop needs one
// table read per code. For literal/length and distance codes, `op` below 16 is the count of extra
// bits and `value` the base they add to; otherwise `op` says what the symbol is.
const LITERAL = 16;
const END_OF_BLOCK = 17;
const INVALID = 18;

const LITERAL_LENGTH_MEANING = Int32Array.from({ length: 288 }, (_, sym) =>
  sym < 256 ? (sym << 9) | (LITERAL << 4)
  : sym === 256 ? END_OF_BLOCK << 4
  : sym < 286 ? (LENGTH_BASE[sym - 257]! << 9) | (LENGTH_EXTRA[sym - 257]! << 4)
  : INVALID << 4,
);
const DISTANCE_MEANING = Int32Array.from({ length: 32 }, (_, sym) => (sym < 30 ? (DIST_BASE[sym]! << 9) | (DIST_EXTRA[sym]! << 4) : INVALID << 4));
const CODE_LENGTH_MEANING = Int32Array.from({ length: 19 }, (_, sym) => sym << 9);

/**
 * A canonical Huffman code. `table` maps the next `bits` stream bits to the decoded number of every
 * code of at most `bits` bits, and holds 0 where none starts. Only when some code is longer than
 * `bits` (`slow`) are `symbols` sorted for decoding the rest bit by bit.
 */
class Huffman {
  /** How many codes have each length: filled by whoever reads the lengths, before `buildHuffman`. */
  readonly count = new Uint16Array(16);
  readonly symbols: Uint16Array;
  readonly table: Int32Array;
  bits = 0;
  slow = false;
  constructor(
    readonly meaning: Int32Array,
    readonly rootBits: number,
  ) {
    this.symbols = new Uint16Array(meaning.length);
    this.table = new Int32Array(1 << rootBits);
  }
}

const next = new Uint16Array(16);

/**
 * Builds `h` from the code lengths `lengths[present[k]]` for k in [start, stop): `present` lists, in
 * increasing order, where the nonzero lengths are, and `present[k] - from` is the symbol (skipping
 * the zeros matters: a small block uses few of its 286 symbols). Their counts are in `h.count`.
 * Like zlib, it refuses an over-subscribed code and an incomplete one, except a lone code of one bit
 * (or none at all) where `lone` allows it: a block with a single distance, or none.
 */
function buildHuffman(h: Huffman, lengths: Uint8Array, from: number, present: Uint16Array, start: number, stop: number, lone: boolean): void {
  const { count, table, meaning } = h;
  count[0] = 0;
  let left = 1;
  let longest = 0;
  for (let len = 1; len <= 15; len++) {
    left = (left << 1) - count[len]!;
    if (left < 0) throw corrupt("over-subscribed Huffman code");
    if (count[len]) longest = len;
  }
  if (left > 0 && longest !== 0 && !(lone && longest === 1)) throw corrupt("incomplete Huffman code");

  const bits = Math.max(1, Math.min(longest, h.rootBits));
  const size = 1 << bits;
  h.bits = bits;
  h.slow = longest > bits;
  // A complete code of short codes covers every entry; otherwise the holes must read as 0.
  if (left > 0 || h.slow) table.fill(0, 0, size);
  next[1] = 0;
  for (let len = 1; len < 15; len++) next[len + 1] = (next[len]! + count[len]!) << 1;
  for (let k = start; k < stop; k++) {
    const i = present[k]!;
    const len = lengths[i]!;
    if (len > bits) continue;
    const code = next[len]!++;
    const entry = meaning[i - from]! | len;
    // The stream holds codes most significant bit first; the table is indexed by bits as read.
    for (let at = ((REVERSED[code & 0xff]! << 8) | REVERSED[code >>> 8]!) >>> (16 - len); at < size; at += 1 << len) table[at] = entry;
  }
  if (!h.slow) return;
  const { symbols } = h;
  next[1] = 0;
  for (let len = 1; len < 15; len++) next[len + 1] = next[len]! + count[len]!;
  for (let k = start; k < stop; k++) {
    const i = present[k]!;
    symbols[next[lengths[i]!]!++] = i - from;
  }
}

/**
 * Decodes what the table could not: a code longer than the table, bit by bit through the canonical
 * order (codes of each length are consecutive numbers); else the input ended inside the code, or no
 * code starts with these bits.
 */
function decodeSlow(h: Huffman, hold: number, bits: number): number {
  if (!h.slow) {
    if (bits < h.bits) throw NEED_INPUT;
    throw corrupt("invalid Huffman code");
  }
  const { count, symbols } = h;
  let code = 0;
  let first = 0;
  let index = 0;
  for (let len = 1; len <= 15; len++) {
    if (len > bits) throw NEED_INPUT;
    code |= (hold >>> (len - 1)) & 1;
    const n = count[len]!;
    if (code - first < n) return h.meaning[symbols[index + code - first]!]! | len;
    index += n;
    first = (first + n) << 1;
    code <<= 1;
  }
  throw corrupt("invalid Huffman code");
}

const EMPTY = new Uint8Array(0);

/**
 * The decoder's position: input, the bits read ahead of `pos` (LSB first in `hold`), and output.
 * `hold` never keeps more than 31 bits, so it stays a positive small integer: `>>` is then `>>>`,
 * and V8 never turns it into a float (that alone cost a third of the decoding time).
 */
class State {
  input: Uint8Array = EMPTY;
  pos = 0;
  hold = 0;
  bits = 0;
  output: Uint8Array = EMPTY;
  at = 0;

  /** Takes `n` (at most 24) bits, reading only the bytes it needs. */
  readBits(n: number): number {
    while (this.bits < n) {
      if (this.pos >= this.input.length) throw NEED_INPUT;
      this.hold |= this.input[this.pos++]! << this.bits;
      this.bits += 8;
    }
    const v = this.hold & ((1 << n) - 1);
    this.hold >>= n;
    this.bits -= n;
    return v;
  }

  /** Drops the rest of the current byte and gives back the whole bytes read ahead. */
  alignToByte(): void {
    this.pos -= this.bits >>> 3;
    this.hold = 0;
    this.bits = 0;
  }
}

const FIXED_LIT = new Huffman(LITERAL_LENGTH_MEANING, 9);
const FIXED_DIST = new Huffman(DISTANCE_MEANING, 5);
{
  const lengths = new Uint8Array(288);
  const all = Uint16Array.from({ length: 288 }, (_, i) => i);
  lengths.fill(8, 0, 144).fill(9, 144, 256).fill(7, 256, 280).fill(8, 280, 288);
  FIXED_LIT.count.set([0, 0, 0, 0, 0, 0, 0, 24, 152, 112]);
  buildHuffman(FIXED_LIT, lengths, 0, all, 0, 288, false);
  // Distance codes 30 and 31 take part in the fixed code but are refused where they are decoded.
  FIXED_DIST.count[5] = 32;
  buildHuffman(FIXED_DIST, lengths.fill(5, 0, 32), 0, all, 0, 32, false);
}
const DYNAMIC_LIT = new Huffman(LITERAL_LENGTH_MEANING, 11);
const DYNAMIC_DIST = new Huffman(DISTANCE_MEANING, 8);
const CODE_LENGTHS = new Huffman(CODE_LENGTH_MEANING, 7);
const lengths = new Uint8Array(286 + 30);
const present = new Uint16Array(286 + 30);
const codeLengthLengths = new Uint8Array(19);
const state = new State();

/**
 * Inflates the zlib stream at the start of `input` into exactly `expectedSize` bytes. Returns null
 * when `input` ends before the stream does; throws GitError on bad data or any other size.
 */
export function inflate(input: Uint8Array, expectedSize: number): Inflated | null {
  const s = state;
  s.input = input;
  s.pos = 2;
  s.hold = 0;
  s.bits = 0;
  s.output = new Uint8Array(expectedSize);
  s.at = 0;
  try {
    if (input.length < 2) return null;
    const cmf = input[0]!;
    const flg = input[1]!;
    if ((cmf & 15) !== 8 || cmf >>> 4 > 7) throw corrupt("not a deflate stream");
    if (((cmf << 8) | flg) % 31 !== 0) throw corrupt("incorrect header check");
    if (flg & 0x20) throw corrupt("needs a preset dictionary");
    let last = 0;
    while (!last) {
      last = s.readBits(1);
      const type = s.readBits(2);
      if (type === 0) copyStored(s);
      else if (type === 1) inflateCodes(s, FIXED_LIT, FIXED_DIST);
      else if (type === 2) {
        readDynamicCodes(s);
        inflateCodes(s, DYNAMIC_LIT, DYNAMIC_DIST);
      } else throw corrupt("invalid block type");
    }
    s.alignToByte();
    const end = s.pos;
    if (end + 4 > input.length) return null;
    const stored = ((input[end]! << 24) | (input[end + 1]! << 16) | (input[end + 2]! << 8) | input[end + 3]!) >>> 0;
    const data = s.output;
    if (stored !== adler32(data, s.at)) throw corrupt("incorrect data check");
    if (s.at !== expectedSize) throw sizeMismatch(`compressed data inflated to ${s.at} bytes, header says ${expectedSize}`);
    return { data, consumed: end + 4 };
  } catch (e) {
    if (e === NEED_INPUT) return null;
    throw e;
  } finally {
    // Nothing of this call stays reachable from the module.
    s.input = s.output = EMPTY;
  }
}

function copyStored(s: State): void {
  s.alignToByte();
  const { input, pos } = s;
  if (pos + 4 > input.length) throw NEED_INPUT;
  const len = input[pos]! | (input[pos + 1]! << 8);
  const nlen = input[pos + 2]! | (input[pos + 3]! << 8);
  if (len !== (~nlen & 0xffff)) throw corrupt("stored block length does not match its complement");
  if (len > s.output.length - s.at) throw tooBig(s.output.length);
  if (pos + 4 + len > input.length) throw NEED_INPUT;
  s.output.set(input.subarray(pos + 4, pos + 4 + len), s.at);
  s.at += len;
  s.pos = pos + 4 + len;
}

/**
 * Reads a dynamic block's code lengths and builds its two codes. Only nonzero lengths are written,
 * counted and listed in `present`, as they are read; the bit reader lives in locals, as in
 * `inflateCodes`.
 */
function readDynamicCodes(s: State): void {
  const nlen = s.readBits(5) + 257;
  const ndist = s.readBits(5) + 1;
  const ncode = s.readBits(4) + 4;
  if (nlen > 286 || ndist > 30) throw corrupt("too many length or distance codes");
  const clCount = CODE_LENGTHS.count;
  for (let i = 0; i < 19; i++) codeLengthLengths[i] = 0;
  for (let i = 0; i < 16; i++) clCount[i] = 0;
  for (let i = 0; i < ncode; i++) clCount[(codeLengthLengths[CODE_LENGTH_ORDER[i]!] = s.readBits(3))]!++;
  let nonzero = 0;
  for (let i = 0; i < 19; i++) if (codeLengthLengths[i]) present[nonzero++] = i;
  buildHuffman(CODE_LENGTHS, codeLengthLengths, 0, present, 0, nonzero, false);

  const litCount = DYNAMIC_LIT.count;
  const distCount = DYNAMIC_DIST.count;
  for (let i = 0; i < 16; i++) litCount[i] = distCount[i] = 0;
  const { input } = s;
  const end = input.length;
  const table = CODE_LENGTHS.table;
  const mask = (1 << CODE_LENGTHS.bits) - 1;
  let { hold, bits, pos } = s;
  const total = nlen + ndist;
  let litPresent = 0;
  let prev = 0;
  nonzero = 0;
  lengths[256] = 0; // checked below, and written only if nonzero
  for (let i = 0; i < total; ) {
    // A code-length code takes at most 7 bits, and its repeat count at most 7 more.
    if (bits < 14) {
      while (bits <= 23 && pos < end) {
        hold |= input[pos++]! << bits;
        bits += 8;
      }
    }
    let e = table[hold & mask]!;
    if (e === 0 || (e & 15) > bits) e = decodeSlow(CODE_LENGTHS, hold, bits);
    hold >>= e & 15;
    bits -= e & 15;
    const sym = e >> 9;
    let len = sym;
    let repeat = 1;
    if (sym >= 16) {
      const extra = sym === 16 ? 2 : sym === 17 ? 3 : 7;
      if (bits < extra) throw NEED_INPUT;
      if (sym === 16) {
        if (i === 0) throw corrupt("repeats a code length before the first");
        len = prev;
        repeat = 3 + (hold & 3);
      } else {
        len = 0;
        repeat = sym === 17 ? 3 + (hold & 7) : 11 + (hold & 127);
      }
      hold >>= extra;
      bits -= extra;
      if (i + repeat > total) throw corrupt("code lengths overrun their count");
    }
    prev = len;
    const stop = i + repeat;
    if (len === 0) i = stop;
    for (; i < stop; i++) {
      lengths[i] = len;
      present[nonzero++] = i;
      if (i < nlen) {
        litCount[len]!++;
        litPresent++;
      } else distCount[len]!++;
    }
  }
  s.hold = hold;
  s.bits = bits;
  s.pos = pos;
  if (lengths[256] === 0) throw corrupt("no end-of-block code");
  buildHuffman(DYNAMIC_LIT, lengths, 0, present, 0, litPresent, true);
  buildHuffman(DYNAMIC_DIST, lengths, nlen, present, litPresent, nonzero, true);
}

/**
 * Decodes one Huffman block. The hot loop: bit reader and output position live in locals and go
 * back to `s` at the end of the block (an error or missing input ends the whole call anyway).
 * Refills take two bytes when fewer than 15 bits are held, so a code always fits unless the input
 * has ended; extra bits past that refill once more.
 */
function inflateCodes(s: State, lit: Huffman, dist: Huffman): void {
  const { input, output } = s;
  const end = input.length;
  const size = output.length;
  const litTable = lit.table;
  const litMask = (1 << lit.bits) - 1;
  const distTable = dist.table;
  const distMask = (1 << dist.bits) - 1;
  let { hold, bits, pos, at } = s;
  for (;;) {
    if (bits < 15) {
      if (pos + 1 < end) {
        hold |= (input[pos]! | (input[pos + 1]! << 8)) << bits;
        pos += 2;
        bits += 16;
      } else if (pos < end) {
        hold |= input[pos++]! << bits;
        bits += 8;
      }
    }
    let e = litTable[hold & litMask]!;
    if (e === 0 || (e & 15) > bits) e = decodeSlow(lit, hold, bits);
    hold >>= e & 15;
    bits -= e & 15;
    let op = (e >> 4) & 31;
    if (op === LITERAL) {
      if (at === size) throw tooBig(size);
      output[at++] = e >> 9;
      continue;
    }
    if (op >= 16) {
      if (op === END_OF_BLOCK) break;
      throw corrupt("invalid literal/length code");
    }
    if (bits < op) {
      while (bits <= 23 && pos < end) {
        hold |= input[pos++]! << bits;
        bits += 8;
      }
      if (bits < op) throw NEED_INPUT;
    }
    const length = (e >> 9) + (hold & ((1 << op) - 1));
    hold >>= op;
    bits -= op;

    if (bits < 15) {
      if (pos + 1 < end) {
        hold |= (input[pos]! | (input[pos + 1]! << 8)) << bits;
        pos += 2;
        bits += 16;
      } else if (pos < end) {
        hold |= input[pos++]! << bits;
        bits += 8;
      }
    }
    e = distTable[hold & distMask]!;
    if (e === 0 || (e & 15) > bits) e = decodeSlow(dist, hold, bits);
    hold >>= e & 15;
    bits -= e & 15;
    op = (e >> 4) & 31;
    if (op >= 16) throw corrupt("invalid distance code");
    if (bits < op) {
      while (bits <= 23 && pos < end) {
        hold |= input[pos++]! << bits;
        bits += 8;
      }
      if (bits < op) throw NEED_INPUT;
    }
    const distance = (e >> 9) + (hold & ((1 << op) - 1));
    hold >>= op;
    bits -= op;

    if (distance > at) throw corrupt("distance too far back");
    if (length > size - at) throw tooBig(size);
    let from = at - distance;
    if (distance >= length && length > 32) {
      output.copyWithin(at, from, from + length);
      at += length;
    } else {
      // Overlapping copies repeat what they just wrote, which is how deflate encodes runs.
      const stop = at + length;
      while (at < stop) output[at++] = output[from++]!;
    }
  }
  s.hold = hold;
  s.bits = bits;
  s.pos = pos;
  s.at = at;
}

/** RFC 1950's checksum of `data[0, n)`. */
function adler32(data: Uint8Array, n: number): number {
  let a = 1;
  let b = 0;
  for (let i = 0; i < n; ) {
    // 3,800 bytes keep b under 2^31 between reductions, so V8 stays in small integers.
    const stop = Math.min(i + 3800, n);
    for (; i + 8 <= stop; i += 8) {
      a += data[i]!;
      b += a;
      a += data[i + 1]!;
      b += a;
      a += data[i + 2]!;
      b += a;
      a += data[i + 3]!;
      b += a;
      a += data[i + 4]!;
      b += a;
      a += data[i + 5]!;
      b += a;
      a += data[i + 6]!;
      b += a;
      a += data[i + 7]!;
      b += a;
    }
    for (; i < stop; i++) {
      a += data[i]!;
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

function corrupt(why: string): GitError<ZlibErrorCode> {
  return new GitError("zlib-corrupt", `bad compressed data: ${why}`);
}

function tooBig(size: number): GitError<ZlibErrorCode> {
  return sizeMismatch(`compressed data inflates past its declared ${size} bytes`);
}

function sizeMismatch(message: string): GitError<ZlibErrorCode> {
  return new GitError("zlib-size-mismatch", message);
}
