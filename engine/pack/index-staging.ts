/**
 * Where `PackIndexer` keeps what it knows of each entry while a pack streams in, so its memory does
 * not grow with the pack: the actor stores entries in SQLite, tests and small packs in a Map.
 * Invariants:
 * - One record per entry offset; `put` replaces it (a deferred delta becomes resolved in place).
 * - A record's `object` is set exactly when the entry's object id is known and verified.
 * - Calls are synchronous: the actor's SQLite is, and the indexer must not interleave with itself.
 */
import type { Oid } from "../oid.ts";
import type { ObjectType, PackEntryType } from "../object/types.ts";
import type { ObjectLocation } from "../storage.ts";

/** An object as this pack holds it: a location, before the pack has a storage key. */
export type IndexedEntry = Omit<ObjectLocation, "pack">;

/** One entry's header facts (enough to re-read it from the stored pack), and its object once known. */
export interface StagedEntry {
  offset: number;
  headerLen: number;
  packedLen: number;
  entryType: PackEntryType;
  /** Inflated size of the entry's own data (for a delta: of the delta instructions). */
  dataSize: number;
  baseOffset?: number;
  /** For a REF_DELTA, its base as named; for a resolved OFS_DELTA, its base's id. */
  baseOid?: Oid;
  object?: { oid: Oid; type: ObjectType; size: number; depth: number };
}

export interface IndexStaging<R> {
  put(entry: StagedEntry): void;
  at(offset: number): StagedEntry | undefined;
  /** The offset of a resolved entry whose object is `oid`. */
  offsetOf(oid: Oid): number | undefined;
  /** Up to `limit` unresolved entries after `offset`, in pack order. */
  deferredAfter(offset: number, limit: number): StagedEntry[];
  /** Called once, after every entry is resolved; its result is `PackIndexer.finish()`'s. */
  finish(): R;
}

/** The entry of a resolved record, as the object index stores it. */
export function indexedEntry(s: StagedEntry): IndexedEntry {
  const { object } = s;
  if (!object) throw new RangeError(`entry at ${s.offset} is not resolved`);
  const e: IndexedEntry = { oid: object.oid, offset: s.offset, headerLen: s.headerLen, packedLen: s.packedLen, entryType: s.entryType, type: object.type, size: object.size, depth: object.depth };
  if (s.baseOid !== undefined) e.baseOid = s.baseOid;
  if (s.baseOffset !== undefined) e.baseOffset = s.baseOffset;
  return e;
}

/** In memory: for tests and packs small enough to hold; `finish()` gives every entry in pack order. */
export class MemoryIndexStaging implements IndexStaging<IndexedEntry[]> {
  readonly #entries = new Map<number, StagedEntry>();
  readonly #byOid = new Map<Oid, number>();

  put(entry: StagedEntry): void {
    this.#entries.set(entry.offset, entry);
    if (entry.object && !this.#byOid.has(entry.object.oid)) this.#byOid.set(entry.object.oid, entry.offset);
  }

  at(offset: number): StagedEntry | undefined {
    return this.#entries.get(offset);
  }

  offsetOf(oid: Oid): number | undefined {
    return this.#byOid.get(oid);
  }

  deferredAfter(offset: number, limit: number): StagedEntry[] {
    return [...this.#entries.values()].filter((e) => !e.object && e.offset > offset).sort((a, b) => a.offset - b.offset).slice(0, limit);
  }

  finish(): IndexedEntry[] {
    return [...this.#entries.values()].sort((a, b) => a.offset - b.offset).map(indexedEntry);
  }
}
