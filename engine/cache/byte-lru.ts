/**
 * A least-recently-used cache bounded in bytes, not entries.
 * Invariants:
 * - The sum of cached sizes never exceeds the budget; an item larger than a quarter of the budget
 *   is not kept (one huge object must not evict everything else, nor double the memory it costs).
 */
export class ByteLru<K, V> {
  #map = new Map<K, { value: V; size: number }>();
  #bytes = 0;

  constructor(
    readonly budget: number,
    private readonly sizeOf: (v: V) => number,
  ) {}

  get bytes(): number {
    return this.#bytes;
  }

  get(key: K): V | undefined {
    const hit = this.#map.get(key);
    if (!hit) return undefined;
    this.#map.delete(key);
    this.#map.set(key, hit);
    return hit.value;
  }

  has(key: K): boolean {
    return this.#map.has(key);
  }

  set(key: K, value: V): void {
    const size = this.sizeOf(value);
    this.delete(key);
    if (size > this.budget / 4) return;
    this.#map.set(key, { value, size });
    this.#bytes += size;
    for (const [k, v] of this.#map) {
      if (this.#bytes <= this.budget) break;
      this.#map.delete(k);
      this.#bytes -= v.size;
    }
  }

  delete(key: K): void {
    const hit = this.#map.get(key);
    if (!hit) return;
    this.#map.delete(key);
    this.#bytes -= hit.size;
  }
}
