/**
 * The header in front of every pack entry: type and inflated size as a varint, then for deltas the
 * base (a negative offset for OFS_DELTA, a 20-byte id for REF_DELTA).
 * Invariants:
 * - An OFS_DELTA base lies strictly before its delta: `baseOffset < offset`.
 * Spec: gitformat-pack(5), "Pack file entry" and "Deltified representation".
 */
import { GitError } from "../errors.ts";
import { OID_BYTES, hexToBytes, oidFromBytes, type Oid } from "../oid.ts";
import type { PackEntryType } from "../object/types.ts";

export type EntryHeaderErrorCode = "pack-entry-malformed";

export interface EntryHeader {
  entryType: PackEntryType;
  /** Inflated size of the entry's data (for a delta: of the delta itself). */
  size: number;
  headerLen: number;
  baseOffset?: number;
  baseOid?: Oid;
}

/** Decodes the header at `buf[0]`, for an entry at pack offset `offset`; null if `buf` is too short. */
export function decodeEntryHeader(buf: Uint8Array, offset: number): EntryHeader | null {
  let i = 0;
  if (buf.length < 1) return null;
  let b = buf[i++]!;
  const entryType = (b >> 4) & 7;
  if (entryType === 0 || entryType === 5)
    throw new GitError("pack-entry-malformed", `bad pack entry type ${entryType} at offset ${offset}`);
  let size = b & 15;
  let scale = 16;
  while (b & 0x80) {
    if (i >= buf.length) return null;
    if (i > 9) throw new GitError("pack-entry-malformed", `oversized entry length at offset ${offset}`);
    b = buf[i++]!;
    size += (b & 0x7f) * scale;
    scale *= 128;
  }
  const h: EntryHeader = { entryType: entryType as PackEntryType, size, headerLen: i };
  if (entryType === 6) {
    if (i >= buf.length) return null;
    b = buf[i++]!;
    let rel = b & 0x7f;
    while (b & 0x80) {
      if (i >= buf.length) return null;
      if (rel > 2 ** 45) throw new GitError("pack-entry-malformed", `oversized delta offset at offset ${offset}`);
      b = buf[i++]!;
      rel = (rel + 1) * 128 + (b & 0x7f);
    }
    if (rel === 0 || rel > offset)
      throw new GitError("pack-entry-malformed", `delta at offset ${offset} points outside the pack (-${rel})`);
    h.baseOffset = offset - rel;
  } else if (entryType === 7) {
    if (i + OID_BYTES > buf.length) return null;
    h.baseOid = oidFromBytes(buf, i);
    i += OID_BYTES;
  }
  h.headerLen = i;
  return h;
}

/** Encodes an entry header. `base` is the relative offset (OFS_DELTA) or the base id (REF_DELTA). */
export function encodeEntryHeader(entryType: PackEntryType, size: number, base?: { rel: number } | { oid: Oid }): Uint8Array {
  const out: number[] = [];
  let b = (entryType << 4) | (size & 15);
  let rest = Math.floor(size / 16);
  while (rest > 0) {
    out.push(b | 0x80);
    b = rest & 0x7f;
    rest = Math.floor(rest / 128);
  }
  out.push(b);
  if (entryType === 6) {
    if (!base || !("rel" in base)) throw new TypeError("OFS_DELTA needs a relative offset");
    let n = base.rel;
    const bytes = [n & 0x7f];
    n = Math.floor(n / 128);
    while (n > 0) {
      n -= 1;
      bytes.unshift(0x80 | (n & 0x7f));
      n = Math.floor(n / 128);
    }
    out.push(...bytes);
  } else if (entryType === 7) {
    if (!base || !("oid" in base)) throw new TypeError("REF_DELTA needs a base id");
    out.push(...hexToBytes(base.oid));
  }
  return Uint8Array.from(out);
}
