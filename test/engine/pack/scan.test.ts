import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ByteReader } from "../../../engine/byte-reader.ts";
import { bytesEqual, concatBytes, fromUtf8, utf8 } from "../../../engine/bytes.ts";
import { GitError } from "../../../engine/errors.ts";
import { hashObject } from "../../../engine/hash.ts";
import { bytesToHex, type Oid } from "../../../engine/oid.ts";
import { OBJECT_TYPE_BY_CODE, type ObjectType } from "../../../engine/object/types.ts";
import { scanPack, type ScanOptions, type ScannedEntry, type ScannedTrailer } from "../../../engine/pack/scan.ts";

const ENV = { ...process.env, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null", LC_ALL: "C" };
const git = (cwd: string, args: string[], input?: Uint8Array | string) =>
  new Uint8Array(execFileSync("git", args, { cwd, input, env: ENV, maxBuffer: 1 << 28 }));
const gitText = (cwd: string, args: string[], input?: Uint8Array | string) => fromUtf8(git(cwd, args, input)).trim();

/**
 * One fast-import run: a log file with a different line edited per commit (so a repack chains deltas
 * deep), an incompressible 100 KB blob changed every 20 commits, nested trees and an annotated tag.
 */
function makeRepo(dir: string, commits: number): void {
  git(dir, ["init", "-q", "-b", "main"]);
  // Edits keep every line's length, so git orders the versions by age and chains each on the next.
  const line = (n: number, text: string) => `line ${String(n).padStart(3, "0")}: ${((n * 2654435761) >>> 0).toString(16).padStart(8, "0")} ${text}`;
  const lines = Array.from({ length: 400 }, (_, n) => line(n, "as first written"));
  const big = new Uint8Array(randomBytes(100_000));
  const stream: Uint8Array[] = [];
  const file = (path: string, data: Uint8Array) => stream.push(utf8(`M 100644 inline ${path}\ndata ${data.length}\n`), data, utf8("\n"));
  for (let i = 1; i <= commits; i++) {
    stream.push(utf8(`commit refs/heads/main\ncommitter C <c@example.com> ${1_700_000_000 + 60 * i} +0000\ndata <<END\ncommit ${i}\nEND\n`));
    const n = (i * 5) % lines.length;
    lines[n] = line(n, `edited in c${String(i).padStart(3, "0")}`);
    file("log.txt", utf8(lines.join("\n")));
    if (i % 20 === 1) {
      big[i] = big[i]! ^ 0xff;
      file("data/big.bin", big.slice());
    }
    if (i % 10 === 0) file(`dir/sub/note-${i}.txt`, utf8(`note ${i}\n`));
  }
  stream.push(utf8("tag v1\nfrom refs/heads/main\ntagger T <t@example.com> 1700009999 +0000\ndata <<END\nrelease\nEND\n"));
  git(dir, ["fast-import", "--quiet"], concatBytes(stream));
}

interface PackRow {
  oid: Oid;
  type: ObjectType;
  size: number;
  packedLen: number;
  offset: number;
  base?: Oid;
}

/** `git verify-pack -v`: one row per entry; size is the entry's own (a delta's, for deltas). */
function verifyPack(cwd: string, idx: string): PackRow[] {
  return gitText(cwd, ["verify-pack", "-v", idx])
    .split("\n")
    .filter((l) => /^[0-9a-f]{40} /.test(l))
    .map((l) => {
      const [oid, type, size, packedLen, offset, , base] = l.split(/\s+/);
      const row: PackRow = { oid: oid as Oid, type: type as ObjectType, size: Number(size), packedLen: Number(packedLen), offset: Number(offset) };
      if (base) row.base = base as Oid;
      return row;
    })
    .sort((a, b) => a.offset - b.offset);
}

interface TestPack {
  bytes: Uint8Array;
  /** The checksum git named the pack by (or, for a stdout pack, wrote as its trailer). */
  name: string;
  rows: PackRow[];
}

async function* chunksOf(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.slice(at, at + size);
}

async function scanAll(bytes: Uint8Array, chunk: number, opts: ScanOptions = {}) {
  const seen: Uint8Array[] = [];
  let seenLen = 0;
  const entries: ScannedEntry[] = [];
  let trailer: ScannedTrailer | undefined;
  const onBytes = (b: Uint8Array) => {
    seen.push(b.slice());
    seenLen += b.length;
  };
  for await (const item of scanPack(new ByteReader(chunksOf(bytes, chunk)), { ...opts, onBytes })) {
    if (item.kind === "trailer") trailer = item;
    else {
      // Every byte of an entry reaches onBytes before the entry is yielded, and nothing beyond it.
      expect(seenLen).toBe(item.offset + item.packedLen);
      entries.push(item);
    }
  }
  return { entries, trailer, seen: concatBytes(seen) };
}

async function scanError(bytes: Uint8Array, opts: ScanOptions): Promise<GitError> {
  try {
    await scanAll(bytes, 4096, opts);
  } catch (e) {
    expect(e).toBeInstanceOf(GitError);
    return e as GitError;
  }
  return expect.unreachable("scan should have failed");
}

let dir: string;
const packs: Record<string, TestPack> = {};

/** Writes a pack with `git pack-objects <base>`, which names it by its checksum, and lists it. */
function packObjects(name: string, args: string[], revs: string) {
  const hash = gitText(dir, ["pack-objects", "-q", "--revs", ...args, join(dir, name)], revs);
  const file = join(dir, `${name}-${hash}`);
  packs[name] = { bytes: new Uint8Array(readFileSync(`${file}.pack`)), name: hash, rows: verifyPack(dir, `${file}.idx`) };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "edgegit-scan-"));
  makeRepo(dir, 70);
  git(dir, ["repack", "-adfq", "--depth=50", "--window=50"]);
  const packDir = join(dir, ".git/objects/pack");
  const [repacked] = readdirSync(packDir).filter((f) => f.endsWith(".pack"));
  const stem = join(packDir, repacked!.slice(0, -".pack".length));
  packs.repacked = { bytes: new Uint8Array(readFileSync(`${stem}.pack`)), name: repacked!.slice(5, -5), rows: verifyPack(dir, `${stem}.idx`) };

  const all = "refs/heads/main\nrefs/tags/v1\n";
  packObjects("ref-delta", [], all);
  packObjects("fresh-ofs", ["--no-reuse-delta", "--delta-base-offset", "--depth=10", "--window=20"], all);
  packObjects("stored", ["--no-reuse-object", "--compression=0", "--delta-base-offset"], all);

  // A thin pack cannot be indexed alone: --fix-thin appends its bases after its own entries, which
  // keep their offsets, so the first rows of the fixed pack describe the thin pack.
  const thin = git(dir, ["pack-objects", "-q", "--stdout", "--revs", "--thin", "--delta-base-offset"], "main\n^main~30\n");
  const fixed = gitText(dir, ["index-pack", "--stdin", "--fix-thin"], thin).replace(/^pack\s+/, "");
  const fixedRows = verifyPack(dir, join(packDir, `pack-${fixed}.idx`));
  packs.thin = { bytes: thin, name: bytesToHex(thin.subarray(-20)), rows: fixedRows.filter((r) => r.offset < thin.length - 20) };
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PACKS = ["repacked", "ref-delta", "fresh-ofs", "stored", "thin"];
const CHUNKS = [1, 7, 64 << 10, Number.POSITIVE_INFINITY];

