/**
 * Commit objects: decoded as strictly as `git fsck` checks them, encoded the way git writes them.
 * Invariants:
 * - Header order is tree, parent*, author, committer, then any others; `encodeCommit(decodeCommit(b))`
 *   equals `b` for every commit this accepts that has a blank line before its message (git always writes one).
 * - `encoding` and `gpgsig` are lifted out only where git writes them (first, resp. last, after committer);
 *   anywhere else they stay in `extraHeaders`, in order, so the bytes still round-trip.
 * - Text is mapped with `bytesToText`, so names and messages in legacy encodings survive byte for byte.
 * Spec: git-commit-tree(1); fsck.c's commit and ident checks (git-fsck(1) "FSCK MESSAGES").
 */
import { isOid, type Oid } from "../oid.ts";
import { bytesToText, encodeHeaderLine, headerBytes, malformed, splitHeaders, textToBytes } from "./object-header.ts";
import type { ObjectType } from "./types.ts";

export interface Signature {
  name: string;
  email: string;
  /** Seconds since the epoch. */
  timestamp: number;
  /** As written, e.g. "+0100". */
  timezone: string;
}

export interface Commit {
  tree: Oid;
  parents: Oid[];
  author: Signature;
  committer: Signature;
  encoding?: string;
  /** The signature's lines joined by "\n", without the trailing newline. */
  gpgsig?: string;
  /** Every other header after committer (mergetag, gpgsig-sha256, ...), in order; multi-line values joined by "\n". */
  extraHeaders: [string, string][];
  message: string;
}

export function decodeCommit(data: Uint8Array): Commit {
  const { headers, message } = splitHeaders(bytesToText(data), "commit");
  let i = 0;
  const take = (key: string) => (headers[i]?.[0] === key ? headers[i++]![1] : undefined);

  const tree = take("tree");
  if (tree === undefined) throw malformed("commit", "missing tree line first");
  if (!isOid(tree)) throw malformed("commit", "bad tree sha1");
  const parents: Oid[] = [];
  for (let p = take("parent"); p !== undefined; p = take("parent")) {
    if (!isOid(p)) throw malformed("commit", "bad parent sha1");
    parents.push(p);
  }
  const author = take("author");
  if (author === undefined) throw malformed("commit", "missing author line after tree and parents");
  const committer = take("committer");
  if (committer === undefined) throw malformed("commit", "missing committer line after author");

  const extraHeaders = headers.slice(i);
  const commit: Commit = {
    tree,
    parents,
    author: decodeSignature(author, "commit", "author"),
    committer: decodeSignature(committer, "commit", "committer"),
    extraHeaders,
    message,
  };
  if (extraHeaders[0]?.[0] === "encoding") commit.encoding = extraHeaders.shift()![1];
  if (extraHeaders.at(-1)?.[0] === "gpgsig") commit.gpgsig = extraHeaders.pop()![1];
  return commit;
}

export function encodeCommit(c: Commit): Uint8Array {
  let s = encodeHeaderLine("tree", c.tree);
  for (const p of c.parents) s += encodeHeaderLine("parent", p);
  s += encodeHeaderLine("author", encodeSignature(c.author));
  s += encodeHeaderLine("committer", encodeSignature(c.committer));
  if (c.encoding !== undefined) s += encodeHeaderLine("encoding", c.encoding);
  for (const [k, v] of c.extraHeaders) s += encodeHeaderLine(k, v);
  if (c.gpgsig !== undefined) s += encodeHeaderLine("gpgsig", c.gpgsig);
  return textToBytes(s + "\n" + c.message);
}

/** The committer time; from raw bytes it reads only the committer line, so graph walks skip full decoding. */
export function commitTimestamp(c: Commit | Uint8Array): number {
  if (!(c instanceof Uint8Array)) return c.committer.timestamp;
  const line = /(?:^|\n)committer ([^\n]*)\n/.exec(bytesToText(headerBytes(c)));
  if (!line) throw malformed("commit", "missing committer line");
  return decodeSignature(line[1]!, "commit", "committer").timestamp;
}

export function encodeSignature(s: Signature): string {
  return `${s.name} <${s.email}> ${s.timestamp} ${s.timezone}`;
}

/**
 * Parses `Name <email> 1700000000 +0100` with fsck's rules. Stricter than fsck in one way: exactly one
 * space before the date (git writes one; extra blanks could not round-trip through `Signature`).
 */
export function decodeSignature(value: string, what: ObjectType, role: string): Signature {
  const bad = (reason: string) => malformed(what, `invalid ${role} line - ${reason}`);
  if (value.includes("\n")) throw bad("spans several lines");
  if (value.startsWith("<")) throw bad("missing space before email");
  const lt = value.search(/[<>]/);
  if (lt === -1) throw bad("missing email");
  if (value[lt] === ">") throw bad("bad name");
  if (value[lt - 1] !== " ") throw bad("missing space before email");
  const gt = value.slice(lt + 1).search(/[<>]/) + lt + 1;
  if (gt === lt || value[gt] !== ">") throw bad("bad email");
  if (value[gt + 1] !== " ") throw bad("missing space before date");
  const when = /^(\d+) ([+-]\d{4})$/.exec(value.slice(gt + 2));
  if (!when) throw bad(/^\d+ /.test(value.slice(gt + 2)) ? "bad time zone" : "bad date");
  if (when[1]!.length > 1 && when[1]!.startsWith("0")) throw bad("zero-padded date");
  const timestamp = Number(when[1]);
  if (!Number.isSafeInteger(timestamp)) throw bad("date causes integer overflow");
  return { name: value.slice(0, lt - 1), email: value.slice(lt + 1, gt), timestamp, timezone: when[2]! };
}
