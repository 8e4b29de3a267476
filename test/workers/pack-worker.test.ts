// Inside workerd: the PackWorker pool's pieces. Result frames and their accounting, the whole-entries
// job (planned from an index, run locally and on a real PackWorker slot reading R2), and the fan-out's
// retries: a slot that throws, hangs or returns a short result is replaced by another slot, then by
// local work, and every batch still comes back whole, in order.
import { env as workerEnv } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { bytesEqual, concatBytes, fromUtf8, utf8 } from "../../engine/bytes.ts";
import { GitError } from "../../engine/errors.ts";
import { hashObject } from "../../engine/hash.ts";
import { CODE_BY_OBJECT_TYPE, OBJECT_TYPE_BY_CODE } from "../../engine/object/types.ts";
import { encodeDelta } from "../../engine/pack/delta.ts";
import { decodeEntryHeader, encodeEntryHeader } from "../../engine/pack/entry-header.ts";
import type { ObjectLocation, PackReader } from "../../engine/storage.ts";
import { toReadableStream } from "../../engine/streams.ts";
import { deflate, inflateEntry } from "../../engine/zlib.ts";
import { sha1 } from "../../engine/hash.ts";
import { frameResults, readFrames } from "../../actors/pack-worker/frames.ts";
import { runJob } from "../../actors/pack-worker/jobs.ts";
import { slotFault } from "../../actors/pack-worker/pack-worker.ts";
import { DEFAULT_POOL_CONFIG, packPoolFromEnv, runBatches, type PackPool, type SlotStub } from "../../actors/pack-worker/pool.ts";
import { planWholeEntries, resolveWholeEntries, type WholeEntriesBatch } from "../../actors/pack-worker/whole-entries.ts";
import { WindowReader } from "../../actors/pack-worker/window-reader.ts";
import type { Env } from "../../actors/env.ts";
import { MemoryStore } from "../engine/memory-store.ts";

const env = workerEnv as unknown as Env;

async function* from<T>(xs: readonly T[]): AsyncGenerator<T> {
  yield* xs;
}
async function collect<T>(src: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of src) out.push(x);
  return out;
}

/**
 * A pack of two files' histories: each version is an OFS_DELTA of the one before it (chains 30 deep),
 * the first version of each is whole. Versions keep their line count, so every delta is small.
 */
function makePack(): Uint8Array {
  const parts: Uint8Array[] = [];
  const header = new Uint8Array(12);
  header.set([0x50, 0x41, 0x43, 0x4b, 0, 0, 0, 2]);
  new DataView(header.buffer).setUint32(8, 62);
  parts.push(header);
  let pos = 12;
  for (const file of ["a", "b"]) {
    const lines = Array.from({ length: 200 }, (_, i) => `${file} line ${i}: ${"x".repeat(i % 40)}`);
    let prev: Uint8Array | undefined;
    let prevAt = 0;
    for (let v = 0; v <= 30; v++) {
      lines[(v * 7) % lines.length] = `${file} line edited in version ${v}`;
      const data = utf8(lines.join("\n") + "\n");
      const at = pos;
      const entry = prev
        ? concatBytes([encodeEntryHeader(6, encodeDelta(prev, data).length, { rel: at - prevAt }), deflate(encodeDelta(prev, data))])
        : concatBytes([encodeEntryHeader(3, data.length), deflate(data)]);
      parts.push(entry);
      pos += entry.length;
      prev = data;
      prevAt = at;
    }
  }
  const body = concatBytes(parts);
  return concatBytes([body, sha1(body)]);
}

const PACK = makePack();
const KEY = "test/pack-worker/history.pack";

async function setup() {
  const store = new MemoryStore();
  const entries = await store.indexPack(KEY, PACK);
  await env.PACKS.put(KEY, PACK);
  // Every other version: each one's base is left out, so each must be resolved whole.
  const targets: ObjectLocation[] = entries.filter((e) => e.depth % 2 === 1).map((e) => ({ ...e, pack: KEY }));
  return { store, targets };
}

