/**
 * Which objects a caller may name by id: those the refs reach (every ref, tags peeled), as git's
 * uploadpack.allowReachableSHA1InWant. An unreachable object is answered as a missing one.
 * Invariants and cost, cheapest first:
 * - A ref tip: free. An object of a pack newer than the last stranding (`reach.floor`: the highest
 *   pack id when a ref was last deleted or forced, or a push left objects no ref reaches): one
 *   indexed look-up, no walk, since pushes are connectivity-checked and refs since only moved ahead.
 * - Commits: one recursive SQL walk from the peeled tips through commits no older (by generation)
 *   than the oldest asked; bounded by the history above it, never by trees. Tags: a walk over `tags`.
 * - Older trees and blobs: the `reach_closure` table, a clone's object set (`enumerateObjects` over
 *   every reachable commit) built lazily, once per ref state, when such an id is asked after refs
 *   moved. Its time and memory are an unclean full clone's enumeration: bounded by the repo, not by
 *   the request. An unreachable id asked after each ref move costs one rebuild per move.
 */
import { env as workerEnv } from "cloudflare:workers";
import { enumerateObjects, type ObjectReader, type ObjectType, type Oid, type PackReader } from "../../engine/index.ts";
import { packPoolFromEnv, type PackPool, type PackPoolEnv } from "../pack-worker/pool.ts";
import { poolTreeDiffer } from "../pack-worker/tree-diff-pool.ts";
import type { RepoStore } from "./repo-store.ts";

export interface ReachContext {
  store: RepoStore;
  objects: ObjectReader;
  packs: PackReader;
  pool?: PackPool;
}

const BATCH = 5000;
/** Candidates an abbreviated id's look-up reads per query. */
const PREFIX_PAGE = 64;

interface Located {
  type: ObjectType;
  pack: number;
}

/** Closure state: the ref_log seq it was built at and the stranding count then. */
interface ClosureKey {
  seq: number;
  strands: number;
}

/** One closure build per store at a time: concurrent lazy fetches share it. */
const building = new WeakMap<RepoStore, { key: ClosureKey; done: Promise<void> }>();

/** The ids of `oids` that the refs reach, with their types; missing and unreachable ids are left out. */
export async function reachableObjects(ctx: ReachContext, oids: readonly Oid[]): Promise<Map<Oid, ObjectType>> {
  const { store } = ctx;
  const located = locate(store, oids);
  const out = new Map<Oid, ObjectType>();
  const tips = new Set(store.refs().map((r) => r.oid));
  const floor = reachFloor(store);
  const commits: Oid[] = [];
  const tags: Oid[] = [];
  const others: Oid[] = [];
  for (const [oid, l] of located) {
    if (tips.has(oid) || l.pack > floor) out.set(oid, l.type);
    else if (l.type === "commit") commits.push(oid);
    else if (l.type === "tag") tags.push(oid);
    else others.push(oid);
  }
  for (const oid of reachableCommits(store, commits)) out.set(oid, "commit");
  for (const oid of reachableTags(store, tags)) out.set(oid, "tag");
  if (others.length) for (const oid of await inClosure(ctx, others)) out.set(oid, located.get(oid)!.type);
  return out;
}

/**
 * Up to two reachable ids starting with `hex` (enough to tell unique from ambiguous): unreachable
 * objects neither match nor make a prefix ambiguous.
 */
export async function expandReachablePrefix(ctx: ReachContext, hex: string): Promise<Oid[]> {
  const found: Oid[] = [];
  // Hex digits sort below "g", so [hex, hex + "g") is every id that starts with hex.
  for (let after = hex; found.length < 2; ) {
    const page = ctx.store.sql
      .exec<{ oid: string }>(
        `SELECT oid FROM objects WHERE oid > ? AND oid < ? ORDER BY oid LIMIT ?`, after, hex + "g", PREFIX_PAGE)
      .toArray()
      .map((r) => r.oid as Oid);
    if (page.length === 0) break;
    const reachable = await reachableObjects(ctx, page);
    found.push(...page.filter((o) => reachable.has(o)));
    after = page[page.length - 1]!;
  }
  return found.slice(0, 2);
}

/**
 * Records that objects may have lost their last ref (a delete, a forced update, a push that left
 * objects no ref reaches), inside the transaction that did it: no more fast-path clones, and objects
 * of the packs up to now are reachable only as the commit walk or the closure says.
 */
export function markStranded(store: RepoStore): void {
  store.setMeta("clean", "0");
  const top = store.sql.exec<{ id: number | null }>(`SELECT max(id) AS id FROM packs`).one().id ?? 0;
  store.setMeta("reach.floor", String(top));
  store.setMeta("reach.strands", String(strands(store) + 1));
}

function reachFloor(store: RepoStore): number {
  const floor = store.getMeta("reach.floor");
  if (floor !== undefined) return Number(floor);
  // A repo stranded before floors were kept: no pack is known to hold only reachable objects.
  return store.getMeta("clean") === "0" ? Number.MAX_SAFE_INTEGER : 0;
}

function strands(store: RepoStore): number {
  return Number(store.getMeta("reach.strands") ?? 0);
}

function locate(store: RepoStore, oids: readonly Oid[]): Map<Oid, Located> {
  const out = new Map<Oid, Located>();
  for (let i = 0; i < oids.length; i += BATCH) {
    const rows = store.sql.exec<{ oid: string; type: string; pack: number }>(
      `SELECT o.oid, o.type, o.pack FROM json_each(?) j JOIN objects o ON o.oid = j.value`,
      JSON.stringify(oids.slice(i, i + BATCH)),
    );
    for (const r of rows) out.set(r.oid as Oid, { type: r.type as ObjectType, pack: r.pack });
  }
  return out;
}

