/**
 * Turns scanned pack entries into indexed objects: hashes whole objects, resolves deltas base first,
 * and reports each object once its id is known. What it knows of each entry lives in an
 * `IndexStaging` (SQLite in the actor), so its memory does not grow with the pack. A base that left
 * the cache is inflated again from the window of recent pack bytes (`remember`); the stored pack is
 * re-read only for deltas whose base is further back than that, or comes later in the pack.
 * Invariants:
 * - `finish()` returns only once every entry is recorded with a verified id, or throws.
 * - A delta's base is another entry of this pack or (thin pack) an object the repo already has;
 *   anything else is `delta-base-missing`. A delta chain longer than `maxDeltaDepth` is refused,
 *   and so is a cycle (which can only arise between REF_DELTAs).
 * - Memory is budgets: the base cache (`cacheBytes`), the window (`windowBytes`), and two slots of
 *   at most 16 MiB each for objects too big for the cache (so chains and fans of big deltas do not
 *   re-read their bases); beyond that, only the objects being resolved.
 * Spec: gitformat-pack(5), "Deltified representation"; git-index-pack(1).
 */
import { GitError } from "../errors.ts";
import { hashObject } from "../hash.ts";
import type { Oid } from "../oid.ts";
import { ByteLru } from "../cache/byte-lru.ts";
import { OBJECT_TYPE_BY_CODE, type GitObject, type ObjectType } from "../object/types.ts";
import { inflateEntry } from "../zlib.ts";
import { applyDelta } from "./delta.ts";
import { PackWindow } from "./pack-window.ts";
import { MemoryIndexStaging, indexedEntry, type IndexStaging, type IndexedEntry, type StagedEntry } from "./index-staging.ts";
import type { ScannedEntry } from "./scan.ts";

export * from "./index-staging.ts";

export type IndexPackErrorCode = "delta-base-missing" | "delta-too-deep" | "delta-cycle";

export interface IndexPackContext<R = IndexedEntry[]> {
  /** Objects the repo already has, for thin-pack bases. */
  readExisting(oid: Oid): Promise<GitObject | null>;
  /** This pack's bytes, once it is stored. */
  readPackRange(offset: number, length: number): Promise<Uint8Array>;
  /**
   * Called once per object, base before delta, with its inflated content; `data` is absent for a
   * blob the scan hashed as it streamed and did not keep.
   */
  onObject(entry: IndexedEntry, data: Uint8Array | undefined): void | Promise<void>;
  /** Where entries are recorded (default: in memory, and `finish()` returns them all). */
  staging?: IndexStaging<R>;
}

export interface IndexPackOptions {
  /**
   * Bytes of resolved content kept for bases (default 16 MiB). A real history's pack puts each file's
   * newest version first and its older versions' deltas far later: at 8 MiB the 2,000-commit bench
   * history inflated 6,359 entries and applied 5,483 deltas a second time (~35% of its push); at
   * 16 MiB, 187 and 134.
   */
  cacheBytes?: number;
  /** Bytes of the pack stream kept to inflate evicted bases again (default 8 MiB), once `remember` is fed. */
  windowBytes?: number;
  maxDeltaDepth?: number;
  maxObjectSize?: number;
}

/** An object with its content, as held for use as a base. */
interface Resolved {
  offset: number;
  oid: Oid;
  type: ObjectType;
  depth: number;
  data: Uint8Array;
}

const DEFERRED_PAGE = 256;
/**
 * Heap bytes a cached object costs besides its content: the typed array and its buffer, the record,
 * its id string, the cache's node and map entry. Counting less lets many tiny objects overrun the budget.
 */
const RESOLVED_OVERHEAD = 400;
/** The largest object a big slot keeps. */
const BIG_SLOT_BYTES = 16 << 20;

export class PackIndexer<R = IndexedEntry[]> {
  #staging: IndexStaging<R>;
  #cache: ByteLru<number, Resolved>;
  /** The two objects most recently made or used that the cache would not keep, newest first. */
  #big: Resolved[] = [];
  #thinBases = new Set<Oid>();
  #window: PackWindow | undefined;
  #windowBytes: number;
  #maxDepth: number;
  #maxSize: number;

