/**
 * git's delta format: two size varints, then copy-from-base and insert-literal instructions.
 * Invariants:
 * - `applyDelta` checks every bound before it touches memory: the base's size, each copy's range in the
 *   base, each insert's range in the delta, and the result's declared size, exactly.
 * - `encodeDelta` runs in time linear in base + target (bounded candidate chains, matches skip ahead)
 *   and emits copies of at most 0x10000 bytes and inserts of at most 127, as git itself does.
 * Spec: gitformat-pack(5), "Deltified representation".
 */
import { GitError } from "../errors.ts";

export type DeltaErrorCode = "delta-base-size-mismatch" | "delta-out-of-bounds" | "delta-malformed" | "object-too-large";

export interface DeltaSizes {
  baseSize: number;
  resultSize: number;
  /** Bytes of the two varints; instructions start here. */
  headerLength: number;
}

export function readDeltaSizes(delta: Uint8Array): DeltaSizes {
  const base = readVarint(delta, 0);
  const result = readVarint(delta, base.end);
  return { baseSize: base.value, resultSize: result.value, headerLength: result.end };
}

/** Little-endian base-128, as in the delta header (not the pack entry header's variant). */
function readVarint(delta: Uint8Array, at: number): { value: number; end: number } {
  let value = 0;
  let scale = 1;
  for (let i = at; i < delta.length; i++) {
    const b = delta[i]!;
    value += (b & 0x7f) * scale;
    if (!(b & 0x80)) return { value, end: i + 1 };
    scale *= 128;
    if (scale > Number.MAX_SAFE_INTEGER) break;
  }
  throw deltaError("delta-malformed", "delta header size is truncated or too large", { at });
}

/** A copy op with three size bytes and no offset bytes: 4 delta bytes yield up to 0xffffff. */
const MAX_YIELD_PER_BYTE = 0x400000;

export function applyDelta(base: Uint8Array, delta: Uint8Array, maxResultSize?: number): Uint8Array {
  const { baseSize, resultSize, headerLength } = readDeltaSizes(delta);
  if (baseSize !== base.length) {
    throw deltaError("delta-base-size-mismatch", `delta expects a ${baseSize}-byte base, got ${base.length}`, {
      expected: baseSize,
      actual: base.length,
    });
  }
  if (maxResultSize !== undefined && resultSize > maxResultSize) {
    throw deltaError("object-too-large", `delta result of ${resultSize} bytes exceeds ${maxResultSize}`, {
      size: resultSize,
      limit: maxResultSize,
    });
  }
  // Checked before allocating: no instruction byte yields more than a copy with three size bytes does.
  if (resultSize > (delta.length - headerLength) * MAX_YIELD_PER_BYTE) {
    throw outOfBounds(`delta declares ${resultSize} bytes, more than its instructions can produce`, headerLength);
  }
  const out = new Uint8Array(resultSize);
  let o = 0;
  let i = headerLength;
  const end = delta.length;
  while (i < end) {
    const op = delta[i++]!;
    if (op & 0x80) {
      // Bits 0-3 say which offset bytes follow, bits 4-6 which size bytes; absent bytes are zero. The
      // bounds check is done once, for the most bytes the op can take.
      if (i + BITS_SET[op & 0x7f]! > end) throw outOfBounds("copy instruction cut off by the end of the delta", end);
      let offset = 0;
      let size = 0;
      if (op & 0x01) offset = delta[i++]!;
      if (op & 0x02) offset |= delta[i++]! << 8;
      if (op & 0x04) offset |= delta[i++]! << 16;
      if (op & 0x08) offset += delta[i++]! * 0x1000000; // added, not or'ed: bit 31 would turn the int negative
      if (op & 0x10) size = delta[i++]!;
      if (op & 0x20) size |= delta[i++]! << 8;
      if (op & 0x40) size |= delta[i++]! << 16;
      if (size === 0) size = 0x10000;
      if (offset + size > base.length) throw outOfBounds(`copy of ${size} bytes at ${offset} leaves the ${base.length}-byte base`, i);
      if (o + size > resultSize) throw outOfBounds(`copy overruns the declared result size ${resultSize}`, i);
      copyBytes(base, offset, size, out, o);
      o += size;
    } else if (op !== 0) {
      if (i + op > end) throw outOfBounds(`insert of ${op} bytes runs past the end of the delta`, i);
      if (o + op > resultSize) throw outOfBounds(`insert overruns the declared result size ${resultSize}`, i);
      copyBytes(delta, i, op, out, o);
      o += op;
      i += op;
    } else {
      throw deltaError("delta-malformed", "reserved delta opcode 0", { at: i - 1 });
    }
  }
  if (o !== resultSize) throw outOfBounds(`delta produced ${o} bytes, declared ${resultSize}`, i);
  return out;
}

/** How many argument bytes a copy op's low seven bits announce. */
const BITS_SET = Uint8Array.from({ length: 128 }, (_, x) => x.toString(2).replaceAll("0", "").length);

/** Below this many bytes a plain loop beats `set`, which first needs a `subarray` view object. */
const SMALL_COPY = 32;

function copyBytes(src: Uint8Array, from: number, n: number, dst: Uint8Array, to: number): void {
  if (n < SMALL_COPY) for (let k = 0; k < n; k++) dst[to + k] = src[from + k]!;
  else dst.set(src.subarray(from, from + n), to);
}

const WINDOW = 16;
const MAX_COPY = 0x10000;
const MAX_INSERT = 127;
/** Candidates tried per target position: bounds the work on repetitive input. */
const MAX_CHAIN = 16;
const HASH_MULT = 0x01000193;
/** HASH_MULT ** (WINDOW - 1) mod 2^32: the weight of the byte that leaves the rolling window. */
const OUT_FACTOR = powMod(HASH_MULT, WINDOW - 1);