/** Checks one whole entry against the object it should be. */
function expectWholeEntry(bytes: Uint8Array, loc: ObjectLocation) {
  const h = decodeEntryHeader(bytes, 12)!;
  expect(h.entryType).toBe(CODE_BY_OBJECT_TYPE[loc.type]);
  const data = inflateEntry(bytes.subarray(h.headerLen), h.size, true)!.data;
  expect(hashObject(OBJECT_TYPE_BY_CODE[h.entryType]!, data)).toBe(loc.oid);
}

describe("result frames", () => {
  const items = [utf8("one"), new Uint8Array(0), utf8("three")];

  it("carry every item, in order, through a byte stream cut anywhere", async () => {
    const bytes = concatBytes(await collect(frameResults(from(items))));
    for (const cut of [1, 3, 7, bytes.length]) {
      const chunks = Array.from({ length: Math.ceil(bytes.length / cut) }, (_, i) => bytes.slice(i * cut, (i + 1) * cut));
      expect((await readFrames(from(chunks), 3, 1 << 20)).map(fromUtf8)).toEqual(["one", "", "three"]);
    }
  });

  it("refuse a stream cut before its end frame, a wrong count and an oversized result", async () => {
    const frames = await collect(frameResults(from(items)));
    const cut = readFrames(from(frames.slice(0, -1)), 3, 1 << 20);
    await expect(cut).rejects.toMatchObject({ code: "pack-worker-bad-result", retryable: true });
    await expect(readFrames(from(frames), 4, 1 << 20)).rejects.toMatchObject({ code: "pack-worker-bad-result" });
    await expect(readFrames(from(frames), 2, 1 << 20)).rejects.toMatchObject({ code: "pack-worker-bad-result" });
    await expect(readFrames(from(frames), 3, 4)).rejects.toMatchObject({ code: "pack-worker-bad-result" });
  });

  it("carry a job's GitError across with its code; any other error breaks the stream", async () => {
    const failing = async function* () {
      yield utf8("one");
      throw new GitError("object-corrupt", "bad object", { retryable: false });
    };
    const err = await readFrames(frameResults(failing()), 2, 1 << 20).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GitError);
    expect(err).toMatchObject({ code: "object-corrupt", message: "bad object", retryable: false });
    const crash = async function* () {
      yield utf8("one");
      throw new TypeError("boom");
    };
    await expect(collect(frameResults(crash()))).rejects.toThrow("boom");
  });
});

describe("the whole-entries job", () => {
  it("plans bounded batches that carry every base their chains need, and resolves each object", async () => {
    const { store, targets } = await setup();
    const batches = await collect(planWholeEntries(store, targets, { objects: 4, bytes: 1 << 20 }));
    expect(batches.length).toBe(Math.ceil(targets.length / 4));
    expect(batches.flatMap((b) => b.items.map((i) => i.oid))).toEqual(targets.map((t) => t.oid));
    for (const b of batches) {
      const have = new Set([...b.items, ...b.context].map((l) => l.oid));
      for (const l of [...b.items, ...b.context]) if (l.baseOid) expect(have.has(l.baseOid)).toBe(true);
      const results = await collect(resolveWholeEntries({ packs: store }, b));
      expect(results.length).toBe(b.items.length);
      results.forEach((r, i) => expectWholeEntry(r, b.items[i]!));
    }
  });

  it("cuts batches by inflated bytes too, one oversized object alone", async () => {
    const { store, targets } = await setup();
    const size = targets[0]!.size;
    const batches = await collect(planWholeEntries(store, targets, { objects: 100, bytes: size * 3 }));
    expect(batches.every((b) => b.items.length <= 3)).toBe(true);
    const alone = await collect(planWholeEntries(store, targets.slice(0, 3), { objects: 100, bytes: 1 }));
    expect(alone.map((b) => b.items.length)).toEqual([1, 1, 1]);
  });

  it("fails loudly when a base on a chain is not stored", async () => {
    const { targets } = await setup();
    const empty = { locate: async () => new Map() };
    await expect(collect(planWholeEntries(empty, targets, { objects: 4, bytes: 1 << 20 }))).rejects.toMatchObject({ code: "object-missing" });
  });

  it("reads each window of adjacent entries once", async () => {
    const { store, targets } = await setup();
    const reads: number[] = [];
    const counting: PackReader = { readRange: (p, o, l) => (reads.push(l), store.readRange(p, o, l)) };
    const [batch] = await collect(planWholeEntries(store, targets, { objects: 1000, bytes: 1 << 30 }));
    const windows = new WindowReader(counting, [...batch!.items, ...batch!.context]);
    await collect(resolveWholeEntries({ packs: windows }, batch!));
    // One read, from the first chain's root to the last entry a chain needs.
    expect(reads.length).toBe(1);
    expect(reads[0]).toBeGreaterThan(PACK.length / 2);
  });

  it("runs on a real PackWorker slot that reads R2 itself, with the same results as locally", async () => {
    const { store, targets } = await setup();
    const [batch] = await collect(planWholeEntries(store, targets, { objects: 1000, bytes: 1 << 30 }));
    const stub = env.PackWorker.getByName("pack-slot-7") as unknown as SlotStub;
    const remote = await readFrames(fromStream(await stub.runBatch("whole-entries", batch)), batch!.items.length, 64 << 20);
    const local = await collect(runJob({ packs: store }, "whole-entries", batch!));
    expect(remote.length).toBe(targets.length);
    expect(sameResults(remote, local)).toBe(true);
  });
});

