/**
 * Cooperative yielding for long CPU work: a `Pacer` counts units of work (matcher steps, bytes) and,
 * every `every` units, hands back a promise that resolves on a later macrotask, so requests queued
 * on the same thread (other actors under `wrangler dev`, the same actor on Cloudflare) run between
 * slices instead of waiting for a whole grep or diff.
 * Invariants:
 * - Work is counted, not timed: workerd does not advance its clocks during synchronous execution,
 *   so "every few ms" has to be a unit count calibrated to a few ms (see the callers' constants).
 * - `tick` returns undefined between yields, so a hot loop pays no promise per call.
 */

export class Pacer {
  #left: number;

  constructor(readonly every: number) {
    this.#left = every;
  }

  /** Counts `units` of work done; a promise to await once a slice is used up, else undefined. */
  tick(units: number): Promise<void> | undefined {
    this.#left -= units;
    if (this.#left > 0) return undefined;
    this.#left = this.every;
    // A timer, not a microtask: microtasks run before any queued I/O, so they would yield to nothing.
    return new Promise((resolve) => setTimeout(resolve, 0));
  }
}