/**
 * A delta that rebuilds `target` from `base`. The base is indexed in aligned WINDOW-byte blocks; the
 * target is scanned with a rolling hash, and each hit is verified and extended both ways.
 */
export function encodeDelta(base: Uint8Array, target: Uint8Array): Uint8Array {
  const out = new DeltaWriter(base.length, target.length);
  const index = indexBlocks(base);
  let pending = 0; // target[pending, j) still has to be emitted as inserts
  let j = 0;
  let h = target.length >= WINDOW ? windowHash(target, 0) : 0;
  while (j + WINDOW <= target.length) {
    let bestLen = 0;
    let bestBase = 0;
    let bestBack = 0;
    if (index) {
      let tries = MAX_CHAIN;
      for (let c = index.head[bucket(h, index.shift)]!; c !== -1 && tries-- > 0; c = index.next[c]!) {
        const b = c * WINDOW;
        let len = 0;
        const maxLen = Math.min(base.length - b, target.length - j);
        while (len < maxLen && base[b + len] === target[j + len]) len++;
        if (len < WINDOW) continue; // a hash collision, not a match
        let back = 0;
        while (back < j - pending && back < b && base[b - back - 1] === target[j - back - 1]) back++;
        if (len + back > bestLen + bestBack) {
          bestLen = len;
          bestBase = b;
          bestBack = back;
        }
      }
    }
    if (bestLen === 0) {
      if (j + WINDOW < target.length) h = (Math.imul(h - Math.imul(target[j]!, OUT_FACTOR), HASH_MULT) + target[j + WINDOW]!) | 0;
      j++;
      continue;
    }
    out.insert(target, pending, j - bestBack);
    out.copy(bestBase - bestBack, bestLen + bestBack);
    j += bestLen;
    pending = j;
    if (j + WINDOW <= target.length) h = windowHash(target, j);
  }
  out.insert(target, pending, target.length);
  return out.finish();
}

interface BlockIndex {
  /** Per bucket, the first block whose hash lands there, or -1. */
  head: Int32Array;
  /** Per block, the next later block in the same bucket, or -1. */
  next: Int32Array;
  shift: number;
}

function indexBlocks(base: Uint8Array): BlockIndex | undefined {
  const blocks = Math.floor(base.length / WINDOW);
  if (blocks === 0) return undefined;
  const bits = Math.max(4, Math.ceil(Math.log2(blocks)));
  const head = new Int32Array(1 << bits).fill(-1);
  const next = new Int32Array(blocks);
  // Inserted last to first, so each chain starts at the earliest block: on repetitive input that is
  // the candidate with the most room to extend.
  for (let k = blocks - 1; k >= 0; k--) {
    const slot = bucket(windowHash(base, k * WINDOW), 32 - bits);
    next[k] = head[slot]!;
    head[slot] = k;
  }
  return { head, next, shift: 32 - bits };
}

/** Polynomial hash of data[at, at+WINDOW), the same sum the rolling update in `encodeDelta` maintains. */
function windowHash(data: Uint8Array, at: number): number {
  let h = 0;
  for (let k = 0; k < WINDOW; k++) h = (Math.imul(h, HASH_MULT) + data[at + k]!) | 0;
  return h;
}

function bucket(h: number, shift: number): number {
  return Math.imul(h, 0x9e3779b1) >>> shift; // Fibonacci hashing: the top bits mix every input byte
}

function powMod(x: number, n: number): number {
  let r = 1;
  for (let k = 0; k < n; k++) r = Math.imul(r, x);
  return r;
}

/** Collects delta instructions into a growing buffer. */
class DeltaWriter {
  #buf = new Uint8Array(256);
  #len = 0;

  constructor(baseSize: number, resultSize: number) {
    this.#varint(baseSize);
    this.#varint(resultSize);
  }

  insert(src: Uint8Array, from: number, to: number): void {
    for (let at = from; at < to; at += MAX_INSERT) {
      const n = Math.min(MAX_INSERT, to - at);
      this.#reserve(n + 1);
      this.#buf[this.#len++] = n;
      this.#buf.set(src.subarray(at, at + n), this.#len);
      this.#len += n;
    }
  }

  copy(offset: number, size: number): void {
    for (let done = 0; done < size; done += MAX_COPY) {
      const n = Math.min(MAX_COPY, size - done);
      const at = offset + done;
      this.#reserve(8);
      const opAt = this.#len++;
      let op = 0x80;
      for (let k = 0; k < 4; k++) {
        const byte = Math.floor(at / 2 ** (8 * k)) & 0xff;
        if (byte) {
          op |= 1 << k;
          this.#buf[this.#len++] = byte;
        }
      }
      // A size of exactly 0x10000 is written as no size bytes at all, which means 0x10000.
      for (let k = 0; k < 2 && n !== MAX_COPY; k++) {
        const byte = (n >> (8 * k)) & 0xff;
        if (byte) {
          op |= 0x10 << k;
          this.#buf[this.#len++] = byte;
        }
      }
      this.#buf[opAt] = op;
    }
  }

  finish(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }

  #varint(n: number): void {
    this.#reserve(10);
    do {
      const low = n % 128;
      n = Math.floor(n / 128);
      this.#buf[this.#len++] = low | (n > 0 ? 0x80 : 0);
    } while (n > 0);
  }

  #reserve(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    const next = new Uint8Array(Math.max(this.#len + n, this.#buf.length * 2));
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
  }
}

function outOfBounds(message: string, at: number): GitError<DeltaErrorCode> {
  return deltaError("delta-out-of-bounds", message, { at });
}

function deltaError(code: DeltaErrorCode, message: string, data: Record<string, unknown>): GitError<DeltaErrorCode> {
  return new GitError(code, message, { data });
}
