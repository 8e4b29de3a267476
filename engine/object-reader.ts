/**
 * Reads whole objects by id through the index and stored packs, resolving delta chains, with a
 * byte-bounded cache of resolved content. Batches (`readMany`, `readManyAt`) cost one index look-up
 * per delta-chain level and one ranged read per coalesced window, not one of each per object.
 * Invariants:
 * - Returned content hashes to the requested id's size and type as indexed; a size mismatch throws.
 * - A batch holds its own objects and their chains' bases, never more: the caller bounds the batch.
 */
import { ByteLru } from "./cache/byte-lru.ts";
import { GitError } from "./errors.ts";
import type { Oid } from "./oid.ts";
import type { GitObject } from "./object/types.ts";
import { applyDelta } from "./pack/delta.ts";
import { decodeEntryHeader } from "./pack/entry-header.ts";
import { planReadWindows } from "./pack/read-windows.ts";
import type { ObjectIndex, ObjectLocation, PackReader } from "./storage.ts";
import { inflateEntry } from "./zlib.ts";

export type ObjectReaderErrorCode = "object-missing" | "object-corrupt";

/** Ranged reads of one batch in flight at once: enough to hide storage latency, few enough to bound memory. */
const READS_IN_FLIGHT = 4;
/** Objects resolved together, with their chains: a chunk holds up to 50 bases per object. */
const CHUNK_OBJECTS = 512;
const CHUNK_BYTES = 4 << 20;

export class ObjectReader {
  #cache: ByteLru<Oid, GitObject>;

  constructor(
    private readonly index: ObjectIndex,
    private readonly packs: PackReader,
    cacheBytes = 8 << 20,
  ) {
    // ~400 bytes of heap per cached object besides its content (entry, key, list node), measured
    // in workerd: counting less let a cache of tiny trees hold many times its budget.
    this.#cache = new ByteLru(cacheBytes, (o) => o.data.length + 400);
  }

  async locate(oid: Oid): Promise<ObjectLocation | undefined> {
    return (await this.index.locate([oid])).get(oid);
  }

  /** The object, or null if the repository does not have it. */
  async read(oid: Oid): Promise<GitObject | null> {
    const hit = this.#cache.get(oid);
    if (hit) return hit;
    const loc = await this.locate(oid);
    if (!loc) return null;
    return this.readAt(loc);
  }

  async readAt(loc: ObjectLocation): Promise<GitObject> {
    const hit = this.#cache.get(loc.oid);
    if (hit) return hit;
    const data = inflateStored(await this.packs.readRange(loc.pack, loc.offset, loc.packedLen), loc);
    let obj: GitObject;
    if (loc.entryType < 5) {
      obj = { type: loc.type, data };
    } else {
      const base = loc.baseOid && (await this.read(loc.baseOid));
      if (!base) throw new GitError("object-missing", `delta base ${loc.baseOid} of ${loc.oid} is missing`);
      obj = { type: loc.type, data: applyDelta(base.data, data) };
    }
    return this.#keep(loc, obj);
  }

  /** Locations of many ids in one index look-up; ids the repository lacks are absent. */
  async locateAll(oids: readonly Oid[]): Promise<Map<Oid, ObjectLocation>> {
    return oids.length ? this.index.locate(oids) : new Map();
  }

  /** Many objects by id: cached ones, then the rest with one look-up (see `readManyAt`). Missing ids are absent. */
  async readMany(oids: Iterable<Oid>): Promise<Map<Oid, GitObject>> {
    const out = new Map<Oid, GitObject>();
    const rest: Oid[] = [];
    for (const oid of new Set(oids)) {
      const hit = this.#cache.get(oid);
      if (hit) out.set(oid, hit);
      else rest.push(oid);
    }
    if (rest.length) for (const [oid, obj] of await this.readManyAt((await this.index.locate(rest)).values())) out.set(oid, obj);
    return out;
  }

  /**
   * Many objects at known locations, read in chunks of nearby entries. For each chunk, the bases its
   * delta chains need (and the cache lacks) are located one chain level at a time, one look-up per
   * level; every entry is read in coalesced windows in (pack, offset) order; chains resolve base
   * first, and a base is dropped as soon as its last delta in the chunk is applied.
   */
  async readManyAt(locs: Iterable<ObjectLocation>): Promise<Map<Oid, GitObject>> {
    const out = new Map<Oid, GitObject>();
    const todo = new Map<Oid, ObjectLocation>();
    for (const l of locs) {
      const hit = this.#cache.get(l.oid);
      if (hit) out.set(l.oid, hit);
      else todo.set(l.oid, l);
    }
    const sorted = [...todo.values()].sort((a, b) => (a.pack < b.pack ? -1 : a.pack > b.pack ? 1 : a.offset - b.offset));
    let chunk: ObjectLocation[] = [];
    let bytes = 0;
    for (const l of sorted) {
      if (chunk.length && (chunk.length >= CHUNK_OBJECTS || bytes + l.size > CHUNK_BYTES)) {
        await this.#readChunk(chunk, out);
        chunk = [];
        bytes = 0;
      }
      chunk.push(l);
      bytes += l.size;
    }
    if (chunk.length) await this.#readChunk(chunk, out);
    return out;
  }

