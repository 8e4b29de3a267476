/**
 * Turns scanned pack entries into indexed objects: hashes whole objects, resolves deltas base first,
 * and reports each object once its id is known. The pack's own bytes are re-read only for deltas
 * whose base left the cache or comes later in the pack.
 * Invariants:
 * - `finish()` returns one entry per pack entry, every one with a verified id, or throws.
 * - A delta's base is another entry of this pack or (thin pack) an object the repo already has;
 *   anything else is `delta-base-missing`. A delta chain longer than `maxDeltaDepth` is refused,
 *   and so is a cycle (which can only arise between REF_DELTAs).
 * Spec: gitformat-pack(5), "Deltified representation"; git-index-pack(1).
 */
import { GitError } from "../errors.ts";
import { hashObject } from "../hash.ts";
import type { Oid } from "../oid.ts";
import type { ObjectLocation } from "../storage.ts";
import { ByteLru } from "../cache/byte-lru.ts";
import { OBJECT_TYPE_BY_CODE, type GitObject, type PackEntryType } from "../object/types.ts";
import { inflateEntry } from "../zlib.ts";
import { applyDelta } from "./delta.ts";
import type { ScannedEntry } from "./scan.ts";

export type IndexPackErrorCode = "delta-base-missing" | "delta-too-deep" | "delta-cycle";

/** An object as this pack holds it: a location, before the pack has a storage key. */
export type IndexedEntry = Omit<ObjectLocation, "pack">;

export interface IndexPackContext {
  /** Objects the repo already has, for thin-pack bases. */
  readExisting(oid: Oid): Promise<GitObject | null>;
  /** This pack's bytes, once it is stored. */
  readPackRange(offset: number, length: number): Promise<Uint8Array>;
  /** Called once per object, base before delta, with its inflated content. */
  onObject(entry: IndexedEntry, data: Uint8Array): void | Promise<void>;
}

export interface IndexPackOptions {
  /** Bytes of resolved content kept for bases (default 32 MiB). */
  cacheBytes?: number;
  maxDeltaDepth?: number;
  maxObjectSize?: number;
}

interface Pending {
  offset: number;
  headerLen: number;
  packedLen: number;
  entryType: PackEntryType;
  size: number;
  baseOffset?: number;
  baseOid?: Oid;
}

export class PackIndexer {
  #cache: ByteLru<number, GitObject>;
  #done = new Map<number, IndexedEntry>();
  /** Every entry's header facts by offset; re-reads need the entry's own (delta) size. */
  #headers = new Map<number, Pending>();
  #byOid = new Map<Oid, number>();
  #deferred: Pending[] = [];
  #thinBases = new Set<Oid>();
  #maxDepth: number;
  #maxSize: number;

  constructor(
    private readonly ctx: IndexPackContext,
    opts: IndexPackOptions = {},
  ) {
    this.#cache = new ByteLru(opts.cacheBytes ?? 32 << 20, (o) => o.data.length + 64);
    this.#maxDepth = opts.maxDeltaDepth ?? 4095;
    this.#maxSize = opts.maxObjectSize ?? Number.MAX_SAFE_INTEGER;
  }

  /** Ids of repo objects that deltas of this pack use as bases (the pack is thin for them). */
  get thinBases(): ReadonlySet<Oid> {
    return this.#thinBases;
  }

  /** Feeds one scanned entry; resolves it now if its base is at hand. */
  async add(e: ScannedEntry): Promise<void> {
    const p: Pending = { offset: e.offset, headerLen: e.headerLen, packedLen: e.packedLen, entryType: e.entryType, size: e.size, baseOffset: e.baseOffset, baseOid: e.baseOid };
    this.#headers.set(e.offset, p);
    if (e.entryType < 5) {
      await this.#record(p, { type: OBJECT_TYPE_BY_CODE[e.entryType]!, data: e.data }, 0);
      return;
    }
    const base = this.#cachedBase(p);
    if (base) await this.#resolveDelta(p, base.entry, base.obj, e.data);
    else this.#deferred.push(p);
  }

