/**
 * The last bytes of a pack stream, kept in a ring, so an entry that left the indexer's base cache can
 * be inflated again from memory instead of being read back from storage. Compressed bytes are far
 * smaller than the content they hold (a delta's are tiny), so the window reaches much further back
 * than a cache of inflated objects of the same size.
 * Invariants:
 * - Holds exactly the last `min(budget, seen)` bytes appended; a range is answered whole or not at all.
 */
export class PackWindow {
  readonly #ring: Uint8Array;
  /** Bytes appended so far: the pack offset just past the newest byte held. */
  #end = 0;

  constructor(budget: number) {
    this.#ring = new Uint8Array(budget);
  }

  append(bytes: Uint8Array): void {
    const cap = this.#ring.length;
    if (cap === 0) return;
    const src = bytes.length > cap ? bytes.subarray(bytes.length - cap) : bytes;
    const at = (this.#end + bytes.length - src.length) % cap;
    const first = Math.min(src.length, cap - at);
    this.#ring.set(src.subarray(0, first), at);
    this.#ring.set(src.subarray(first), 0);
    this.#end += bytes.length;
  }

  /** A copy of pack bytes `[offset, offset + length)`, or undefined if any of them has left the ring. */
  read(offset: number, length: number): Uint8Array | undefined {
    const cap = this.#ring.length;
    if (cap === 0 || offset < 0 || offset < this.#end - cap || offset + length > this.#end) return undefined;
    const at = offset % cap;
    const first = Math.min(length, cap - at);
    const out = new Uint8Array(length);
    out.set(this.#ring.subarray(at, at + first), 0);
    out.set(this.#ring.subarray(0, length - first), first);
    return out;
  }
}
