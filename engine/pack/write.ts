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
 * - A delta whose base is in the pack goes out after its base (entries are reordered for it), as an
 *   OFS_DELTA when the client has ofs-delta; a REF_DELTA names a base the pack holds only then, or
 *   one the client has and the pack does not hold (a thin base). Never both.
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

export async function* writePack(
  given: readonly ObjectLocation[],
  packs: PackReader,
  opts: WritePackOptions,
): AsyncGenerator<Uint8Array> {
  const hash = createHash("sha1");
  const chunkBytes = opts.chunkBytes ?? 256 << 10;
  const windowBytes = opts.windowBytes ?? 4 << 20;
  const items = basesFirst(given);
  const sending = new Set(items.map((i) => i.oid));
  const order = new Map(items.map((l, i) => [l.oid, i]));
  const writtenAt = new Map<Oid, number>();
  /** Whether the delta's base is one it may name: written before it, or a thin base the pack does not hold. */
  const baseUsable = (base: Oid, at: number) => (sending.has(base) ? order.get(base)! < at : opts.clientHas(base));
  const mustResolve = (loc: ObjectLocation) => loc.entryType >= 5 && !baseUsable(loc.baseOid!, order.get(loc.oid)!);
  const toResolve = opts.wholeEntries ? items.filter(mustResolve) : [];
  const wholes = toResolve.length ? opts.wholeEntries!(toResolve) : undefined;
  let out: Uint8Array[] = [];
  let outLen = 0;
  let pos = 0;
  // Entries that go out byte for byte are gathered into one run of their window's bytes, so a
  // stretch of the stored pack costs no per-entry copy.
  let run: Uint8Array | undefined;
  let runFrom = 0;
  let runTo = 0;
  const endRun = () => {
    if (!run) return;
    const b = run.subarray(runFrom, runTo);
    run = undefined;
    out.push(b);
    outLen += b.length;
  };
  const copy = (bytes: Uint8Array, from: number, to: number) => {
    if (run === bytes && runTo === from) runTo = to;
    else {
      endRun();
      run = bytes;
      runFrom = from;
      runTo = to;
    }
    pos += to - from;
  };
  const emit = (b: Uint8Array) => {
    endRun();
    out.push(b);
    outLen += b.length;
    pos += b.length;
  };
  const pending = () => outLen + (run ? runTo - runFrom : 0);
  // Hashed a chunk at a time: an update per entry cost more than the copy did.
  const flush = () => {
    endRun();
    const chunk = out.length === 1 ? out[0]! : concatBytes(out);
    out = [];
    outLen = 0;
    hash.update(chunk);
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
      const from = loc.offset - first.offset;
      if (from + loc.packedLen > bytes.length) throw new GitError("pack-read-short", `stored entry of ${loc.oid} is cut off`, { retryable: true });
      const start = pos;
      if (asStored(loc, start)) copy(bytes, from, from + loc.packedLen);
      else await writeDelta(loc, bytes.subarray(from, from + loc.packedLen), start);
      writtenAt.set(loc.oid, start);
      opts.onEntry?.(++written);
      if (pending() >= chunkBytes) yield flush();
    }
  }
  if (wholes && !(await wholes.next()).done) throw new GitError("pack-entries-mismatch", "more whole entries came back than were asked for");
  const tail = flush();
  yield concatBytes([tail, new Uint8Array(hash.digest())]);

  /** True when the stored entry, header included, is exactly what goes out at `start`. */
  function asStored(loc: ObjectLocation, start: number): boolean {
    if (loc.entryType < 5) return true;
    const base = loc.baseOid!;
    const baseAt = writtenAt.get(base);
    if (loc.entryType === 6) return opts.ofsDelta && baseAt !== undefined && loc.baseOffset !== undefined && start - baseAt === loc.offset - loc.baseOffset;
    return !(opts.ofsDelta && baseAt !== undefined) && (baseAt !== undefined || (!sending.has(base) && opts.clientHas(base)));
  }

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
    } else if (baseAt !== undefined || (!sending.has(base) && opts.clientHas(base))) {
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

/**
 * `items` in their order, except that a delta whose base is among them comes right after its base
 * when the base came later: stored packs keep bases first, but a base may live in another pack
 * (a thin push's completion pack) that sorts after it.
 */
export function basesFirst(items: readonly ObjectLocation[]): ObjectLocation[] {
  const present = new Set(items.map((l) => l.oid));
  const placed = new Set<Oid>();
  const waiting = new Map<Oid, ObjectLocation[]>();
  const out: ObjectLocation[] = [];
  const place = (first: ObjectLocation) => {
    for (const stack = [first]; stack.length; ) {
      const l = stack.pop()!;
      out.push(l);
      placed.add(l.oid);
      const after = waiting.get(l.oid);
      if (after) {
        waiting.delete(l.oid);
        stack.push(...after.reverse());
      }
    }
  };
  for (const l of items) {
    const base = l.entryType >= 6 ? l.baseOid : undefined;
    if (base === undefined || !present.has(base) || placed.has(base)) place(l);
    else {
      const list = waiting.get(base);
      if (list) list.push(l);
      else waiting.set(base, [l]);
    }
  }
  // Only a cycle of bases (which no verified store holds) is left; the writer resolves those whole.
  for (const ls of waiting.values()) out.push(...ls);
  return out;
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

/** A stored pack whose every entry is to be sent. */
export interface WholePack {
  key: string;
  /** Bytes of the stored pack, trailer included. */
  bytes: number;
  /** Entries in it, as its header states. */
  objects: number;
}

/**
 * Writes one pack holding every entry of `packs`, in order, by copying each stored pack between its
 * header and its trailer: no entry is decoded. Offsets inside a pack keep their distances, so its
 * OFS_DELTAs stay valid; REF_DELTAs stay as stored (their bases are in the packs).
 * The caller guarantees that the packs' entries are exactly the objects to send, each once, and
 * that the client understands ofs-delta. Each pack's header is checked against `objects`.
 */
export async function* writeWholePacks(packs: readonly WholePack[], reader: PackReader, opts: { windowBytes?: number } = {}): AsyncGenerator<Uint8Array> {
  // 1 MiB reads measured fastest end to end under wrangler dev (2 and 4 MiB: +5–10% clone time).
  const windowBytes = opts.windowBytes ?? 1 << 20;
  const hash = createHash("sha1");
  const header = new Uint8Array(12);
  header.set([0x50, 0x41, 0x43, 0x4b, 0, 0, 0, 2]);
  new DataView(header.buffer).setUint32(8, packs.reduce((n, p) => n + p.objects, 0));
  hash.update(header);
  yield header;
  for (const p of packs) {
    const end = p.bytes - 20;
    for (let at = 0; at < end; at += windowBytes) {
      const piece = await reader.readRange(p.key, at, Math.min(windowBytes, end - at));
      if (at === 0) {
        const head = new DataView(piece.buffer, piece.byteOffset, 12);
        if (head.getUint32(0) !== 0x5041434b || head.getUint32(8) !== p.objects)
          throw new GitError("pack-entries-mismatch", `stored pack ${p.key} does not hold the ${p.objects} entries it is indexed with`);
      }
      const body = at === 0 ? piece.subarray(12) : piece;
      hash.update(body);
      yield body;
    }
  }
  yield new Uint8Array(hash.digest());
}