/** The commits of `oids` that are ancestors of a peeled ref tip (or tips themselves). */
function reachableCommits(store: RepoStore, oids: readonly Oid[]): Oid[] {
  if (oids.length === 0) return [];
  const peeled = store.refs().map((r) => store.peel(r.oid));
  const tips = [...new Set(peeled.filter((p) => p.type === "commit").map((p) => p.oid))];
  // Ancestors have lower generations, so the walk never needs to go below the oldest asked commit.
  return store.sql
    .exec<{ oid: string }>(
      `WITH RECURSIVE
         floor(g) AS (SELECT min(c.generation) FROM json_each(?2) j JOIN commits c ON c.oid = j.value),
         anc(oid) AS (SELECT c.oid FROM json_each(?1) j JOIN commits c ON c.oid = j.value
             WHERE c.generation >= (SELECT g FROM floor)
           UNION SELECT p.parent FROM commit_parents p JOIN anc a ON p.child = a.oid JOIN commits c ON c.oid = p.parent
           WHERE c.generation >= (SELECT g FROM floor))
       SELECT a.oid FROM anc a JOIN json_each(?2) q ON q.value = a.oid`,
      JSON.stringify(tips),
      JSON.stringify(oids),
    )
    .toArray()
    .map((r) => r.oid as Oid);
}

/** The tags of `oids` that a ref names, or a tag a ref names (and so on). */
function reachableTags(store: RepoStore, oids: readonly Oid[]): Oid[] {
  if (oids.length === 0) return [];
  return store.sql
    .exec<{ oid: string }>(
      `WITH RECURSIVE named(oid) AS (SELECT t.oid FROM refs r JOIN tags t ON t.oid = r.oid
           UNION SELECT t.oid FROM named n JOIN tags up ON up.oid = n.oid AND up.target_type = 'tag'
             JOIN tags t ON t.oid = up.target)
       SELECT n.oid FROM named n JOIN json_each(?) q ON q.value = n.oid`,
      JSON.stringify(oids),
    )
    .toArray()
    .map((r) => r.oid as Oid);
}

/**
 * The ids of `oids` (trees and blobs) in the closure of the refs. A closure built before refs moved
 * still proves reachability if nothing was stranded since; an id it lacks is asked of a new one.
 */
async function inClosure(ctx: ReachContext, oids: readonly Oid[]): Promise<Set<Oid>> {
  const { store } = ctx;
  const now: ClosureKey = { seq: refSeq(store), strands: strands(store) };
  const built = closureKey(store);
  let found = new Set<Oid>();
  if (built && built.strands === now.strands) {
    found = closureRows(store, oids);
    if (found.size === oids.length || built.seq === now.seq) return found;
  }
  await buildClosure(ctx, now);
  return closureRows(store, oids);
}

function closureRows(store: RepoStore, oids: readonly Oid[]): Set<Oid> {
  const out = new Set<Oid>();
  for (let i = 0; i < oids.length; i += BATCH) {
    const rows = store.sql.exec<{ oid: string }>(
      `SELECT c.oid FROM json_each(?) j JOIN reach_closure c ON c.oid = j.value`,
      JSON.stringify(oids.slice(i, i + BATCH)),
    );
    for (const r of rows) out.add(r.oid as Oid);
  }
  return out;
}

function closureKey(store: RepoStore): ClosureKey | undefined {
  const text = store.getMeta("reach.closure");
  return text === undefined ? undefined : (JSON.parse(text) as ClosureKey);
}

function refSeq(store: RepoStore): number {
  return store.sql.exec<{ seq: number | null }>(`SELECT max(seq) AS seq FROM ref_log`).one().seq ?? 0;
}

function buildClosure(ctx: ReachContext, key: ClosureKey): Promise<void> {
  const running = building.get(ctx.store);
  if (running && running.key.seq === key.seq && running.key.strands === key.strands) return running.done;
  const done = walkClosure(ctx, key).finally(() => {
    if (building.get(ctx.store)?.done === done) building.delete(ctx.store);
  });
  building.set(ctx.store, { key, done });
  return done;
}

/** Every object the refs reach, by the walk a clone takes, written as the closure of `key`'s state. */
async function walkClosure(ctx: ReachContext, key: ClosureKey): Promise<void> {
  const { store } = ctx;
  const tips: Oid[] = [];
  const roots: Oid[] = [];
  for (const r of store.refs()) {
    const peeled = store.peel(r.oid);
    if (peeled.type === "commit") tips.push(peeled.oid);
    if (peeled.oid !== r.oid || peeled.type !== "commit") roots.push(r.oid);
  }
  const nodes = store.commitsSync([...store.closure(tips)]);
  const pool = ctx.pool ?? packPoolFromEnv(workerEnv as PackPoolEnv);
  const { oids } = await enumerateObjects(
    ctx.objects,
    { commits: [...nodes.values()], boundaryTrees: new Map(), roots: [...new Set(roots)] },
    poolTreeDiffer(pool, store, ctx.objects, { packs: ctx.packs }),
  );
  store.transact(() => {
    store.sql.exec(`DELETE FROM reach_closure`);
    for (let i = 0; i < oids.length; i += BATCH)
      store.sql.exec(
        `INSERT OR IGNORE INTO reach_closure (oid) SELECT value FROM json_each(?)`,
        JSON.stringify(oids.slice(i, i + BATCH)),
      );
    store.setMeta("reach.closure", JSON.stringify(key));
  });
}
