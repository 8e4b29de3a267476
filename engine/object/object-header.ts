/**
 * The byte conventions every object codec shares: the `<type> <size>\0` header that is hashed with an
 * object, the `key value` header lines of commits and tags, and a lossless bytes<->string mapping.
 * Invariants:
 * - `textToBytes(bytesToText(b))` equals `b` for every byte string: bytes that are not valid UTF-8 become
 *   lone surrogates U+DC80..U+DCFF (Python's "surrogateescape"), so names and messages round-trip.
 *   To show such a string to people, replace lone surrogates (String.prototype.toWellFormed).
 * - Joining `encodeHeaderLine` over `splitHeaders(t).headers` rebuilds `t`'s header block exactly.
 * Spec: gitformat-loose(5) "Object format"; git-cat-file(1) for commit and tag headers.
 */
import { GitError } from "../errors.ts";
import type { ObjectType } from "./types.ts";

export type ObjectErrorCode = "object-malformed";

const UTF8 = new TextEncoder();
const STRICT_UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

const OBJECT_TYPES: ReadonlySet<string> = new Set<ObjectType>(["commit", "tree", "blob", "tag"]);

export function isObjectType(s: string): s is ObjectType {
  return OBJECT_TYPES.has(s);
}

export function encodeObjectHeader(type: ObjectType, size: number): Uint8Array {
  return UTF8.encode(`${type} ${size}\0`);
}

/** Decodes bytes as UTF-8, mapping each byte of an invalid sequence to U+DC00 + byte. */
export function bytesToText(b: Uint8Array): string {
  try {
    return STRICT_UTF8.decode(b);
  } catch {
    return escapeInvalidUtf8(b); // not an error: git names and messages are bytes, not text
  }
}

/** The inverse of `bytesToText`: a lone U+DC80..U+DCFF becomes the raw byte it stands for. */
export function textToBytes(s: string): Uint8Array {
  if (!/[\udc80-\udcff]/.test(s)) return UTF8.encode(s);
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const cu = s.charCodeAt(i);
    const paired = i > 0 && cu >= 0xdc00 && isHighSurrogate(s.charCodeAt(i - 1));
    if (cu >= 0xdc80 && cu <= 0xdcff && !paired) {
      out.push(cu - 0xdc00);
      continue;
    }
    const cp = s.codePointAt(i)!;
    if (cp > 0xffff) i++;
    for (const byte of UTF8.encode(String.fromCodePoint(cp))) out.push(byte);
  }
  return Uint8Array.from(out);
}

function isHighSurrogate(cu: number): boolean {
  return cu >= 0xd800 && cu <= 0xdbff;
}

function escapeInvalidUtf8(b: Uint8Array): string {
  const units: number[] = [];
  let i = 0;
  while (i < b.length) {
    const n = validSequenceLength(b, i);
    if (n === 0) {
      units.push(0xdc00 + b[i]!);
      i++;
      continue;
    }
    const cp = STRICT_UTF8.decode(b.subarray(i, i + n)).codePointAt(0)!;
    if (cp > 0xffff) units.push(0xd800 + ((cp - 0x10000) >> 10), 0xdc00 + ((cp - 0x10000) & 0x3ff));
    else units.push(cp);
    i += n;
  }
  let s = "";
  for (let k = 0; k < units.length; k += 8192) s += String.fromCharCode(...units.slice(k, k + 8192));
  return s;
}

/** Length of the well-formed UTF-8 sequence starting at `i` (RFC 3629 table 3-7), or 0 if there is none. */
function validSequenceLength(b: Uint8Array, i: number): number {
  const x = b[i]!;
  if (x < 0x80) return 1;
  let n: number;
  let lo = 0x80;
  let hi = 0xbf;
  if (x >= 0xc2 && x <= 0xdf) n = 2;
  else if (x >= 0xe0 && x <= 0xef) n = 3;
  else if (x >= 0xf0 && x <= 0xf4) n = 4;
  else return 0;
  if (x === 0xe0) lo = 0xa0;
  else if (x === 0xed) hi = 0x9f; // no encoded surrogates
  else if (x === 0xf0) lo = 0x90;
  else if (x === 0xf4) hi = 0x8f; // nothing past U+10FFFF
  if (i + n > b.length) return 0;
  const second = b[i + 1]!;
  if (second < lo || second > hi) return 0;
  for (let k = 2; k < n; k++) if (b[i + k]! < 0x80 || b[i + k]! > 0xbf) return 0;
  return n;
}

/** The header block of a commit or tag, and the message after the blank line. */
export interface HeaderBlock {
  /** In order; a continuation line (one starting with a space) joins its header's value after a "\n". */
  headers: [string, string][];
  message: string;
}

/**
 * Splits a commit's or tag's text at its first blank line. Like git fsck, a header block with no blank
 * line after it is accepted when it ends in "\n" (the message is then "", and re-encoding adds the blank
 * line); a NUL in the header block is not.
 */
export function splitHeaders(text: string, what: ObjectType): HeaderBlock {
  const end = text.indexOf("\n\n");
  const head = end === -1 ? text : text.slice(0, end + 1);
  if (end === -1 && !text.endsWith("\n")) throw malformed(what, "unterminated header");
  if (head.includes("\0")) throw malformed(what, "NUL in header");
  const headers: [string, string][] = [];
  for (const line of head.slice(0, -1).split("\n")) {
    if (line.startsWith(" ")) {
      const last = headers.at(-1);
      if (!last) throw malformed(what, "continuation line before any header");
      last[1] += "\n" + line.slice(1);
      continue;
    }
    const space = line.indexOf(" ");
    // A header line without a value is not something git writes, and it could not round-trip.
    if (space <= 0) throw malformed(what, `header line without a value: ${JSON.stringify(line.slice(0, 40))}`);
    headers.push([line.slice(0, space), line.slice(space + 1)]);
  }
  return { headers, message: end === -1 ? "" : text.slice(end + 2) };
}

/** A commit's or tag's header block alone, through its last "\n", so header scans skip the message. */
export function headerBytes(data: Uint8Array): Uint8Array {
  let nl = data.indexOf(0x0a);
  while (nl !== -1 && nl + 1 < data.length && data[nl + 1] !== 0x0a) nl = data.indexOf(0x0a, nl + 1);
  return nl === -1 ? data : data.subarray(0, nl + 1);
}

/** `key value\n`, with every "\n" inside the value continued as "\n ". */
export function encodeHeaderLine(key: string, value: string): string {
  return `${key} ${value.replaceAll("\n", "\n ")}\n`;
}

export function malformed(what: ObjectType, reason: string): GitError<ObjectErrorCode> {
  return new GitError("object-malformed", `malformed ${what}: ${reason}`, { data: { type: what, reason } });
}
