/**
 * Values as they appear inside request lines: object ids and decimal numbers.
 * Invariants:
 * - An id comes back lowercase: the spec has receivers treat ids case-insensitively, and `Oid` is lowercase.
 * - A number is plain decimal digits that fit exactly in a double; no sign, no spaces.
 * Spec: gitprotocol-pack(5), "Reference Discovery" ("MUST treat obj-id as case-insensitive").
 */
import { isOid, type Oid } from "../engine/index.ts";

export function wireOid(s: string): Oid | null {
  const lower = s.toLowerCase();
  return isOid(lower) ? lower : null;
}

export function wireDecimal(s: string): number | null {
  return /^\d{1,15}$/.test(s) ? Number(s) : null;
}