  async #readChunk(targets: readonly ObjectLocation[], out: Map<Oid, GitObject>): Promise<void> {
    const stored = new Map<Oid, ObjectLocation>(targets.map((l) => [l.oid, l]));
    // Bases held for deltas still to apply, and how many of those each has left.
    const bases = new Map<Oid, GitObject>();
    const dependents = new Map<Oid, number>();
    let frontier = targets.filter((l) => l.entryType >= 5);
    while (frontier.length) {
      const lookup = new Map<Oid, ObjectLocation>(); // base id -> a delta that needs it
      for (const d of frontier) {
        const base = d.baseOid;
        if (!base) throw new GitError("object-corrupt", `delta ${d.oid} is indexed without its base`);
        if (stored.has(base) || bases.has(base) || lookup.has(base)) continue;
        const hit = this.#cache.get(base);
        if (hit) bases.set(base, hit);
        else lookup.set(base, d);
      }
      const found = lookup.size ? await this.index.locate([...lookup.keys()]) : new Map<Oid, ObjectLocation>();
      frontier = [];
      for (const [base, d] of lookup) {
        const l = found.get(base);
        if (!l) throw new GitError("object-missing", `delta base ${base} of ${d.oid} is missing`);
        stored.set(base, l);
        if (l.entryType >= 5) frontier.push(l);
      }
    }
    for (const l of stored.values()) if (l.entryType >= 5) dependents.set(l.baseOid!, (dependents.get(l.baseOid!) ?? 0) + 1);

    // Inflated entry data: the object itself for a whole entry, the delta for a delta.
    const inflated = new Map<Oid, Uint8Array>();
    const windows = planReadWindows(stored.values());
    let next = 0;
    const reader = async () => {
      while (next < windows.length) {
        const w = windows[next++]!;
        const bytes = await this.packs.readRange(w.pack, w.start, w.end - w.start);
        for (const e of w.entries) inflated.set(e.oid, inflateStored(bytes.subarray(e.offset - w.start, e.offset - w.start + e.packedLen), e));
      }
    };
    await Promise.all(Array.from({ length: Math.min(READS_IN_FLIGHT, windows.length) }, reader));

    const targetIds = new Set(targets.map((l) => l.oid));
    const known = (oid: Oid) => out.get(oid) ?? bases.get(oid);
    const release = (base: Oid) => {
      const left = (dependents.get(base) ?? 1) - 1;
      dependents.set(base, left);
      if (left <= 0) bases.delete(base);
    };
    for (const t of targets) {
      if (out.has(t.oid)) continue;
      const chain: ObjectLocation[] = [];
      let at = t.oid;
      let base: GitObject | undefined;
      while (!(base = known(at))) {
        const loc: ObjectLocation = stored.get(at)!;
        chain.push(loc);
        if (loc.entryType < 5) break;
        if (chain.length > stored.size) throw new GitError("object-corrupt", `delta chain of ${t.oid} loops`);
        at = loc.baseOid!;
      }
      for (let i = chain.length - 1; i >= 0; i--) {
        const loc = chain[i]!;
        const data = inflated.get(loc.oid)!;
        inflated.delete(loc.oid);
        let obj: GitObject;
        if (loc.entryType < 5) obj = { type: loc.type, data };
        else {
          obj = { type: loc.type, data: applyDelta(base!.data, data) };
          release(loc.baseOid!);
        }
        base = this.#keep(loc, obj);
        if (targetIds.has(loc.oid)) out.set(loc.oid, base);
        if ((dependents.get(loc.oid) ?? 0) > 0) bases.set(loc.oid, base);
      }
    }
  }

  #keep(loc: ObjectLocation, obj: GitObject): GitObject {
    if (obj.data.length !== loc.size) throw new GitError("object-corrupt", `object ${loc.oid} is ${obj.data.length} bytes, indexed as ${loc.size}`);
    this.#cache.set(loc.oid, obj);
    return obj;
  }

  /** Reads and fails loudly if missing. */
  async require(oid: Oid): Promise<GitObject> {
    const o = await this.read(oid);
    if (!o) throw new GitError("object-missing", `object ${oid} is missing`);
    return o;
  }
}

/** The inflated data of one stored entry (a whole object, or a delta), from exactly its bytes. */
function inflateStored(entry: Uint8Array, loc: ObjectLocation): Uint8Array {
  const header = decodeEntryHeader(entry, loc.offset);
  if (!header) throw new GitError("object-corrupt", `entry header of ${loc.oid} is cut off`);
  return inflateEntry(entry.subarray(header.headerLen), header.size, true)!.data;
}