describe("the pool's configuration", () => {
  it("defaults to 20 slots, caps at 100, and has no slots without the binding or at size 0", () => {
    const ns = env.PackWorker;
    expect(packPoolFromEnv({ PackWorker: ns })).toMatchObject({ ...DEFAULT_POOL_CONFIG, size: 20 });
    expect(packPoolFromEnv({ PackWorker: ns }).slot).toBeTypeOf("function");
    expect(packPoolFromEnv({ PackWorker: ns, PACK_WORKER_POOL: "500" }).size).toBe(100);
    expect(packPoolFromEnv({ PackWorker: ns, PACK_WORKER_POOL: "0" }).slot).toBeUndefined();
    expect(packPoolFromEnv({ PACK_WORKER_POOL: "5" }).slot).toBeUndefined();
    expect(packPoolFromEnv({ PackWorker: ns, PACK_WORKER_THRESHOLD: "0", PACK_WORKER_TIMEOUT_MS: "250", PACK_WORKER_BATCH: "x" })).toMatchObject({
      threshold: 0,
      timeoutMs: 250,
      batchObjects: DEFAULT_POOL_CONFIG.batchObjects,
    });
  });

  it("reads injected faults per slot name", () => {
    const spec = "pack-slot-0:throw, pack-slot-1:hang,pack-slot-2:nonsense";
    expect(["pack-slot-0", "pack-slot-1", "pack-slot-2", "pack-slot-10"].map((s) => slotFault(spec, s))).toEqual(["throw", "hang", undefined, undefined]);
    expect(slotFault(undefined, "pack-slot-0")).toBeUndefined();
  });
});