  /**
   * Resolves what is left, reading the stored pack; returns every entry in pack order. Works in
   * rounds: a REF_DELTA whose base is another unresolved delta waits for a later round. A round that
   * resolves nothing means a base is missing (or REF_DELTAs name each other in a cycle).
   */
  async finish(): Promise<IndexedEntry[]> {
    const pending = new Map(this.#deferred.map((p) => [p.offset, p]));
    this.#deferred = [];
    while (pending.size) {
      const before = pending.size;
      let waiting: BaseNotYetKnown | undefined;
      for (const p of [...pending.values()]) {
        if (!pending.has(p.offset)) continue;
        try {
          await this.#resolveAt(p.offset, pending, new Set());
        } catch (e) {
          if (!(e instanceof BaseNotYetKnown)) throw e;
          waiting ??= e;
        }
      }
      if (pending.size === before)
        throw new GitError("delta-base-missing", `delta at offset ${waiting!.offset} needs base ${waiting!.oid}, which is neither in the pack nor in the repository (or the deltas form a cycle)`);
    }
    return [...this.#done.values()].sort((a, b) => a.offset - b.offset);
  }

  #cachedBase(p: Pending): { entry: { depth: number; oid: Oid }; obj: GitObject } | null {
    const baseOffset = p.baseOffset ?? (p.baseOid !== undefined ? this.#byOid.get(p.baseOid) : undefined);
    if (baseOffset === undefined) return null;
    const entry = this.#done.get(baseOffset);
    const obj = this.#cache.get(baseOffset);
    return entry && obj ? { entry, obj } : null;
  }

  async #resolveDelta(p: Pending, base: { depth: number; oid: Oid }, baseObj: GitObject, delta: Uint8Array) {
    const depth = base.depth + 1;
    if (depth > this.#maxDepth)
      throw new GitError("delta-too-deep", `delta chain at offset ${p.offset} is deeper than ${this.#maxDepth}`);
    const data = applyDelta(baseObj.data, delta, this.#maxSize);
    await this.#record({ ...p, baseOid: base.oid }, { type: baseObj.type, data }, depth);
  }

  async #record(p: Pending, obj: GitObject, depth: number) {
    const oid = hashObject(obj.type, obj.data);
    const entry: IndexedEntry = { oid, offset: p.offset, headerLen: p.headerLen, packedLen: p.packedLen, entryType: p.entryType, type: obj.type, size: obj.data.length, depth };
    if (p.baseOid !== undefined) entry.baseOid = p.baseOid;
    if (p.baseOffset !== undefined) entry.baseOffset = p.baseOffset;
    this.#done.set(p.offset, entry);
    if (!this.#byOid.has(oid)) this.#byOid.set(oid, p.offset);
    this.#cache.set(p.offset, obj);
    await this.ctx.onObject(entry, obj.data);
  }

  /** Content of the entry at `offset`, resolving (and recording) it and its bases as needed. */
  async #resolveAt(offset: number, pending: Map<number, Pending>, path: Set<number>): Promise<{ entry: IndexedEntry; obj: GitObject }> {
    const done = this.#done.get(offset);
    if (done) {
      const cached = this.#cache.get(offset);
      if (cached) return { entry: done, obj: cached };
    }
    if (path.has(offset)) throw new GitError("delta-cycle", `delta at offset ${offset} depends on itself`);
    path.add(offset);
    const p = this.#headers.get(offset);
    if (!p) throw new GitError("delta-base-missing", `no pack entry at offset ${offset}`);
    const raw = await this.ctx.readPackRange(offset + p.headerLen, p.packedLen - p.headerLen);
    const inflated = inflateEntry(raw, p.size, true)!.data;
    let obj: GitObject;
    if (p.entryType < 5) {
      obj = { type: OBJECT_TYPE_BY_CODE[p.entryType]!, data: inflated };
      if (!done) await this.#record(p, obj, 0);
    } else {
      const base = await this.#baseOf(p, pending, path);
      if (!done) await this.#resolveDelta(p, base.entry, base.obj, inflated);
      obj = { type: base.obj.type, data: applyDelta(base.obj.data, inflated, this.#maxSize) };
    }
    this.#cache.set(offset, obj);
    path.delete(offset);
    pending.delete(offset);
    return { entry: this.#done.get(offset)!, obj };
  }

  async #baseOf(p: Pending, pending: Map<number, Pending>, path: Set<number>): Promise<{ entry: { depth: number; oid: Oid }; obj: GitObject }> {
    if (p.baseOffset !== undefined) return this.#resolveAt(p.baseOffset, pending, path);
    const oid = p.baseOid!;
    const at = this.#byOid.get(oid);
    if (at !== undefined) return this.#resolveAt(at, pending, path);
    const existing = await this.ctx.readExisting(oid);
    if (!existing) throw new BaseNotYetKnown(p.offset, oid);
    this.#thinBases.add(oid);
    return { entry: { depth: 0, oid }, obj: existing };
  }
}

/** A REF_DELTA's base is not known yet: it may be a delta of this pack resolved in a later round. */
class BaseNotYetKnown extends Error {
  constructor(
    readonly offset: number,
    readonly oid: Oid,
  ) {
    super(`base ${oid} not known yet`);
  }
}
