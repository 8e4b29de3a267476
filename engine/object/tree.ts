/**
 * Tree objects: `<octal mode> <name>\0<20-byte id>` entries, sorted as if each subtree's name ended in "/".
 * Invariants:
 * - Names are bytes in git. `name` holds them through `bytesToText`, which is lossless, so a name that is
 *   not UTF-8 still round-trips: `encodeTree(decodeTree(b))` equals `b` for every sorted tree.
 * - `decodeTree` checks only the structure; `validateTree` applies fsck's rules to the entries.
 * - `inspectTree(b)` throws what `decodeTree(b)` throws and returns what `validateTree(decodeTree(b))`
 *   returns, in one pass over the bytes (a push checks every tree it receives).
 * Spec: git-mktree(1); fsck.c's tree checks (git-fsck(1) "FSCK MESSAGES"); git's base_name_compare().
 */
import { concatBytes } from "../bytes.ts";
import { OID_BYTES, hexToBytes, oidFromBytes, type Oid } from "../oid.ts";
import { bytesToText, malformed, textToBytes } from "./object-header.ts";

export interface TreeEntry {
  /** Octal as written: "100644" | "100755" | "120000" | "40000" | "160000" (others only in hostile trees). */
  mode: string;
  /** The name's bytes as lossless text (see `bytesToText`); JSON.stringify shows odd bytes as escapes. */
  name: string;
  oid: Oid;
}

const MODE_RE = /^[0-7]+$/;

export function decodeTree(data: Uint8Array): TreeEntry[] {
  const entries: TreeEntry[] = [];
  let i = 0;
  while (i < data.length) {
    const space = data.indexOf(0x20, i);
    if (space === -1) throw malformed("tree", `no space after mode at offset ${i}`);
    const mode = bytesToText(data.subarray(i, space));
    if (!MODE_RE.test(mode)) throw malformed("tree", `malformed mode ${JSON.stringify(mode)} at offset ${i}`);
    const nul = data.indexOf(0, space + 1);
    if (nul === -1) throw malformed("tree", `no NUL after name at offset ${i}`);
    if (nul + 1 + OID_BYTES > data.length) throw malformed("tree", `truncated object id at offset ${i}`);
    entries.push({ mode, name: bytesToText(data.subarray(space + 1, nul)), oid: oidFromBytes(data, nul + 1) });
    i = nul + 1 + OID_BYTES;
  }
  return entries;
}

/** Encodes entries in git's order, whatever order they come in. */
export function encodeTree(entries: readonly TreeEntry[]): Uint8Array {
  const rows = entries.map((e) => ({ e, name: textToBytes(e.name), key: sortKey(e) }));
  rows.sort((a, b) => compareBytes(a.key, b.key));
  const parts = rows.map(({ e, name }) => {
    const head = textToBytes(e.mode + " ");
    const row = new Uint8Array(head.length + name.length + 1 + OID_BYTES);
    row.set(head, 0);
    row.set(name, head.length);
    row.set(hexToBytes(e.oid), head.length + name.length + 1);
    return row;
  });
  return concatBytes(parts);
}

/** The object type an entry points at, as git derives it from the mode's type bits. */
export function entryKind(mode: string): "blob" | "tree" | "commit" {
  const type = parseInt(mode, 8) & 0o170000;
  if (type === 0o040000) return "tree";
  if (type === 0o160000) return "commit"; // a gitlink: a submodule's commit, not stored here
  return "blob";
}

/**
 * fsck's verdict on a tree's entries: null if acceptable, else the first reason. Modes are the five git
 * writes, plus what fsck only warns about: legacy 100664 and zero-padded modes such as 040000.
 */
export function validateTree(entries: readonly TreeEntry[]): string | null {
  const seen = new Set<string>();
  let prev: Uint8Array | undefined;
  for (const e of entries) {
    const reason = badName(e.name) ?? (isGoodMode(e.mode) ? null : "bad mode");
    if (reason) return `${reason}: ${JSON.stringify(e.name)}`;
    if (seen.has(e.name)) return `duplicate entries: ${JSON.stringify(e.name)}`;
    seen.add(e.name);
    const key = sortKey(e);
    if (prev && compareBytes(prev, key) >= 0) return `not properly sorted: ${JSON.stringify(e.name)}`;
    prev = key;
  }
  return null;
}

