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
 * indexes hundreds of thousands of tree entries by id, so this is ~5× faster there). The digits come
 * from top-level functions, not closures: the Worker bundle names every closure it creates (keepNames).
 */
export function oidFromBytes(b: Uint8Array, offset = 0): Oid {
  if (offset + OID_BYTES > b.length) throw new GitError("bad-oid", `an object id needs ${OID_BYTES} bytes at offset ${offset}`);
  const o = offset;
  return String.fromCharCode(
    hi(b, o), lo(b, o), hi(b, o + 1), lo(b, o + 1), hi(b, o + 2), lo(b, o + 2), hi(b, o + 3), lo(b, o + 3), hi(b, o + 4), lo(b, o + 4),
    hi(b, o + 5), lo(b, o + 5), hi(b, o + 6), lo(b, o + 6), hi(b, o + 7), lo(b, o + 7), hi(b, o + 8), lo(b, o + 8), hi(b, o + 9), lo(b, o + 9),
    hi(b, o + 10), lo(b, o + 10), hi(b, o + 11), lo(b, o + 11), hi(b, o + 12), lo(b, o + 12), hi(b, o + 13), lo(b, o + 13), hi(b, o + 14), lo(b, o + 14),
    hi(b, o + 15), lo(b, o + 15), hi(b, o + 16), lo(b, o + 16), hi(b, o + 17), lo(b, o + 17), hi(b, o + 18), lo(b, o + 18), hi(b, o + 19), lo(b, o + 19),
  ) as Oid;
}

function hi(b: Uint8Array, at: number): number {
  return HEX_HI[b[at]!]!;
}

function lo(b: Uint8Array, at: number): number {
  return HEX_LO[b[at]!]!;
}

export function hexToBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}
