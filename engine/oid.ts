/**
 * Object ids: SHA-1 only (object-format=sha1), as 40 lowercase hex at every boundary.
 * Invariants:
 * - A value typed `Oid` has passed `isOid`: 40 chars of [0-9a-f].
 */
import { GitError } from "./errors.ts";

export type Oid = string & { readonly __brand: "Oid" };

export const OID_HEX_LENGTH = 40;
export const OID_BYTES = 20;
export const ZERO_OID = "0".repeat(OID_HEX_LENGTH) as Oid;

const OID_RE = /^[0-9a-f]{40}$/;

export function isOid(s: string): s is Oid {
  return OID_RE.test(s);
}

export function asOid(s: string): Oid {
  if (!isOid(s)) throw new GitError("bad-oid", `not an object id: ${JSON.stringify(s.slice(0, 64))}`);
  return s;
}

/** Char codes of each byte's two hex digits, high then low. */
const HEX_HI = Uint16Array.from({ length: 256 }, (_, i) => "0123456789abcdef".charCodeAt(i >> 4));
const HEX_LO = Uint16Array.from({ length: 256 }, (_, i) => "0123456789abcdef".charCodeAt(i & 15));

export function bytesToHex(b: Uint8Array): string {
  if (b.length === OID_BYTES) return oidFromBytes(b);
  let s = "";
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(HEX_HI[b[i]!]!, HEX_LO[b[i]!]!);
  return s;
}

/**
 * The id whose 20 bytes start at `offset`. One `fromCharCode` call builds a flat string: appending
 * per byte would build a rope that every Map lookup keyed by the id must flatten first (a push
 * indexes hundreds of thousands of tree entries by id, so this is ~5× faster there).
 */
export function oidFromBytes(b: Uint8Array, offset = 0): Oid {
  const h = (k: number) => HEX_HI[b[offset + k]!]!;
  const l = (k: number) => HEX_LO[b[offset + k]!]!;
  if (offset + OID_BYTES > b.length) throw new GitError("bad-oid", `an object id needs ${OID_BYTES} bytes at offset ${offset}`);
  return String.fromCharCode(
    h(0), l(0), h(1), l(1), h(2), l(2), h(3), l(3), h(4), l(4), h(5), l(5), h(6), l(6), h(7), l(7), h(8), l(8), h(9), l(9),
    h(10), l(10), h(11), l(11), h(12), l(12), h(13), l(13), h(14), l(14), h(15), l(15), h(16), l(16), h(17), l(17), h(18), l(18), h(19), l(19),
  ) as Oid;
}

export function hexToBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}