/** What a valid tree's entry names: gitlinks (mode 160000) are left out, as `referencedIds` leaves them. */
export type TreeReferenceSink = (oid: Oid, type: "blob" | "tree") => void;

const NAME_HAS_SLASH = 1;
const NAME_HAS_BACKSLASH = 2;
const NAME_HAS_HIGH_BYTE = 4;

/**
 * `validateTree(decodeTree(data))` without building entries: the same structural errors are thrown
 * (before any fsck reason, wherever they occur), the same fsck reason is returned, and only when the
 * tree is valid does `onReference` get each entry's id and kind, in order. Names are compared as bytes
 * and decoded to text only when a reason quotes them or when `.git` in another spelling is possible.
 */
export function inspectTree(data: Uint8Array, onReference?: TreeReferenceSink): string | null {
  let reason: string | null = null;
  // Per checked entry: its name's range (its id follows the NUL at `ends[n]`) and its mode's type bits.
  const starts: number[] = [];
  const ends: number[] = [];
  const types: number[] = [];
  let i = 0;
  while (i < data.length) {
    const space = data.indexOf(0x20, i);
    if (space === -1) throw malformed("tree", `no space after mode at offset ${i}`);
    let mode = 0;
    let octal = space > i;
    for (let k = i; k < space && octal; k++) {
      const digit = data[k]! - 0x30;
      octal = digit >= 0 && digit <= 7;
      mode = mode * 8 + digit;
    }
    if (!octal) throw malformed("tree", `malformed mode ${JSON.stringify(bytesToText(data.subarray(i, space)))} at offset ${i}`);
    let flags = 0;
    let nul = space + 1;
    for (; nul < data.length; nul++) {
      const b = data[nul]!;
      if (b === 0) break;
      if (b >= 0x80) flags |= NAME_HAS_HIGH_BYTE;
      else if (b === 0x2f) flags |= NAME_HAS_SLASH;
      else if (b === 0x5c) flags |= NAME_HAS_BACKSLASH;
    }
    if (nul === data.length) throw malformed("tree", `no NUL after name at offset ${i}`);
    if (nul + 1 + OID_BYTES > data.length) throw malformed("tree", `truncated object id at offset ${i}`);
    if (reason === null) {
      const n = starts.length;
      starts.push(space + 1);
      ends.push(nul);
      types.push(mode & 0o170000);
      reason = entryReason(data, starts, ends, types, n, flags, mode);
    }
    i = nul + 1 + OID_BYTES;
  }
  if (reason === null && onReference) {
    for (let n = 0; n < starts.length; n++) {
      if (types[n] !== 0o160000) onReference(oidFromBytes(data, ends[n]! + 1), types[n] === 0o040000 ? "tree" : "blob");
    }
  }
  return reason;
}

/**
 * `validateTree`'s verdict on entry `n`, whose predecessors passed. They are sorted, so a name seen
 * before can only be a blob's just ahead of a subtree of that name, past names that extend it (a
 * blob "a", then "a-b", then the subtree "a"); any other repeat shows up as a sort failure first.
 */
function entryReason(data: Uint8Array, starts: number[], ends: number[], types: number[], n: number, flags: number, mode: number): string | null {
  const start = starts[n]!;
  const end = ends[n]!;
  const bad = badNameBytes(data, start, end, flags) ?? (GOOD_MODES.has(mode) ? null : "bad mode");
  if (bad) return `${bad}: ${quoted(data, start, end)}`;
  const sorted = n === 0 || compareKeys(data, n - 1, n, starts, ends, types) < 0;
  let duplicate = false;
  if (sorted) {
    for (let j = n - 1; j >= 0 && !duplicate && types[n] === 0o040000 && hasPrefix(data, starts[j]!, ends[j]!, start, end); j--) {
      if (ends[j]! - starts[j]! === end - start) duplicate = true;
    }
  } else {
    for (let j = 0; j < n && !duplicate; j++) duplicate = ends[j]! - starts[j]! === end - start && hasPrefix(data, starts[j]!, ends[j]!, start, end);
  }
  if (duplicate) return `duplicate entries: ${quoted(data, start, end)}`;
  return sorted ? null : `not properly sorted: ${quoted(data, start, end)}`;
}

