/**
 * Base64 for bytes inside JSON, the same in Workers, Node and browsers (no Buffer, no toBase64).
 * Invariants:
 * - `fromBase64(toBase64(b))` equals `b`; input that is not standard padded base64 throws.
 * Spec: RFC 4648 section 4.
 */
const CHUNK = 0x8000;

export function toBase64(bytes: Uint8Array): string {
  let bin = "";
  for (let i = 0; i < bytes.length; i += CHUNK) bin += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  return btoa(bin);
}

export function fromBase64(text: string): Uint8Array {
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
