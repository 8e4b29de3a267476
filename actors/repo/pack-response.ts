/**
 * Streams the chosen objects as a pack inside side-band frames, with progress on band 2. Shared by
 * upload-pack v0 and v2. The tree walk's diffs, and deltas that cannot go out as stored, run on the
 * PackWorker pool (past its threshold) or here, ahead of the copy. A clone of everything copies the
 * stored packs whole.
 * Invariants:
 * - Nothing buffers the pack: entries stream out as the writer produces them.
 * - A pack is complete or the client is told why not: a failure after the pack started goes out on
 *   band 3 (git prints it and stops), never as a silently short pack.
 */
import { env as workerEnv } from "cloudflare:workers";
import { GitError, utf8, writePack, writeWholePacks, type ObjectLocation, type WholePack, type ObjectReader, type Oid, type PackReader } from "../../engine/index.ts";
import { chooseObjects, wantsEverything } from "./choose-objects.ts";
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
    const pool = ctx.pool ?? packPoolFromEnv(workerEnv as PackPoolEnv);
    const items = await chooseObjects(ctx, req, pool);
    yield* say(`Enumerating objects: ${items.locations.length}, done.\n`);
    let deltas = 0;
    let resolved = 0;
    for (const l of items.locations) if (l.entryType >= 6) deltas++;
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
    const max = req.sideBand === "64k" ? SIDE_BAND_64K_DATA : SIDE_BAND_DATA;
    for await (const chunk of pack) yield req.sideBand === "none" ? chunk : packLines(chunk, max);
  } catch (e) {
    if (req.sideBand === "none") throw e;
    if (!(e instanceof GitError)) console.error("upload-pack: pack failed", e);
    yield* frame(3, utf8(`pack failed: ${e instanceof GitError ? e.message : "internal error"}\n`));
    return;
  }
  yield* say(summary());
}

/**
 * Pack data as band-1 side-band lines of at most `max` data bytes, all in one buffer: one copy of
 * the data, and one chunk per pack chunk across the actor's stream.
 */
function packLines(data: Uint8Array, max: number): Uint8Array {
  const lines = Math.ceil(data.length / max);
  const out = new Uint8Array(data.length + 5 * lines);
  let o = 0;
  for (let at = 0; at < data.length; at += max) {
    const part = data.subarray(at, at + max);
    const len = (part.length + 5).toString(16).padStart(4, "0");
    for (let i = 0; i < 4; i++) out[o + i] = len.charCodeAt(i);
    out[o + 4] = 1;
    out.set(part, o + 5);
    o += part.length + 5;
  }
  return out;
}

/**
 * The live packs, to send whole, when a fetch wants everything with no filter (`wantsEverything`)
 * and each live pack holds exactly the objects indexed in it (a pack with an entry indexed
 * elsewhere, a duplicate, does not qualify). Then no object row is read: the clone is the packs' bytes.
 */
function wholePacks(store: RepoStore, req: PackRequest): WholePack[] | undefined {
  if (!req.ofsDelta || req.filter || !wantsEverything(store, req)) return undefined;
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
