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

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

export function bytesToHex(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += HEX[b[i]!];
  return s;
}

export function oidFromBytes(b: Uint8Array, offset = 0): Oid {
  return bytesToHex(b.subarray(offset, offset + OID_BYTES)) as Oid;
}

export function hexToBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}