  constructor(
    private readonly ctx: IndexPackContext<R>,
    opts: IndexPackOptions = {},
  ) {
    // Without a staging the caller gets the in-memory one, whose finish() gives IndexedEntry[] (R's default).
    this.#staging = ctx.staging ?? (new MemoryIndexStaging() as unknown as IndexStaging<R>);
    this.#cache = new ByteLru(opts.cacheBytes ?? 16 << 20, (o) => o.data.length + RESOLVED_OVERHEAD);
    this.#windowBytes = opts.windowBytes ?? 8 << 20;
    this.#maxDepth = opts.maxDeltaDepth ?? 4095;
    this.#maxSize = opts.maxObjectSize ?? Number.MAX_SAFE_INTEGER;
  }

  /** Ids of repo objects that deltas of this pack use as bases (the pack is thin for them). */
  get thinBases(): ReadonlySet<Oid> {
    return this.#thinBases;
  }

  /** Feeds the pack's bytes in order as the scan consumes them (its `onBytes`), for the window. */
  remember(bytes: Uint8Array): void {
    (this.#window ??= new PackWindow(this.#windowBytes)).append(bytes);
  }

  /**
   * Feeds one scanned entry; resolves it now if its base is at hand (cached, or in the window with
   * its chain), else records it as deferred.
   */
  async add(e: ScannedEntry): Promise<void> {
    const s: StagedEntry = { offset: e.offset, headerLen: e.headerLen, packedLen: e.packedLen, entryType: e.entryType, dataSize: e.size };
    if (e.baseOffset !== undefined) s.baseOffset = e.baseOffset;
    if (e.baseOid !== undefined) s.baseOid = e.baseOid;
    if (e.data === undefined) {
      s.object = { oid: e.oid, type: "blob", size: e.size, depth: 0 };
      this.#staging.put(s);
      await this.ctx.onObject(indexedEntry(s), undefined);
    } else if (e.entryType < 5) {
      await this.#record(s, OBJECT_TYPE_BY_CODE[e.entryType]!, e.data, 0);
    } else {
      const at = e.baseOffset ?? (e.baseOid !== undefined ? this.#staging.offsetOf(e.baseOid) : undefined);
      const base = at === undefined ? undefined : (this.#held(at) ?? (await this.#resolveRecent(at)));
      if (base) await this.#resolveDelta(s, base, e.data);
      else this.#staging.put(s);
    }
  }

  /**
   * Resolves the deferred deltas, reading the stored pack, and returns the staging's result. Works in
   * rounds: a REF_DELTA whose base is another unresolved delta waits for a later round. A round that
   * resolves nothing means a base is missing (or REF_DELTAs name each other in a cycle).
   */
  async finish(): Promise<R> {
    for (;;) {
      let pending = 0;
      let progress = 0;
      let waiting: BaseNotYetKnown | undefined;
      for (let after = -1; ; ) {
        const page = this.#staging.deferredAfter(after, DEFERRED_PAGE);
        if (page.length === 0) break;
        for (const p of page) {
          after = p.offset;
          pending++;
          if (this.#staging.at(p.offset)?.object) {
            progress++; // resolved meanwhile, as the base of an earlier one
            continue;
          }
          try {
            await this.#resolveAt(p.offset, new Set());
            progress++;
          } catch (e) {
            if (!(e instanceof BaseNotYetKnown)) throw e;
            waiting ??= e;
          }
        }
      }
      if (pending === 0) return this.#staging.finish();
      if (progress === 0)
        throw new GitError("delta-base-missing", `delta at offset ${waiting!.offset} needs base ${waiting!.oid}, which is neither in the pack nor in the repository (or the deltas form a cycle)`);
    }
  }

  /** The content of the entry at `offset`, if the cache or a big slot holds it. */
  #held(offset: number): Resolved | undefined {
    const hit = this.#cache.get(offset);
    if (hit) return hit;
    const big = this.#big.find((b) => b.offset === offset);
    if (big) this.#keep(big);
    return big;
  }

  #keep(r: Resolved): void {
    this.#cache.set(r.offset, r);
    if (!this.#cache.has(r.offset) && r.data.length <= BIG_SLOT_BYTES) this.#big = [r, ...this.#big.filter((b) => b.offset !== r.offset)].slice(0, 2);
  }

  /** The entry at `offset` if it and its delta chain can be inflated from the cache and the window. */
  async #resolveRecent(offset: number): Promise<Resolved | undefined> {
    if (!this.#window) return undefined;
    try {
      return await this.#resolveAt(offset, new Set(), true);
    } catch (e) {
      if (e instanceof NotInWindow) return undefined;
      throw e;
    }
  }

  async #resolveDelta(s: StagedEntry, base: Resolved, delta: Uint8Array): Promise<Resolved> {
    const depth = base.depth + 1;
    if (depth > this.#maxDepth) throw new GitError("delta-too-deep", `delta chain at offset ${s.offset} is deeper than ${this.#maxDepth}`);
    s.baseOid = base.oid;
    return this.#record(s, base.type, applyDelta(base.data, delta, this.#maxSize), depth);
  }

  async #record(s: StagedEntry, type: ObjectType, data: Uint8Array, depth: number): Promise<Resolved> {
    const oid = hashObject(type, data);
    s.object = { oid, type, size: data.length, depth };
    this.#staging.put(s);
    const r: Resolved = { offset: s.offset, oid, type, depth, data };
    this.#keep(r);
    await this.ctx.onObject(indexedEntry(s), data);
    return r;
  }

  /**
   * Content of the entry at `offset`, resolving (and recording) it and its bases as needed; with
   * `windowOnly`, throws NotInWindow rather than read the stored pack or the repository.
   */
  async #resolveAt(offset: number, path: Set<number>, windowOnly = false): Promise<Resolved> {
    const held = this.#held(offset);
    if (held) return held;
    if (path.has(offset)) throw new GitError("delta-cycle", `delta at offset ${offset} depends on itself`);
    const s = this.#staging.at(offset);
    if (!s) throw new GitError("delta-base-missing", `no pack entry at offset ${offset}`);
    path.add(offset);
    const at = offset + s.headerLen;
    const len = s.packedLen - s.headerLen;
    let raw = this.#window?.read(at, len);
    if (!raw) {
      if (windowOnly) throw new NotInWindow();
      raw = await this.ctx.readPackRange(at, len);
    }
    const data = inflateEntry(raw, s.dataSize, true)!.data;
    let r: Resolved;
    if (s.entryType < 5 || s.object) {
      // Whole objects are recorded as they are scanned; a delta recorded before lost its content.
      const o = s.object!;
      const content = s.entryType < 5 ? data : applyDelta((await this.#baseOf(s, path, windowOnly)).data, data, this.#maxSize);
      r = { offset, oid: o.oid, type: o.type, depth: o.depth, data: content };
      this.#keep(r);
    } else {
      r = await this.#resolveDelta(s, await this.#baseOf(s, path, windowOnly), data);
    }
    path.delete(offset);
    return r;
  }

  async #baseOf(s: StagedEntry, path: Set<number>, windowOnly: boolean): Promise<Resolved> {
    if (s.baseOffset !== undefined) return this.#resolveAt(s.baseOffset, path, windowOnly);
    const oid = s.baseOid!;
    const at = this.#staging.offsetOf(oid);
    if (at !== undefined) return this.#resolveAt(at, path, windowOnly);
    if (windowOnly) throw new NotInWindow();
    const existing = await this.ctx.readExisting(oid);
    if (!existing) throw new BaseNotYetKnown(s.offset, oid);
    this.#thinBases.add(oid);
    return { offset: -1, oid, type: existing.type, depth: 0, data: existing.data };
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

/** Resolving from memory alone needs bytes that have left the window (or a base from the repository). */
class NotInWindow extends Error {}
