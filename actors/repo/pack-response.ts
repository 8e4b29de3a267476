/**
 * Streams the chosen objects as a pack inside side-band frames, with progress on band 2. Shared by
 * upload-pack v0 and v2. Deltas that cannot go out as stored are resolved by the PackWorker pool
 * (past its threshold) or here, ahead of the copy. A clone of everything copies the stored packs whole.
 * Invariants:
 * - Nothing buffers the pack: entries stream out as the writer produces them.
 * - A pack is complete or the client is told why not: a failure after the pack started goes out on
 *   band 3 (git prints it and stops), never as a silently short pack.
 */
import { env as workerEnv } from "cloudflare:workers";
import { GitError, concatBytes, utf8, writePack, writeWholePacks, type ObjectLocation, type WholePack, type ObjectReader, type Oid, type PackReader } from "../../engine/index.ts";
import { chooseObjects } from "./choose-objects.ts";
import { sideBand, SIDE_BAND_64K_DATA, SIDE_BAND_DATA } from "../../protocol/index.ts";
import { packPoolFromEnv, runBatches, type PackPool, type PackPoolEnv } from "../pack-worker/pool.ts";
import { planWholeEntries } from "../pack-worker/whole-entries.ts";
import type { RepoStore } from "./repo-store.ts";
import type { ShallowPlan } from "./shallow-plan.ts";
import type { ObjectFilter } from "../../engine/index.ts";

export interface PackContext {
  store: RepoStore;
  objects: ObjectReader;
  packs: PackReader;
  /** The PackWorker pool; by default configured from the Worker's env (wrangler vars). */
  pool?: PackPool;
}

export interface PackRequest {
  wants: readonly Oid[];
  common: readonly Oid[];
  ofsDelta: boolean;
  thinPack: boolean;
  includeTag: boolean;
  /** Side-band flavour, or none (raw pack bytes). */
  sideBand: "64k" | "small" | "none";
  progress: boolean;
  /** A shallow fetch: the commits to send and the boundary, already planned. */
  shallow?: ShallowPlan;
  /** A partial clone's object filter. */
  filter?: ObjectFilter;
}

/** Inflated bytes of the objects in one batch of resolved deltas. */
const BATCH_BYTES = 4 << 20;

export async function* streamPack(ctx: PackContext, req: PackRequest): AsyncGenerator<Uint8Array> {
  const frame = (band: 1 | 2 | 3, data: Uint8Array): Uint8Array[] =>
    req.sideBand === "none" ? (band === 1 ? [data] : []) : sideBand(band, data, (req.sideBand === "64k" ? SIDE_BAND_64K_DATA : SIDE_BAND_DATA) + 1);
  const say = (msg: string) => (req.progress ? frame(2, utf8(msg)) : []);

  let pack: AsyncGenerator<Uint8Array>;
  let summary: () => string;
  const whole = wholePacks(ctx.store, req);
  if (whole) {
    const count = whole.reduce((n, p) => n + p.objects, 0);
    yield* say(`Enumerating objects: ${count}, done.\n`);
    pack = writeWholePacks(whole, ctx.packs);
    summary = () => `Total ${count}, reused ${count}, pack-reused ${count}\n`;
  } else {
    const items = await chooseObjects(ctx, req);
    yield* say(`Enumerating objects: ${items.locations.length}, done.\n`);
    let deltas = 0;
    let resolved = 0;
    for (const l of items.locations) if (l.entryType >= 6) deltas++;
    const pool = ctx.pool ?? packPoolFromEnv(workerEnv as PackPoolEnv);
    pack = writePack(items.locations, ctx.packs, {
      ofsDelta: req.ofsDelta,
      clientHas: (oid) => req.thinPack && items.clientHas.has(oid),
      readObject: (loc) => ctx.objects.readAt(loc),
      wholeEntries: (locs) => {
        resolved = locs.length;
        return wholeEntries(ctx, pool, locs);
      },
    });
    summary = () => {
      const reused = items.locations.length - resolved;
      return `Total ${items.locations.length} (delta ${deltas - resolved}), reused ${reused} (delta ${deltas - resolved}), pack-reused ${reused}\n`;
    };
  }
  try {
    // One chunk of side-band lines per pack chunk: fewer, larger chunks cross the actor's stream.
    for await (const chunk of pack) {
      const lines = frame(1, chunk);
      yield lines.length === 1 ? lines[0]! : concatBytes(lines);
    }
  } catch (e) {
    if (req.sideBand === "none") throw e;
    if (!(e instanceof GitError)) console.error("upload-pack: pack failed", e);
    yield* frame(3, utf8(`pack failed: ${e instanceof GitError ? e.message : "internal error"}\n`));
    return;
  }
  yield* say(summary());
}

/**
 * The live packs, to send whole, when a fetch wants everything (chooseObjects' fast path: no haves,
 * no depth or filter, every ref wanted, nothing stranded) and each live pack holds exactly the
 * objects indexed in it (a pack with an entry indexed elsewhere, a duplicate, does not qualify).
 * Then no object row is read: the clone is the packs' bytes.
 */
function wholePacks(store: RepoStore, req: PackRequest): WholePack[] | undefined {
  if (!req.ofsDelta || req.shallow || req.filter || req.common.length > 0 || store.getMeta("clean") === "0") return undefined;
  const wants = new Set(req.wants);
  if (!store.refs().every((r) => wants.has(r.oid))) return undefined;
  const packs = store.sql
    .exec<{ key: string; bytes: number; objects: number; indexed: number }>(
      `SELECT p.key, p.bytes, p.objects, (SELECT count(*) FROM objects o WHERE o.pack = p.id) AS indexed
       FROM packs p WHERE p.state = 'live' ORDER BY p.id`,
    )
    .toArray();
  if (packs.length === 0 || packs.some((p) => p.indexed !== p.objects)) return undefined;
  return packs.map(({ key, bytes, objects }) => ({ key, bytes, objects }));
}

/** Whole entries for deltas whose base is not sent: on the pool past its threshold, else here. Starts at once. */
function wholeEntries(ctx: PackContext, pool: PackPool, locs: readonly ObjectLocation[]): AsyncGenerator<Uint8Array> {
  const batches = planWholeEntries(ctx.store, locs, { objects: pool.batchObjects, bytes: BATCH_BYTES });
  const results = runBatches(locs.length >= pool.threshold ? pool : undefined, "whole-entries", batches, { local: { packs: ctx.packs } });
  return (async function* () {
    for await (const r of results) yield* r;
  })();
}
