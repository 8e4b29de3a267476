/**
 * A least-recently-used cache bounded in bytes, not entries.
 * Invariants:
 * - The sum of cached sizes never exceeds the budget; an item larger than a quarter of the budget
 *   is not kept (one huge object must not evict everything else, nor double the memory it costs).
 * - Every operation is O(1): recency is a linked list, so eviction never walks a Map past the
 *   holes its own deletions leave at the front.
 */
interface Node<K, V> {
  key: K;
  value: V;
  size: number;
  /** Toward the least recently used end. */
  older: Node<K, V> | undefined;
  newer: Node<K, V> | undefined;
}

export class ByteLru<K, V> {
  #map = new Map<K, Node<K, V>>();
  #oldest: Node<K, V> | undefined;
  #newest: Node<K, V> | undefined;
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
    this.#unlink(hit);
    this.#link(hit);
    return hit.value;
  }

  has(key: K): boolean {
    return this.#map.has(key);
  }

  set(key: K, value: V): void {
    const size = this.sizeOf(value);
    this.delete(key);
    if (size > this.budget / 4) return;
    const node: Node<K, V> = { key, value, size, older: undefined, newer: undefined };
    this.#map.set(key, node);
    this.#link(node);
    this.#bytes += size;
    while (this.#bytes > this.budget && this.#oldest) this.delete(this.#oldest.key);
  }

  delete(key: K): void {
    const hit = this.#map.get(key);
    if (!hit) return;
    this.#map.delete(key);
    this.#unlink(hit);
    this.#bytes -= hit.size;
  }

  /** Makes `n` the newest. */
  #link(n: Node<K, V>): void {
    n.older = this.#newest;
    n.newer = undefined;
    if (this.#newest) this.#newest.newer = n;
    else this.#oldest = n;
    this.#newest = n;
  }

  #unlink(n: Node<K, V>): void {
    if (n.older) n.older.newer = n.newer;
    else this.#oldest = n.newer;
    if (n.newer) n.newer.older = n.older;
    else this.#newest = n.older;
    n.older = n.newer = undefined;
  }
}