describe("scanPack on packs made by git", () => {
  it("has fixtures with the entry kinds each case is for", () => {
    const kinds = (name: string) => new Set(packs[name]!.rows.map((r) => (r.base ? "delta" : r.type)));
    for (const name of PACKS) expect(kinds(name).has("delta"), name).toBe(true);
    expect(kinds("repacked")).toEqual(new Set(["commit", "tree", "blob", "tag", "delta"]));
    expect(Math.max(...packs.repacked!.rows.map((r) => r.packedLen))).toBeGreaterThan(64 << 10);
    const thinBases = packs.thin!.rows.filter((r) => r.base && !packs.thin!.rows.some((q) => q.oid === r.base));
    expect(thinBases.length).toBeGreaterThan(0);
  });

  describe.each(PACKS)("%s pack", (name) => {
    it.each(CHUNKS)("yields what git verify-pack lists, fed in %d-byte chunks", { timeout: 30_000 }, async (chunk) => {
      const { bytes, name: checksum, rows } = packs[name]!;
      const { entries, trailer, seen } = await scanAll(bytes, chunk);
      expect(trailer).toEqual({ kind: "trailer", objectCount: rows.length, checksum, bytes: bytes.length });
      expect(seen.length).toBe(bytes.length);
      expect(bytesEqual(seen, bytes)).toBe(true);

      const oidAt = new Map(rows.map((r) => [r.offset, r.oid]));
      const actual = entries.map((e) => ({
        offset: e.offset,
        packedLen: e.packedLen,
        size: e.size,
        type: e.entryType < 5 ? OBJECT_TYPE_BY_CODE[e.entryType] : "delta",
        base: e.entryType === 6 ? oidAt.get(e.baseOffset!) : e.baseOid,
      }));
      const expected = rows.map((r) => ({ offset: r.offset, packedLen: r.packedLen, size: r.size, type: r.base ? "delta" : r.type, base: r.base }));
      expect(actual).toEqual(expected);

      for (const [i, e] of entries.entries()) {
        expect(e.data.length).toBe(e.size);
        if (e.entryType < 5) expect(hashObject(OBJECT_TYPE_BY_CODE[e.entryType]!, e.data)).toBe(rows[i]!.oid);
      }
    });
  });

  it("keeps git's choice of delta encoding", async () => {
    const types = async (name: string) => new Set((await scanAll(packs[name]!.bytes, 1 << 20)).entries.map((e) => e.entryType));
    expect((await types("ref-delta")).has(6)).toBe(false);
    expect((await types("ref-delta")).has(7)).toBe(true);
    expect((await types("repacked")).has(7)).toBe(false);
    expect((await types("repacked")).has(6)).toBe(true);
    const thin = await types("thin");
    expect(thin.has(6) && thin.has(7)).toBe(true);
  });
});

