/**
 * Walks a pack stream entry by entry and never holds the whole pack: each entry is inflated to find
 * where it ends, and handed on with its inflated data.
 * Invariants:
 * - Offsets strictly increase; entry n+1 starts where entry n's zlib stream ended.
 * - The trailer is checked after the last entry: a caller that stops early has verified nothing.
 * - Every byte consumed (header, entries, trailer) reaches `onBytes` once, in order, before the
 *   entry it belongs to is yielded, so a tee to storage sees exactly the pack.
 * - An entry past `streamAbove` inflated bytes, or whose compressed bytes outrun any honest deflate
 *   of its size, is inflated as its bytes arrive, never held compressed; a whole blob among them is
 *   hashed on the way and not kept at all.
 * Spec: gitformat-pack(5), "pack-*.pack files have the following format".
 */
import { createHash } from "node:crypto";
import type { ByteReader } from "../byte-reader.ts";
import { GitError } from "../errors.ts";
import { ObjectHasher } from "../hash.ts";
import { bytesToHex, type Oid } from "../oid.ts";
import { PACK_TYPE } from "../object/types.ts";
import { StreamInflater, inflateEntry, type Inflated } from "../zlib.ts";
import { decodeEntryHeader, type EntryHeader } from "./entry-header.ts";

export type PackScanErrorCode = "pack-malformed" | "pack-truncated" | "pack-trailer-mismatch" | "pack-too-many-objects" | "object-too-large";

export type ScannedEntry = EntryHeader & {
  kind: "entry";
  offset: number;
  /** Header plus compressed data. */
  packedLen: number;
} & (
    | {
        /** The inflated entry data (for a delta: the delta instructions). */
        data: Uint8Array;
        oid?: undefined;
      }
    | {
        data?: undefined;
        /** A streamed blob's id, hashed as it inflated; its content was not kept. */
        oid: Oid;
      }
  );

export interface ScannedTrailer {
  kind: "trailer";
  objectCount: number;
  /** Hex SHA-1 of the pack, as its trailer states and as verified. */
  checksum: string;
  /** Bytes of the whole pack including the trailer. */
  bytes: number;
}

export interface ScanOptions {
  maxObjects?: number;
  /** Largest inflated size of any one entry. */
  maxObjectSize?: number;
  /** Largest inflated size of all entries together (a pack of many near-limit objects). */
  maxInflatedBytes?: number;
  /** Receives every consumed byte in order (a view: copy it to keep it). */
  onBytes?: (bytes: Uint8Array) => void | Promise<void>;
  /** Entries inflating past this are inflated as their bytes stream in (default 1 MiB). */
  streamAbove?: number;
}

const PACK_SIGNATURE = [0x50, 0x41, 0x43, 0x4b]; // "PACK"
const TRAILER_BYTES = 20;
const STREAM_ABOVE = 1 << 20;

