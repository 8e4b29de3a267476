/**
 * Writes a pack for a fetch by copying stored entries: compressed data goes out as stored, and only
 * a delta's header is rewritten (its base offset, or OFS→REF when the base is not sent before it).
 * A delta is resolved and recompressed only when its base is neither sent nor held by the client;
 * those entries can come from `wholeEntries` (a PackWorker fan-out), which starts before the copy.
 * Invariants:
 * - Exactly `items.length` entries are written, each object once; the header count is exact.
 * - `wholeEntries` yields exactly one entry per object it was given, in order, each with that
 *   object's type and size; anything else (short, long, mismatched) throws: never a short pack.
 * - An OFS_DELTA only ever points backwards into what this pack already wrote.
 * - Reads are coalesced into windows of at most `windowBytes`; memory holds one window and one
 *   output chunk, never the pack.
 * Spec: gitformat-pack(5); gitprotocol-capabilities(5) "ofs-delta", "thin-pack".
 */
import { createHash } from "node:crypto";
import { concatBytes } from "../bytes.ts";
import { GitError } from "../errors.ts";
import type { Oid } from "../oid.ts";
import { CODE_BY_OBJECT_TYPE, type GitObject } from "../object/types.ts";
import type { ObjectLocation, PackReader } from "../storage.ts";
import { deflate } from "../zlib.ts";
import { decodeEntryHeader, encodeEntryHeader } from "./entry-header.ts";

export type PackWriteErrorCode = "pack-read-short" | "pack-entries-mismatch";

export interface WritePackOptions {
  /** The client understands OFS_DELTA. */
  ofsDelta: boolean;
  /** True if the client has this object (so a thin REF_DELTA against it is allowed). */
  clientHas(oid: Oid): boolean;
  /** Resolves an object whole, for deltas that cannot go out as stored (unless `wholeEntries` is set). */
  readObject(loc: ObjectLocation): Promise<GitObject>;
  /**
   * Encoded whole entries (header + deflated data, as `encodeWholeEntry` makes them) for the deltas
   * that cannot go out as stored, one per location given, in that order. Called once, before the
   * first byte is written, with every such delta, so the producer can work ahead of the copy.
   */
  wholeEntries?(locs: readonly ObjectLocation[]): AsyncIterator<Uint8Array>;
  /** Largest coalesced read from storage (default 4 MiB). */
  windowBytes?: number;
  /** Output chunk size (default 256 KiB). */
  chunkBytes?: number;
  /** Called after each entry, for progress. */
  onEntry?(written: number): void;
}

