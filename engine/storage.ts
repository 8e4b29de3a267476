/**
 * The small storage interfaces the engine reads through. `actors/` implements them over R2 and
 * SQLite; tests implement them in memory. The engine never sees a binding.
 * Invariants:
 * - A stored pack is immutable once its key is returned; ranges read from it never change.
 * - `ObjectLocation` describes exactly one entry of one stored, fully verified pack.
 */
import type { Oid } from "./oid.ts";
import type { ObjectType, PackEntryType } from "./object/types.ts";

/** Where one object lives: a pack entry, as the index records it. */
export interface ObjectLocation {
  oid: Oid;
  /** Storage key of the pack that holds the entry. */
  pack: string;
  /** Offset of the entry header in that pack. */
  offset: number;
  /** Bytes of the entry header (type+size varint, plus the ofs/ref base field). */
  headerLen: number;
  /** Bytes of the whole entry: header plus compressed data. */
  packedLen: number;
  /** The entry's own type: a whole object (1-4) or a delta (6, 7). */
  entryType: PackEntryType;
  /** The resolved object's type and inflated size (not the delta's). */
  type: ObjectType;
  size: number;
  /** For deltas: the base object's id. */
  baseOid?: Oid;
  /** For OFS_DELTA: the base entry's offset in the same pack. */
  baseOffset?: number;
  /** Number of delta links to a whole object (0 for whole objects). */
  depth: number;
}

/** Reads byte ranges of stored packs. */
export interface PackReader {
  readRange(pack: string, offset: number, length: number): Promise<Uint8Array>;
}

/** Finds objects by id. Missing ids are absent from the result. */
export interface ObjectIndex {
  locate(oids: readonly Oid[]): Promise<Map<Oid, ObjectLocation>>;
}

/** A commit as the graph table stores it, so walks never inflate commits. */
export interface CommitNode {
  oid: Oid;
  tree: Oid;
  parents: readonly Oid[];
  /** Committer time, seconds since the epoch. */
  time: number;
  /** 1 + max(parent generation); 1 for a root. */
  generation: number;
}

export interface CommitGraph {
  commits(oids: readonly Oid[]): Promise<Map<Oid, CommitNode>>;
}
