/**
 * The repository's cap on expensive RPC calls in flight (grep, diff, log of a path): past it a call
 * is refused `busy` (429) at once instead of queueing, so one repo's abuse leaves its own git
 * traffic, and the isolate it shares, room to run.
 * Invariants:
 * - A call counts from admission until its handler settles, thrown or not.
 */
import { GitError } from "../../engine/index.ts";

export const DEFAULT_EXPENSIVE_CALLS = 2;
/** An expensive call runs for a second or two; a retry after one usually finds a free place. */
const BUSY_RETRY_SECONDS = 1;

export class ExpensiveCalls {
  #running = 0;

  constructor(readonly max: number) {}

  async run<T>(work: () => T | Promise<T>): Promise<T> {
    if (this.#running >= this.max) {
      const message = `this repository is running ${this.max} expensive calls; retry in ${BUSY_RETRY_SECONDS} s`;
      throw new GitError("busy", message, { data: { retryAfter: BUSY_RETRY_SECONDS }, retryable: true });
    }
    this.#running++;
    try {
      return await work();
    } finally {
      this.#running--;
    }
  }
}

/** The cap from `EXPENSIVE_CALLS_PER_REPO` (a positive integer), else the default. */
export function expensiveCallsFromEnv(value: string | undefined): ExpensiveCalls {
  const n = Number(value);
  return new ExpensiveCalls(Number.isInteger(n) && n > 0 ? n : DEFAULT_EXPENSIVE_CALLS);
}