/** A name as `validateTree` quotes it: its lossless text, JSON-escaped. */
function quoted(data: Uint8Array, start: number, end: number): string {
  return JSON.stringify(bytesToText(data.subarray(start, end)));
}

/** `badName` on the name's bytes; only a name that could spell `.git` some other way is decoded. */
function badNameBytes(data: Uint8Array, start: number, end: number, flags: number): string | null {
  const len = end - start;
  if (len === 0) return "empty filename";
  if (flags & NAME_HAS_SLASH) return "contains full pathnames";
  const first = data[start]!;
  if (first === 0x2e && len === 1) return "contains '.'";
  if (first === 0x2e && len === 2 && data[start + 1] === 0x2e) return "contains '..'";
  // Plain ASCII with no "\" is `.git` only if it starts with "." or "g"; HFS+ ignorables are not ASCII.
  const maybeDotGit = flags & (NAME_HAS_BACKSLASH | NAME_HAS_HIGH_BYTE) || first === 0x2e || (first | 0x20) === 0x67;
  if (maybeDotGit && isDotGit(bytesToText(data.subarray(start, end)))) return "contains '.git'";
  return null;
}

/** Entry a's sort key against entry b's, bytewise: a subtree's name is taken to end in "/". */
function compareKeys(data: Uint8Array, a: number, b: number, starts: number[], ends: number[], types: number[]): number {
  const as = starts[a]!;
  const bs = starts[b]!;
  const al = ends[a]! - as;
  const bl = ends[b]! - bs;
  const common = Math.min(al, bl);
  for (let k = 0; k < common; k++) {
    const d = data[as + k]! - data[bs + k]!;
    if (d) return d;
  }
  // Past the shorter name, each key has at most its "/" left.
  const ak = al + (types[a] === 0o040000 ? 1 : 0);
  const bk = bl + (types[b] === 0o040000 ? 1 : 0);
  if (ak > common && bk > common) {
    const d = (al > common ? data[as + common]! : 0x2f) - (bl > common ? data[bs + common]! : 0x2f);
    if (d) return d;
  }
  return ak - bk;
}

/** Whether data[start, end) begins with the bytes data[pStart, pEnd). */
function hasPrefix(data: Uint8Array, start: number, end: number, pStart: number, pEnd: number): boolean {
  if (end - start < pEnd - pStart) return false;
  for (let k = 0; k < pEnd - pStart; k++) if (data[start + k] !== data[pStart + k]) return false;
  return true;
}

const GOOD_MODES = new Set([0o100644, 0o100755, 0o100664, 0o120000, 0o040000, 0o160000]);

function isGoodMode(mode: string): boolean {
  return MODE_RE.test(mode) && GOOD_MODES.has(parseInt(mode, 8));
}

function badName(name: string): string | null {
  if (name === "") return "empty filename";
  if (name.includes("/")) return "contains full pathnames";
  if (name.includes("\0")) return "contains NUL";
  if (name === ".") return "contains '.'";
  if (name === "..") return "contains '..'";
  if (isDotGit(name)) return "contains '.git'";
  return null;
}

/** Code points HFS+ ignores when comparing names, so ".g\u200Cit" opens ".git" on a Mac. */
const HFS_IGNORED = /[\u200c-\u200f\u202a-\u202e\u206a-\u206f\ufeff]/g;

/**
 * ".git" in any case, and the spellings that reach it on other file systems: HFS+ drops ignorable code
 * points; NTFS drops trailing dots and spaces, knows the short name "git~1", and treats "\" as a separator
 * and ":" as the start of a stream name.
 */
function isDotGit(name: string): boolean {
  if (name.replace(HFS_IGNORED, "").toLowerCase() === ".git") return true;
  return name.split("\\").some((part) => /^(?:\.git|git~1)[. ]*(?::|$)/i.test(part));
}

/** git compares names bytewise, with a subtree's name taken to end in "/". */
function sortKey(e: TreeEntry): Uint8Array {
  const name = textToBytes(e.name);
  if (entryKind(e.mode) !== "tree") return name;
  const key = new Uint8Array(name.length + 1);
  key.set(name);
  key[name.length] = 0x2f;
  return key;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}
