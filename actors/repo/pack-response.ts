/**
 * Streams the chosen objects as a pack inside side-band frames, with progress on band 2. Shared by
 * upload-pack v0 and v2.
 * Invariants:
 * - Nothing buffers the pack: entries stream out as the writer produces them.
 */
import { writePack, utf8, type ObjectReader, type Oid, type PackReader } from "../../engine/index.ts";
import { chooseObjects } from "./choose-objects.ts";
import { sideBand, SIDE_BAND_64K_DATA, SIDE_BAND_DATA } from "../../protocol/index.ts";
import type { RepoStore } from "./repo-store.ts";
import type { ShallowPlan } from "./shallow-plan.ts";
import type { ObjectFilter } from "../../engine/index.ts";

export interface PackContext {
  store: RepoStore;
  objects: ObjectReader;
  packs: PackReader;
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

export async function* streamPack(ctx: PackContext, req: PackRequest): AsyncGenerator<Uint8Array> {
  const frame = (band: 1 | 2, data: Uint8Array): Uint8Array[] =>
    req.sideBand === "none" ? (band === 1 ? [data] : []) : sideBand(band, data, (req.sideBand === "64k" ? SIDE_BAND_64K_DATA : SIDE_BAND_DATA) + 1);
  const say = (msg: string) => (req.progress ? frame(2, utf8(msg)) : []);

  const items = await chooseObjects(ctx, req);
  yield* say(`Enumerating objects: ${items.locations.length}, done.\n`);
  let deltas = 0;
  for (const l of items.locations) if (l.entryType >= 6) deltas++;
  const pack = writePack(items.locations, ctx.packs, {
    ofsDelta: req.ofsDelta,
    clientHas: (oid) => req.thinPack && items.clientHas.has(oid),
    readObject: (loc) => ctx.objects.readAt(loc),
  });
  for await (const chunk of pack) for (const f of frame(1, chunk)) yield f;
  yield* say(`Total ${items.locations.length} (delta ${deltas}), reused ${items.locations.length} (delta ${deltas}), pack-reused ${items.locations.length}\n`);
}
