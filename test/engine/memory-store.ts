/**
 * An in-memory object store for tests: the engine's `PackReader` and `ObjectIndex` over byte arrays
 * and a map, filled by indexing packs with the engine's own scan and indexer.
 * Invariants:
 * - `readRange` returns exactly the bytes asked for or throws, as a ranged R2 read would.
 * - A pack is stored before it is indexed, so the indexer can re-read it, and never changes after.
 * - The first pack to index an object keeps it, as git keeps the first copy it finds.
 */
import { ByteReader } from "../../engine/byte-reader.ts";
import { GitError } from "../../engine/errors.ts";
import type { Oid } from "../../engine/oid.ts";
import { ObjectReader } from "../../engine/object-reader.ts";
import { PackIndexer, type IndexedEntry } from "../../engine/pack/index-pack.ts";
import { scanPack } from "../../engine/pack/scan.ts";
import type { ObjectIndex, ObjectLocation, PackReader } from "../../engine/storage.ts";

export class MemoryStore implements PackReader, ObjectIndex {
  readonly #packs = new Map<string, Uint8Array>();
  readonly #index = new Map<Oid, ObjectLocation>();

  async readRange(pack: string, offset: number, length: number): Promise<Uint8Array> {
    const bytes = this.#packs.get(pack);
    if (!bytes) throw new GitError("pack-missing", `no pack ${pack}`);
    if (offset < 0 || length < 0 || offset + length > bytes.length)
      throw new GitError("pack-range-invalid", `range ${offset}+${length} is outside ${pack} (${bytes.length} bytes)`);
    return bytes.slice(offset, offset + length);
  }

  async locate(oids: readonly Oid[]): Promise<Map<Oid, ObjectLocation>> {
    const found = new Map<Oid, ObjectLocation>();
    for (const oid of oids) {
      const loc = this.#index.get(oid);
      if (loc) found.set(oid, loc);
    }
    return found;
  }

  /** Every indexed object, in pack order. */
  get locations(): ObjectLocation[] {
    return [...this.#index.values()].sort((a, b) => (a.pack === b.pack ? a.offset - b.offset : a.pack < b.pack ? -1 : 1));
  }

  /** Stores and indexes a whole pack; thin-pack bases are read from what the store already has. */
  async indexPack(key: string, bytes: Uint8Array): Promise<IndexedEntry[]> {
    if (this.#packs.has(key)) throw new GitError("pack-exists", `pack ${key} is already stored`);
    this.#packs.set(key, bytes);
    const existing = new ObjectReader(this, this);
    const indexer = new PackIndexer({
      readExisting: (oid) => existing.read(oid),
      readPackRange: (offset, length) => this.readRange(key, offset, length),
      onObject: () => {},
    });
    for await (const item of scanPack(new ByteReader(once(bytes)))) if (item.kind === "entry") await indexer.add(item);
    const entries = await indexer.finish();
    for (const e of entries) if (!this.#index.has(e.oid)) this.#index.set(e.oid, { ...e, pack: key });
    return entries;
  }
}

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}