describe("runBatches", () => {
  async function batchesOf(n: number) {
    const { store, targets } = await setup();
    const batches = await collect(planWholeEntries(store, targets, { objects: n, bytes: 1 << 30 }));
    const expected = await collect(runJob({ packs: store }, "whole-entries", { items: targets, context: batches.flatMap((b) => b.context) }));
    return { store, targets, batches, expected };
  }

  /** A pool whose slots run the job over `packs`, except where `behave` says otherwise. */
  function fakePool(packs: PackReader, behave: Record<string, "throw" | "hang" | "short" | "corrupt">, calls: string[], size = 4): PackPool {
    return {
      size,
      threshold: 0,
      timeoutMs: 100,
      batchObjects: 4,
      slot: async (name) => ({
        async runBatch(kind: string, batch: unknown) {
          calls.push(name);
          const b = batch as WholeEntriesBatch;
          const how = behave[name];
          if (how === "throw") throw new Error(`${name} is down`);
          if (how === "hang") await new Promise(() => undefined);
          if (how === "corrupt") return toReadableStream(frameResults(failWith(new GitError("object-corrupt", "stored entry is corrupt"))));
          const frames = await collect(frameResults(runJob({ packs }, kind as "whole-entries", b)));
          return toReadableStream(from(how === "short" ? [...frames.slice(0, -2), frames.at(-1)!] : frames));
        },
      }),
    };
  }

  it("returns every batch's results in order, from a healthy pool", async () => {
    const { store, batches, expected } = await batchesOf(3);
    const calls: string[] = [];
    const got = (await collect(runBatches(fakePool(store, {}, calls), "whole-entries", from(batches), { local: { packs: failingPacks() } }))).flat();
    expect(sameResults(got, expected)).toBe(true);
    expect(calls.length).toBe(batches.length);
    expect(new Set(calls).size).toBe(4);
  });

  it("retries a slot that throws, hangs or answers short on another slot, then locally, losing nothing", async () => {
    const { store, batches, expected } = await batchesOf(2);
    const calls: string[] = [];
    const pool = fakePool(store, { "pack-slot-0": "throw", "pack-slot-1": "hang", "pack-slot-2": "short" }, calls);
    const got = (await collect(runBatches(pool, "whole-entries", from(batches), { local: { packs: store } }))).flat();
    expect(sameResults(got, expected)).toBe(true);
    for (const s of ["pack-slot-0", "pack-slot-1", "pack-slot-2"]) expect(calls).toContain(s);
    expect(calls.length).toBeGreaterThan(batches.length);
  });

  it("runs everything locally, in order, when the pool has no slots (no binding)", async () => {
    const { store, batches, expected } = await batchesOf(5);
    const got = (await collect(runBatches(packPoolFromEnv({ PACK_WORKER_POOL: "20" }), "whole-entries", from(batches), { local: { packs: store } }))).flat();
    expect(sameResults(got, expected)).toBe(true);
  });

  it("fails with a clear error when a batch fails on every slot and locally", async () => {
    const { batches } = await batchesOf(4);
    const calls: string[] = [];
    const pool = fakePool(failingPacks(), { "pack-slot-0": "throw", "pack-slot-1": "throw", "pack-slot-2": "throw", "pack-slot-3": "throw" }, calls);
    const err = await collect(runBatches(pool, "whole-entries", from(batches), { local: { packs: failingPacks() } })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GitError);
    expect((err as GitError).code).toBe("pack-worker-failed");
    expect((err as GitError).message).toMatch(/pack-slot-\d: pack-slot-\d is down/);
  });

  it("does not retry a job's own non-retryable error: another slot would only repeat it", async () => {
    const { store, batches } = await batchesOf(100);
    const calls: string[] = [];
    const err = await collect(runBatches(fakePool(store, corruptEverywhere(), calls), "whole-entries", from(batches), { local: { packs: failingPacks() } })).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "object-corrupt" });
    expect(calls.length).toBe(1);
  });

  it("runs on real PackWorker slots through the binding", async () => {
    const { batches, expected } = await batchesOf(3);
    const pool = packPoolFromEnv({ PackWorker: env.PackWorker, PACK_WORKER_POOL: "3" });
    const got = (await collect(runBatches(pool, "whole-entries", from(batches), { local: { packs: failingPacks() } }))).flat();
    expect(sameResults(got, expected)).toBe(true);
  });
});

/** Equal lists of byte strings (vitest's deep equality is slow on large byte arrays). */
function sameResults(a: readonly Uint8Array[], b: readonly Uint8Array[]): boolean {
  return a.length === b.length && a.every((x, i) => bytesEqual(x, b[i]!));
}

function corruptEverywhere(): Record<string, "corrupt"> {
  return Object.fromEntries(Array.from({ length: 4 }, (_, i) => [`pack-slot-${i}`, "corrupt" as const]));
}

async function* failWith(e: unknown): AsyncGenerator<Uint8Array> {
  throw e;
}

/** A PackReader that is never expected to be used (or whose use is the failure under test). */
function failingPacks(): PackReader {
  return { readRange: async () => Promise.reject(new TypeError("local packs unavailable")) };
}

async function* fromStream(rs: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = rs.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    yield value;
  }
}