export async function* scanPack(r: ByteReader, opts: ScanOptions = {}): AsyncGenerator<ScannedEntry | ScannedTrailer> {
  const hash = createHash("sha1");
  let pos = 0;
  const take = async (n: number) => {
    const bytes = r.peek(n);
    hash.update(bytes);
    if (opts.onBytes) await opts.onBytes(bytes);
    r.consume(n);
    pos += n;
  };

  if (!(await r.fill(12))) throw new GitError("pack-truncated", "pack ends inside its header");
  const head = r.peek(12);
  if (!PACK_SIGNATURE.every((b, i) => head[i] === b)) throw new GitError("pack-malformed", "not a pack: bad signature");
  const view = new DataView(head.buffer, head.byteOffset, 12);
  const version = view.getUint32(4);
  if (version !== 2 && version !== 3) throw new GitError("pack-malformed", `unsupported pack version ${version}`);
  const count = view.getUint32(8);
  if (opts.maxObjects !== undefined && count > opts.maxObjects)
    throw new GitError("pack-too-many-objects", `pack has ${count} objects; the limit is ${opts.maxObjects}`, { data: { count, limit: opts.maxObjects } });
  await take(12);

  const streamAbove = opts.streamAbove ?? STREAM_ABOVE;
  let inflatedTotal = 0;
  for (let i = 0; i < count; i++) {
    const offset = pos;
    // An entry takes at least one byte and the trailer 20 more: a count that lies high must end
    // here, not parse the trailer as an entry.
    if (!(await r.fill(1 + TRAILER_BYTES))) throw new GitError("pack-truncated", `pack ends before entry ${i} of ${count}`);
    let h: EntryHeader | null;
    while (!(h = decodeEntryHeader(r.peek(), offset)))
      if (!(await r.more())) throw new GitError("pack-truncated", `pack ends inside entry ${i} of ${count}`);
    if (opts.maxObjectSize !== undefined && h.size > opts.maxObjectSize)
      throw new GitError("object-too-large", `object at offset ${offset} is ${h.size} bytes; the limit is ${opts.maxObjectSize}`, {
        data: { size: h.size, limit: opts.maxObjectSize },
      });
    inflatedTotal += h.size;
    if (opts.maxInflatedBytes !== undefined && inflatedTotal > opts.maxInflatedBytes)
      throw new GitError("pack-too-large", `pack inflates past the limit of ${opts.maxInflatedBytes} bytes`, { data: { limit: opts.maxInflatedBytes } });
    await take(h.headerLen);
    const inflated = h.size > streamAbove ? null : await inflateFromReader(r, h.size, i, count);
    if (inflated) {
      await take(inflated.consumed);
      yield { kind: "entry", ...h, offset, packedLen: pos - offset, data: inflated.data };
    } else {
      const content = await streamEntry(r, h, take, i, count);
      yield { kind: "entry", ...h, offset, packedLen: pos - offset, ...content };
    }
  }

  if (!(await r.fill(TRAILER_BYTES))) throw new GitError("pack-truncated", "pack ends before its trailer");
  const expected = hash.digest("hex");
  const trailer = bytesToHex(r.peek(TRAILER_BYTES));
  if (trailer !== expected) throw new GitError("pack-trailer-mismatch", `pack checksum mismatch: trailer ${trailer}, content ${expected}`);
  if (opts.onBytes) await opts.onBytes(r.peek(TRAILER_BYTES));
  r.consume(TRAILER_BYTES);
  pos += TRAILER_BYTES;
  if (await r.fill(1)) throw new GitError("pack-malformed", "bytes after the pack trailer");
  yield { kind: "trailer", objectCount: count, checksum: trailer, bytes: pos };
}

/**
 * Inflates the zlib stream at the reader's position without consuming it, in one attempt: first the
 * reader buffers as many bytes as an honest stream of `size` bytes can occupy (zlib copies its whole
 * input, and a failed attempt costs a thrown error). A stream longer than that gives null and is
 * streamed instead.
 */
async function inflateFromReader(r: ByteReader, size: number, i: number, count: number): Promise<Inflated | null> {
  const bound = deflatedBound(size);
  const whole = await r.fill(bound); // false near the end of the pack: the trailer may follow sooner
  const res = inflateEntry(r.peek(bound), size, false);
  if (res) return res;
  if (!whole) throw new GitError("pack-truncated", `pack ends inside entry ${i} of ${count}`);
  return null;
}

/**
 * The most compressed bytes `size` bytes take in a zlib stream from any sane deflater: fixed Huffman
 * codes spend at most 9 bits on a byte, stored blocks 5 bytes per 64 KiB; plus header and checksum.
 */
function deflatedBound(size: number): number {
  return size + (size >> 3) + 64;
}

/**
 * Inflates the entry at the reader's position as its bytes arrive, consuming (and so teeing) them as
 * zlib takes them. A whole blob is only hashed; anything else is kept, since its content is decoded
 * or is a delta to apply.
 */
async function streamEntry(
  r: ByteReader,
  h: EntryHeader,
  take: (n: number) => Promise<void>,
  i: number,
  count: number,
): Promise<{ data: Uint8Array } | { oid: Oid }> {
  const hasher = h.entryType === PACK_TYPE.blob ? new ObjectHasher("blob", h.size) : undefined;
  const data = hasher ? undefined : new Uint8Array(h.size);
  let at = 0;
  const inflater = new StreamInflater(h.size, (chunk) => {
    if (hasher) hasher.update(chunk);
    else data!.set(chunk, at);
    at += chunk.length;
  });
  try {
    while (!inflater.done) {
      if (r.available === 0 && !(await r.more())) throw new GitError("pack-truncated", `pack ends inside entry ${i} of ${count}`);
      await take(await inflater.write(r.peek()));
    }
  } finally {
    inflater.close();
  }
  return hasher ? { oid: hasher.digest() } : { data: data! };
}