export async function* writePack(items: readonly ObjectLocation[], packs: PackReader, opts: WritePackOptions): AsyncGenerator<Uint8Array> {
  const hash = createHash("sha1");
  const chunkBytes = opts.chunkBytes ?? 256 << 10;
  const windowBytes = opts.windowBytes ?? 4 << 20;
  const sending = new Set(items.map((i) => i.oid));
  const writtenAt = new Map<Oid, number>();
  const mustResolve = (loc: ObjectLocation) => loc.entryType >= 5 && !sending.has(loc.baseOid!) && !opts.clientHas(loc.baseOid!);
  const toResolve = opts.wholeEntries ? items.filter(mustResolve) : [];
  const wholes = toResolve.length ? opts.wholeEntries!(toResolve) : undefined;
  let out: Uint8Array[] = [];
  let outLen = 0;
  let pos = 0;
  const emit = (b: Uint8Array) => {
    hash.update(b);
    out.push(b);
    outLen += b.length;
    pos += b.length;
  };
  const flush = () => {
    const chunk = out.length === 1 ? out[0]! : concatBytes(out);
    out = [];
    outLen = 0;
    return chunk;
  };

  const header = new Uint8Array(12);
  header.set([0x50, 0x41, 0x43, 0x4b, 0, 0, 0, 2]);
  new DataView(header.buffer).setUint32(8, items.length);
  emit(header);

  let written = 0;
  for (const window of windows(items, windowBytes)) {
    const first = window[0]!;
    if (first.packedLen > windowBytes) {
      // One entry larger than a window: copy it in pieces instead of reading it whole.
      const start = pos;
      yield* writeLarge(first);
      writtenAt.set(first.oid, start);
      opts.onEntry?.(++written);
      continue;
    }
    const last = window[window.length - 1]!;
    const bytes = await packs.readRange(first.pack, first.offset, last.offset + last.packedLen - first.offset);
    for (const loc of window) {
      const raw = bytes.subarray(loc.offset - first.offset, loc.offset - first.offset + loc.packedLen);
      if (raw.length !== loc.packedLen) throw new GitError("pack-read-short", `stored entry of ${loc.oid} is cut off`, { retryable: true });
      const start = pos;
      if (loc.entryType < 5) emit(raw);
      else await writeDelta(loc, raw, start);
      writtenAt.set(loc.oid, start);
      opts.onEntry?.(++written);
      if (outLen >= chunkBytes) yield flush();
    }
  }
  if (wholes && !(await wholes.next()).done) throw new GitError("pack-entries-mismatch", "more whole entries came back than were asked for");
  const trailer = new Uint8Array(hash.digest());
  out.push(trailer);
  outLen += trailer.length;
  yield flush();

  /** A whole object copied in `windowBytes` pieces; a large delta is resolved like any other. */
  async function* writeLarge(loc: ObjectLocation): AsyncGenerator<Uint8Array> {
    if (loc.entryType >= 5) {
      await writeDelta(loc, await packs.readRange(loc.pack, loc.offset, loc.packedLen), pos);
      yield flush();
      return;
    }
    for (let off = 0; off < loc.packedLen; off += windowBytes) {
      const piece = await packs.readRange(loc.pack, loc.offset + off, Math.min(windowBytes, loc.packedLen - off));
      emit(piece);
      yield flush();
    }
  }

  async function writeDelta(loc: ObjectLocation, raw: Uint8Array, start: number) {
    const base = loc.baseOid!;
    const data = raw.subarray(loc.headerLen);
    const baseAt = writtenAt.get(base);
    const size = decodeEntryHeader(raw, loc.offset)!.size;
    if (baseAt !== undefined && opts.ofsDelta) {
      emit(encodeEntryHeader(6, size, { rel: start - baseAt }));
      emit(data);
    } else if (baseAt !== undefined || sending.has(base) || opts.clientHas(base)) {
      emit(encodeEntryHeader(7, size, { oid: base }));
      emit(data);
    } else if (wholes) {
      const r = await wholes.next();
      if (r.done) throw new GitError("pack-entries-mismatch", `no whole entry came back for ${loc.oid}`);
      const h = decodeEntryHeader(r.value, start);
      if (!h || h.entryType !== CODE_BY_OBJECT_TYPE[loc.type] || h.size !== loc.size)
        throw new GitError("pack-entries-mismatch", `the whole entry for ${loc.oid} is not a ${loc.type} of ${loc.size} bytes`);
      emit(r.value);
    } else {
      for (const part of encodeWholeEntry(await opts.readObject(loc))) emit(part);
    }
  }
}

/** A whole object as a pack entry: its header, then its deflated content. */
export function encodeWholeEntry(obj: GitObject): [Uint8Array, Uint8Array] {
  return [encodeEntryHeader(CODE_BY_OBJECT_TYPE[obj.type], obj.data.length), deflate(obj.data)];
}

/** Groups consecutive entries of one pack whose ranges are adjacent into reads of bounded size. */
function* windows(items: readonly ObjectLocation[], max: number): Generator<ObjectLocation[]> {
  let cur: ObjectLocation[] = [];
  let start = 0;
  for (const it of items) {
    const prev = cur[cur.length - 1];
    const adjacent = prev && prev.pack === it.pack && it.offset >= prev.offset + prev.packedLen && it.offset - (prev.offset + prev.packedLen) < 65536;
    if (prev && (!adjacent || it.offset + it.packedLen - start > max || it.packedLen > max)) {
      yield cur;
      cur = [];
    }
    if (cur.length === 0) start = it.offset;
    cur.push(it);
  }
  if (cur.length) yield cur;
}
