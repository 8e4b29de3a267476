/**
 * Tree objects: `<octal mode> <name>\0<20-byte id>` entries, sorted as if each subtree's name ended in "/".
 * Invariants:
 * - Names are bytes in git. `name` holds them through `bytesToText`, which is lossless, so a name that is
 *   not UTF-8 still round-trips: `encodeTree(decodeTree(b))` equals `b` for every sorted tree.
 * - `decodeTree` checks only the structure; `validateTree` applies fsck's rules to the entries.
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
