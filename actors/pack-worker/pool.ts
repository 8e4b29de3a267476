/**
 * The PackWorker pool: fans bounded batches of a job out to slots `pack-slot-0…N-1` and hands their
 * results back in batch order, working ahead of the consumer.
 * Invariants:
 * - Every batch is accounted for: its results come back complete (exact count, end frame) from a
 *   slot, else from a second slot, else from running it here; if that fails too, the call throws.
 *   A job's own non-retryable GitError (bad data) fails at once: another slot would only repeat it.
 * - At most `ahead` batches are running or waiting to be consumed, so memory follows the batch
 *   size, not the size of the work.
 * - With no PackWorker binding, or a pool of 0, every batch runs here, through the same code.
 */
import { getServerByName } from "partyserver";
import { GitError, fromReadableStream } from "../../engine/index.ts";
import { readFrames } from "./frames.ts";
import { runJob, type JobContext, type JobInput, type JobKind } from "./jobs.ts";
import type { PackWorker } from "./pack-worker.ts";

export type PackPoolErrorCode = "pack-worker-failed" | "pack-worker-timeout";

export const MAX_POOL_SIZE = 100;

export interface PackPoolConfig {
  /** Slots to spread batches over (PACK_WORKER_POOL, default 20, at most 100; 0 = all local). */
  size: number;
  /** Work smaller than this many objects stays local (PACK_WORKER_THRESHOLD, default 256). */
  threshold: number;
  /** One slot's time to return a whole batch (PACK_WORKER_TIMEOUT_MS, default 30 s). */
  timeoutMs: number;
  /** Most objects in one batch (PACK_WORKER_BATCH, default 256). */
  batchObjects: number;
}

export const DEFAULT_POOL_CONFIG: PackPoolConfig = { size: 20, threshold: 256, timeoutMs: 30_000, batchObjects: 256 };

export interface PackPoolEnv {
  PackWorker?: DurableObjectNamespace<PackWorker>;
  PACK_WORKER_POOL?: string;
  PACK_WORKER_THRESHOLD?: string;
  PACK_WORKER_TIMEOUT_MS?: string;
  PACK_WORKER_BATCH?: string;
}

/** What the pool calls on a slot (DO RPC: a bounded batch in, a framed byte stream out). */
export interface SlotStub {
  runBatch(kind: string, batch: unknown): Promise<ReadableStream<Uint8Array>>;
}

export interface PackPool extends PackPoolConfig {
  /** The slot named `name`; absent when there is no PackWorker binding. */
  slot?: (name: string) => Promise<SlotStub>;
}

export function packPoolFromEnv(env: PackPoolEnv): PackPool {
  const num = (v: string | undefined, dflt: number) => {
    const n = Number(v);
    return v !== undefined && v !== "" && Number.isFinite(n) && n >= 0 ? Math.floor(n) : dflt;
  };
  const config: PackPoolConfig = {
    size: Math.min(MAX_POOL_SIZE, num(env.PACK_WORKER_POOL, DEFAULT_POOL_CONFIG.size)),
    threshold: num(env.PACK_WORKER_THRESHOLD, DEFAULT_POOL_CONFIG.threshold),
    timeoutMs: Math.max(1, num(env.PACK_WORKER_TIMEOUT_MS, DEFAULT_POOL_CONFIG.timeoutMs)),
    batchObjects: Math.max(1, num(env.PACK_WORKER_BATCH, DEFAULT_POOL_CONFIG.batchObjects)),
  };
  const ns = env.PackWorker;
  if (!ns || config.size === 0) return config;
  return { ...config, slot: async (name) => (await getServerByName(ns, name)) as unknown as SlotStub };
}

export interface RunBatchesOptions {
  /** Where a batch runs when no slot does (the caller's own R2 reader). */
  local: JobContext;
  /** Batches running or waiting to be consumed (default: the pool size, at most 8; 2 locally). */
  ahead?: number;
  /** Largest result of one batch (default 64 MiB). */
  maxResultBytes?: number;
}

/**
 * Runs `batches` on the pool (or locally when `pool` has no slots) and yields each batch's results
 * in order. Work starts at once, before the first result is asked for.
 */
export function runBatches<K extends JobKind>(
  pool: PackPool | undefined,
  kind: K,
  batches: AsyncIterable<JobInput<K>> | Iterable<JobInput<K>>,
  opts: RunBatchesOptions,
): AsyncGenerator<Uint8Array[]> {
  const remote = pool?.slot && pool.size > 0 ? pool : undefined;
  const runner = new BatchRunner(remote, kind, batches, opts);
  runner.topUp();
  return runner.results();
}

