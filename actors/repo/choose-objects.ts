/**
 * Chooses what a fetch sends: every object reachable from the wants and not from the common
 * commits. The fast path (a full clone of a repo with no stranded objects) takes every live object
 * in stored order with no walk; with a blob filter, every live object the filter keeps.
 * Invariants:
 * - Wants are checked first: each must be an object some ref reaches (allow-reachable-sha1-in-want),
 *   as reachability.ts decides.
 * - Locations come back sorted by (pack, offset), so a base precedes its OFS_DELTAs.
 */
import { GitError, enumerateObjects, type ObjectFilter, type ObjectLocation, type Oid } from "../../engine/index.ts";
import type { PackContext, PackRequest } from "./pack-response.ts";
import type { PackPool } from "../pack-worker/pool.ts";
import { poolTreeDiffer } from "../pack-worker/tree-diff-pool.ts";
import type { RepoStore } from "./repo-store.ts";
import { reachableObjects, type ReachContext } from "./reachability.ts";

/**
 * Checks that every want, of any type, is an object some ref reaches (allow-reachable-sha1-in-want).
 * A missing and an unreachable want get the same answer, so wants cannot probe for ids.
 */
export async function checkWants(ctx: ReachContext, wants: readonly Oid[]): Promise<void> {
  const reachable = await reachableObjects(ctx, wants);
  const refused = wants.find((w) => !reachable.has(w));
  if (refused) throw new GitError("not-our-ref", `upload-pack: not our ref ${refused}`);
}

/**
 * Splits wants into commits (tags peeled), blobs, and other roots (tag objects, trees). One batch
 * look-up types them all: a partial clone's lazy fetch wants thousands of blobs by id, and each
 * must cost an index row, not a read.
 */
export function peelWants(store: RepoStore, wants: readonly Oid[]): { commits: Oid[]; blobs: Oid[]; roots: Oid[] } {
  const commits: Oid[] = [];
  const blobs: Oid[] = [];
  const roots: Oid[] = [];
  const located = store.locateSync(wants);
  for (const w of wants) {
    const type = located.get(w)?.type;
    if (type === "commit") commits.push(w);
    else if (type === "blob") blobs.push(w);
    else if (type === "tag") {
      roots.push(w);
      const peeled = store.peel(w);
      if (peeled.type === "commit") commits.push(peeled.oid);
      else if (peeled.type === "blob") blobs.push(peeled.oid);
      else roots.push(peeled.oid);
    } else roots.push(w);
  }
  return { commits, blobs, roots };
}

/**
 * True when a fetch wants every object the refs reach: no haves, every ref tip wanted, no object
 * stranded by a delete, forced update or refused push (`meta.clean`), and no shallow cut (a depth
 * past the whole history cuts nothing). Then every indexed object is one the fetch sends, unless
 * the request's filter leaves it out.
 */
export function wantsEverything(store: RepoStore, req: PackRequest): boolean {
  if (req.common.length > 0 || store.getMeta("clean") === "0") return false;
  const wants = new Set(req.wants);
  if (!store.refs().every((r) => wants.has(r.oid))) return false;
  if (!req.shallow) return true;
  return req.shallow.held.length === 0 && req.shallow.send.length === store.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM commits`).one().n;
}

/** `pool` diffs the walk's trees past its threshold. */
export async function chooseObjects(ctx: PackContext, req: PackRequest, pool: PackPool): Promise<{ locations: ObjectLocation[]; clientHas: Set<Oid> }> {
  const { store } = ctx;
  const wants = new Set(req.wants);
  const everything = req.filter?.treeDepth === undefined && wantsEverything(store, req);
  if (everything && !req.filter) return { locations: [...store.allLocations()], clientHas: new Set() };
  const { commits: commitWants, blobs: blobWants, roots } = peelWants(store, req.wants);
  if (everything) return { locations: keptBy(store, req.filter!, new Set(blobWants)), clientHas: new Set() };

  const { send, boundary: held } = req.shallow ? { send: req.shallow.send, boundary: req.shallow.held } : store.commitsBetween(commitWants, req.common);
  const sendNodes = store.commitsSync(send);
  const boundaryTrees = new Map([...store.commitsSync(held)].map(([oid, c]) => [oid, c.tree]));
  if (req.includeTag) {
    const sent = new Set(send);
    for (const r of store.refs())
      if (r.name.startsWith("refs/tags/") && store.isTag(r.oid) && sent.has(store.peel(r.oid).oid)) roots.push(r.oid);
  }
  const { oids, clientHas, located: walked } = await enumerateObjects(ctx.objects, {
    commits: [...sendNodes.values()],
    boundaryTrees,
    roots: [...new Set(roots)],
    boundary: req.shallow?.boundary,
    filter: req.filter,
  }, poolTreeDiffer(pool, store, ctx.objects, { packs: ctx.packs }));
  oids.push(...blobWants); // wanted by id: sent as they are, never read or filtered
  const unique = new Set(oids);
  const located = store.locateSync([...unique].filter((o) => !walked.has(o)));
  const limit = req.filter?.blobLimit;
  const locations: ObjectLocation[] = [];
  for (const o of unique) {
    const l = walked.get(o) ?? located.get(o);
    if (!l) throw new GitError("object-missing", `object ${o} is reachable but not stored`);
    if (limit !== undefined && l.type === "blob" && l.size >= limit && !wants.has(o)) continue;
    locations.push(l);
  }
  locations.sort((a, b) => (a.pack < b.pack ? -1 : a.pack > b.pack ? 1 : a.offset - b.offset));
  return { locations, clientHas };
}

/**
 * Every live object a blob filter keeps, in stored order: all but the blobs it drops, and blobs
 * wanted by id (a ref naming a blob) always. Trees and commits need no walk: every one is sent.
 */
function keptBy(store: RepoStore, filter: ObjectFilter, wantedBlobs: ReadonlySet<Oid>): ObjectLocation[] {
  const drops = (l: ObjectLocation) => filter.noBlobs || (filter.blobLimit !== undefined && l.size >= filter.blobLimit);
  const out: ObjectLocation[] = [];
  for (const l of store.allLocations()) if (l.type !== "blob" || !drops(l) || wantedBlobs.has(l.oid)) out.push(l);
  return out;
}
