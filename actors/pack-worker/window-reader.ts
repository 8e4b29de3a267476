/**
 * A `PackReader` for a batch that knows up front which entries it will read: their ranges are
 * grouped into windows of adjacent entries, and each window is fetched with one ranged read the
 * first time any entry in it is asked for.
 * Invariants:
 * - Fetched windows are kept within `budget` bytes (least recently used dropped first); a range
 *   outside every window, or a window bigger than the budget allows, is read directly.
 * - Returned bytes are exactly the range asked for, as the underlying reader's would be.
 */
import { ByteLru, planReadWindows, type ObjectLocation, type PackReader, type ReadWindow } from "../../engine/index.ts";

export class WindowReader implements PackReader {
  /** Each pack's windows, in offset order (for the binary search). */
  #windows = new Map<string, ReadWindow[]>();
  #cache: ByteLru<ReadWindow, Uint8Array>;

  constructor(
    private readonly packs: PackReader,
    entries: readonly ObjectLocation[],
    windowBytes = 4 << 20,
    budget = 32 << 20,
  ) {
    this.#cache = new ByteLru(budget, (b) => b.length);
    for (const w of planReadWindows(entries, { maxBytes: windowBytes })) {
      const list = this.#windows.get(w.pack) ?? [];
      list.push(w);
      this.#windows.set(w.pack, list);
    }
  }

  async readRange(pack: string, offset: number, length: number): Promise<Uint8Array> {
    const w = this.#find(pack, offset, length);
    if (!w || w.end - w.start > this.#cache.budget / 4) return this.packs.readRange(pack, offset, length);
    let bytes = this.#cache.get(w);
    if (!bytes) {
      bytes = await this.packs.readRange(pack, w.start, w.end - w.start);
      this.#cache.set(w, bytes);
    }
    return bytes.subarray(offset - w.start, offset - w.start + length);
  }

  #find(pack: string, offset: number, length: number): ReadWindow | undefined {
    const list = this.#windows.get(pack);
    if (!list) return undefined;
    let lo = 0;
    let hi = list.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const w = list[mid]!;
      if (offset < w.start) hi = mid - 1;
      else if (offset >= w.end) lo = mid + 1;
      else return offset + length <= w.end ? w : undefined;
    }
    return undefined;
  }
}