describe("scanPack limits", () => {
  it("refuses a pack with more objects than maxObjects before reading any entry", async () => {
    const { bytes, rows } = packs.repacked!;
    const yielded: string[] = [];
    const scan = async () => {
      for await (const item of scanPack(new ByteReader(chunksOf(bytes, 4096)), { maxObjects: rows.length - 1 })) yielded.push(item.kind);
    };
    await expect(scan()).rejects.toMatchObject({ code: "pack-too-many-objects", data: { count: rows.length, limit: rows.length - 1 } });
    expect(yielded).toEqual([]);
    expect((await scanAll(bytes, 4096, { maxObjects: rows.length })).entries.length).toBe(rows.length);
  });

  it("refuses an entry larger than maxObjectSize", async () => {
    const { bytes, rows } = packs.repacked!;
    const largest = Math.max(...rows.map((r) => r.size));
    const err = await scanError(bytes, { maxObjectSize: largest - 1 });
    expect(err.code).toBe("object-too-large");
    expect(err.data).toEqual({ size: largest, limit: largest - 1 });
    expect((await scanAll(bytes, 4096, { maxObjectSize: largest })).entries.length).toBe(rows.length);
  });

  it("refuses a pack whose entries inflate past maxInflatedBytes in total", async () => {
    const { bytes, rows } = packs.repacked!;
    const total = rows.reduce((n, r) => n + r.size, 0);
    const err = await scanError(bytes, { maxInflatedBytes: total - 1 });
    expect(err.code).toBe("pack-too-large");
    expect((await scanAll(bytes, 4096, { maxInflatedBytes: total })).entries.length).toBe(rows.length);
  });
});