class BatchRunner<K extends JobKind> {
  #queue: Promise<Uint8Array[]>[] = [];
  #src: AsyncIterator<JobInput<K>> | Iterator<JobInput<K>>;
  #done = false;
  #failure: unknown;
  #pulling: Promise<void> | undefined;
  #next = 0;
  #offset: number;
  #stubs = new Map<string, Promise<SlotStub>>();
  #ahead: number;
  #maxBytes: number;

  constructor(
    private readonly pool: PackPool | undefined,
    private readonly kind: K,
    batches: AsyncIterable<JobInput<K>> | Iterable<JobInput<K>>,
    private readonly opts: RunBatchesOptions,
  ) {
    this.#src = Symbol.asyncIterator in batches ? batches[Symbol.asyncIterator]() : batches[Symbol.iterator]();
    this.#offset = pool ? Math.floor(Math.random() * pool.size) : 0;
    this.#ahead = Math.max(1, opts.ahead ?? (pool ? Math.min(pool.size, 8) : 2));
    this.#maxBytes = opts.maxResultBytes ?? 64 << 20;
  }

  /** Starts batches until `ahead` are outstanding; one pull of the source at a time. */
  topUp(): Promise<void> {
    // `finally` runs as a later microtask, so `#pulling` is never left set after the pull ended.
    this.#pulling ??= this.#pull().finally(() => {
      this.#pulling = undefined;
    });
    return this.#pulling;
  }

  async #pull(): Promise<void> {
    try {
      while (!this.#done && this.#queue.length < this.#ahead) {
        const r = await this.#src.next();
        if (r.done) {
          this.#done = true;
          break;
        }
        const run = this.#run(r.value, this.#next++);
        run.catch(() => undefined); // seen by the consumer when it gets there
        this.#queue.push(run);
      }
    } catch (e) {
      this.#failure = e;
      this.#done = true;
    }
  }

  async *results(): AsyncGenerator<Uint8Array[]> {
    for (;;) {
      const head = this.#queue.shift();
      if (!head) {
        if (this.#pulling) await this.#pulling;
        else if (this.#done) {
          if (this.#failure !== undefined) throw this.#failure;
          return;
        } else await this.topUp();
        continue;
      }
      void this.topUp();
      yield await head;
    }
  }

  async #run(batch: JobInput<K>, i: number): Promise<Uint8Array[]> {
    const expected = batch.items.length;
    const failures: string[] = [];
    if (this.pool) {
      const first = (this.#offset + i) % this.pool.size;
      const slots = this.pool.size > 1 ? [first, (first + 1) % this.pool.size] : [first];
      for (const s of slots) {
        const name = `pack-slot-${s}`;
        try {
          return await this.#remote(name, batch, expected);
        } catch (e) {
          if (e instanceof GitError && !e.retryable) throw e;
          const why = e instanceof Error ? e.message : String(e);
          failures.push(`${name}: ${why}`);
          console.warn(`pack-worker: ${this.kind} batch ${i} (${expected} items) failed on ${name}: ${why}; ${s === slots.at(-1) ? "running it locally" : "retrying on another slot"}`);
        }
      }
    }
    try {
      const out: Uint8Array[] = [];
      for await (const r of runJob(this.opts.local, this.kind, batch)) out.push(r);
      if (out.length !== expected) throw new GitError("pack-worker-failed", `${this.kind} batch ${i}: ${out.length} results for ${expected} items`);
      return out;
    } catch (e) {
      if (e instanceof GitError) throw e;
      throw new GitError("pack-worker-failed", `${this.kind} batch ${i} failed on every slot and locally: ${[...failures, String(e)].join("; ")}`, { cause: e });
    }
  }

  /** One slot's attempt, bounded in time from the call to the end frame. */
  async #remote(name: string, batch: JobInput<K>, expected: number): Promise<Uint8Array[]> {
    let stream: ReadableStream<Uint8Array> | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        stream?.cancel().catch(() => undefined);
        reject(new GitError("pack-worker-timeout", `no complete result within ${this.pool!.timeoutMs} ms`, { retryable: true }));
      }, this.pool!.timeoutMs);
    });
    const attempt = (async () => {
      let stub = this.#stubs.get(name);
      if (!stub) this.#stubs.set(name, (stub = this.pool!.slot!(name)));
      stream = await (await stub).runBatch(this.kind, batch);
      return readFrames(fromReadableStream(stream), expected, this.#maxBytes);
    })();
    attempt.catch(() => undefined); // a late failure after the timeout has nobody to tell
    try {
      return await Promise.race([attempt, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
