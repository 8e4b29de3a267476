/**
 * Chooses what a fetch sends and streams it as a pack inside side-band frames, with progress on
 * band 2. Shared by upload-pack v0 and v2.
 * Invariants:
 * - The pack holds every object reachable from the wants and not from the common commits; the fast
 *   path (a full clone of a repo with no stranded objects) sends every live object in stored order.
 * - Nothing buffers the pack: entries stream out as the writer produces them.
 */
import { GitError, enumerateObjects, writePack, utf8, type ObjectLocation, type ObjectReader, type Oid, type PackReader } from "../../engine/index.ts";
import { sideBand, SIDE_BAND_64K_DATA, SIDE_BAND_DATA } from "../../protocol/index.ts";
import type { RepoStore } from "./repo-store.ts";

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
}

/** Checks that every want is an object some ref reaches (allow-reachable-sha1-in-want). */
export function checkWants(store: RepoStore, wants: readonly Oid[]): void {
  const tips = new Set(store.refs().map((r) => r.oid));
  const unknown = wants.filter((w) => !tips.has(w));
  if (unknown.length === 0) return;
  const located = store.locateSync(unknown);
  for (const w of unknown) {
    const loc = located.get(w);
    if (!loc) throw new GitError("not-our-ref", `upload-pack: not our ref ${w}`);
    if (loc.type === "commit" && !reachableFromRefs(store, w)) throw new GitError("not-our-ref", `upload-pack: not our ref ${w}`);
  }
}

function reachableFromRefs(store: RepoStore, oid: Oid): boolean {
  const tips = store.refs().map((r) => store.peel(r.oid).oid);
  return tips.some((t) => store.isAncestor(oid, t));
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

async function chooseObjects(ctx: PackContext, req: PackRequest): Promise<{ locations: ObjectLocation[]; clientHas: Set<Oid> }> {
  const { store } = ctx;
  const refOids = new Set(store.refs().map((r) => r.oid));
  const wants = new Set(req.wants);
  if (req.common.length === 0 && store.getMeta("clean") !== "0" && [...refOids].every((o) => wants.has(o)))
    return { locations: [...store.allLocations()], clientHas: new Set() };

  const commitWants: Oid[] = [];
  const roots: Oid[] = [];
  for (const w of req.wants) {
    const peeled = store.peel(w);
    if (peeled.oid !== w) roots.push(w);
    if (peeled.type === "commit") commitWants.push(peeled.oid);
    else roots.push(peeled.oid);
  }
  const { send, boundary } = store.commitsBetween(commitWants, req.common);
  const sendNodes = store.commitsSync(send);
  const boundaryTrees = new Map([...store.commitsSync(boundary)].map(([oid, c]) => [oid, c.tree]));
  if (req.includeTag) {
    const sent = new Set(send);
    for (const r of store.refs())
      if (r.name.startsWith("refs/tags/") && store.isTag(r.oid) && sent.has(store.peel(r.oid).oid)) roots.push(r.oid);
  }
  const { oids, clientHas } = await enumerateObjects(ctx.objects, { commits: [...sendNodes.values()], boundaryTrees, roots: [...new Set(roots)] });
  const located = store.locateSync(oids);
  const locations = oids.map((o) => {
    const l = located.get(o);
    if (!l) throw new GitError("object-missing", `object ${o} is reachable but not stored`);
    return l;
  });
  locations.sort((a, b) => (a.pack < b.pack ? -1 : a.pack > b.pack ? 1 : a.offset - b.offset));
  return { locations, clientHas };
}
