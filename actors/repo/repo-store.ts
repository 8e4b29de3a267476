/**
 * The repository's SQLite state: refs, HEAD, the object index and the commit graph. It implements
 * the engine's `ObjectIndex` and `CommitGraph` over SQL.
 * Invariants:
 * - Batch look-ups pass ids as one JSON array (`json_each`), never as one bound variable per id.
 * - Index writes happen only inside `transact`, so a push's rows, its pack state and its ref moves
 *   land together or not at all. (A push in progress writes only its own staging tables.)
 * - A new store empties the staging tables: it is made once per actor start, before any push runs,
 *   so whatever they hold was left by a push that died with the previous instance.
 */
import type { CommitNode, CommitGraph, ObjectIndex, ObjectLocation, Oid, IndexedEntry, ObjectType, PackEntryType } from "../../engine/index.ts";
import { PUSH_STAGING_TABLES, SCHEMA } from "./schema.ts";

const BATCH = 5000;

interface ObjectRow extends Record<string, SqlStorageValue> {
  oid: string;
  key: string;
  offset: number;
  header_len: number;
  packed_len: number;
  entry_type: number;
  type: string;
  size: number;
  base_oid: string | null;
  base_offset: number | null;
  depth: number;
}

export interface RefRow {
  name: string;
  oid: Oid;
}

export interface CommitRow {
  oid: Oid;
  tree: Oid;
  parents: Oid[];
  time: number;
}

export class RepoStore implements ObjectIndex, CommitGraph {
  constructor(private readonly storage: DurableObjectStorage) {
    for (const ddl of SCHEMA) storage.sql.exec(ddl);
    for (const table of PUSH_STAGING_TABLES) storage.sql.exec(`DELETE FROM ${table}`);
  }

  get sql(): SqlStorage {
    return this.storage.sql;
  }

  transact<T>(fn: () => T): T {
    return this.storage.transactionSync(fn);
  }

  // --- meta -------------------------------------------------------------
  getMeta(key: string): string | undefined {
    const rows = this.sql.exec<{ value: string }>(`SELECT value FROM meta WHERE key = ?`, key).toArray();
    return rows[0]?.value;
  }

  setMeta(key: string, value: string): void {
    this.sql.exec(`INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`, key, value);
  }

  // --- refs -------------------------------------------------------------
  refs(): RefRow[] {
    return this.sql.exec<{ name: string; oid: string }>(`SELECT name, oid FROM refs ORDER BY name`).toArray() as RefRow[];
  }

  ref(name: string): Oid | undefined {
    return this.sql.exec<{ oid: string }>(`SELECT oid FROM refs WHERE name = ?`, name).toArray()[0]?.oid as Oid | undefined;
  }

  setRef(name: string, oid: Oid | null): void {
    if (oid === null) this.sql.exec(`DELETE FROM refs WHERE name = ?`, name);
    else this.sql.exec(`INSERT INTO refs (name, oid) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET oid = excluded.oid`, name, oid);
  }

  // --- objects ----------------------------------------------------------
  async locate(oids: readonly Oid[]): Promise<Map<Oid, ObjectLocation>> {
    return this.locateSync(oids);
  }

  locateSync(oids: readonly Oid[]): Map<Oid, ObjectLocation> {
    const out = new Map<Oid, ObjectLocation>();
    for (let i = 0; i < oids.length; i += BATCH) {
      const rows = this.sql
        .exec<ObjectRow>(
          `SELECT o.oid, p.key, o.offset, o.header_len, o.packed_len, o.entry_type, o.type, o.size, o.base_oid, o.base_offset, o.depth
           FROM json_each(?) j JOIN objects o ON o.oid = j.value JOIN packs p ON p.id = o.pack`,
          JSON.stringify(oids.slice(i, i + BATCH)),
        )
        .toArray();
      for (const r of rows) out.set(r.oid as Oid, toLocation(r));
    }
    return out;
  }

  /** Ids from `oids` that the repository has. */
  existing(oids: Iterable<Oid>): Set<Oid> {
    const all = [...oids];
    const out = new Set<Oid>();
    for (let i = 0; i < all.length; i += BATCH) {
      const rows = this.sql.exec<{ oid: string }>(`SELECT o.oid FROM json_each(?) j JOIN objects o ON o.oid = j.value`, JSON.stringify(all.slice(i, i + BATCH)));
      for (const r of rows) out.add(r.oid as Oid);
    }
    return out;
  }

  /** Every indexed object, in stored order (pack, then offset). */
  *allLocations(): Generator<ObjectLocation> {
    const cursor = this.sql.exec<ObjectRow>(
      `SELECT o.oid, p.key, o.offset, o.header_len, o.packed_len, o.entry_type, o.type, o.size, o.base_oid, o.base_offset, o.depth
       FROM objects o JOIN packs p ON p.id = o.pack WHERE p.state = 'live' ORDER BY o.pack, o.offset`,
    );
    for (const r of cursor) yield toLocation(r);
  }

  objectCount(): number {
    return this.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM objects`).one().n;
  }

  // --- packs ------------------------------------------------------------
  addPack(key: string, state: "staging" | "live" | "garbage", now: number, completes?: number): number {
    return this.sql
      .exec<{ id: number }>(`INSERT INTO packs (key, state, created_at, completes) VALUES (?, ?, ?, ?) RETURNING id`, key, state, now, completes ?? null)
      .one().id;
  }

  /** The R2 multipart upload of a staging pack, so GC can abort one that a crash cut off. */
  setPackUpload(id: number, uploadId: string): void {
    this.sql.exec(`UPDATE packs SET upload_id = ? WHERE id = ?`, uploadId, id);
  }

  /** Moves a pack and its completion pack together. */
  setPackFamilyState(id: number, state: "live" | "garbage", reason?: string): void {
    this.sql.exec(`UPDATE packs SET state = ?, reason = coalesce(?, reason) WHERE completes = ?`, state, reason ?? null, id);
  }

  setPackState(id: number, state: "staging" | "live" | "garbage", fields: { bytes?: number; objects?: number; reason?: string } = {}): void {
    this.sql.exec(
      `UPDATE packs SET state = ?, bytes = coalesce(?, bytes), objects = coalesce(?, objects), reason = coalesce(?, reason) WHERE id = ?`,
      state,
      fields.bytes ?? null,
      fields.objects ?? null,
      fields.reason ?? null,
      id,
    );
  }

  /**
   * Indexes a verified pack's entries; an id the repo already has keeps its first location. Rows go
   * in as JSON arrays, thousands per statement: one statement per row costs more than the push.
   */
  insertObjects(pack: number, entries: readonly IndexedEntry[]): void {
    for (let i = 0; i < entries.length; i += BATCH) {
      const rows = entries.slice(i, i + BATCH).map((e) => [e.oid, e.offset, e.headerLen, e.packedLen, e.entryType, e.type, e.size, e.baseOid ?? null, e.baseOffset ?? null, e.depth]);
      this.sql.exec(
        `INSERT OR IGNORE INTO objects (oid, pack, offset, header_len, packed_len, entry_type, type, size, base_oid, base_offset, depth)
         SELECT r->>0, ?2, r->>1, r->>2, r->>3, r->>4, r->>5, r->>6, r->>7, r->>8, r->>9 FROM (SELECT value AS r FROM json_each(?1))`,
        JSON.stringify(rows),
        pack,
      );
    }
  }

  // --- commit graph -----------------------------------------------------
  async commits(oids: readonly Oid[]): Promise<Map<Oid, CommitNode>> {
    return this.commitsSync(oids);
  }

  commitsSync(oids: readonly Oid[]): Map<Oid, CommitNode> {
    const out = new Map<Oid, CommitNode>();
    for (let i = 0; i < oids.length; i += BATCH) {
      const json = JSON.stringify(oids.slice(i, i + BATCH));
      const rows = this.sql.exec<{ oid: string; tree: string; time: number; generation: number }>(
        `SELECT c.oid, c.tree, c.time, c.generation FROM json_each(?) j JOIN commits c ON c.oid = j.value`,
        json,
      );
      for (const r of rows) out.set(r.oid as Oid, { oid: r.oid as Oid, tree: r.tree as Oid, time: r.time, generation: r.generation, parents: [] });
      const parents = this.sql.exec<{ child: string; parent: string }>(
        `SELECT p.child, p.parent FROM json_each(?) j JOIN commit_parents p ON p.child = j.value ORDER BY p.child, p.idx`,
        json,
      );
      for (const p of parents) (out.get(p.child as Oid)?.parents as Oid[] | undefined)?.push(p.parent as Oid);
    }
    return out;
  }

  /** Commit rows with their generations, batched like `insertObjects`. */
  insertCommits(commits: readonly { row: CommitRow; generation: number }[]): void {
    for (let i = 0; i < commits.length; i += BATCH) {
      const batch = commits.slice(i, i + BATCH);
      this.sql.exec(
        `INSERT OR IGNORE INTO commits (oid, tree, time, generation) SELECT r->>0, r->>1, r->>2, r->>3 FROM (SELECT value AS r FROM json_each(?))`,
        JSON.stringify(batch.map((c) => [c.row.oid, c.row.tree, c.row.time, c.generation])),
      );
      const parents = batch.flatMap((c) => c.row.parents.map((p, idx) => [c.row.oid, idx, p]));
      if (parents.length)
        this.sql.exec(
          `INSERT OR IGNORE INTO commit_parents (child, idx, parent) SELECT r->>0, r->>1, r->>2 FROM (SELECT value AS r FROM json_each(?))`,
          JSON.stringify(parents),
        );
    }
  }

  generations(oids: readonly Oid[]): Map<Oid, number> {
    const out = new Map<Oid, number>();
    for (const [oid, c] of this.commitsSync(oids)) out.set(oid, c.generation);
    return out;
  }

  /**
   * Commits reachable from `wants` and not from `haves`, plus the boundary: commits the client has
   * that are parents of sent commits. One recursive query; SQLite does the walk.
   */
  commitsBetween(wants: readonly Oid[], haves: readonly Oid[]): { send: Oid[]; boundary: Oid[] } {
    const rows = this.sql
      .exec<{ oid: string; have: number }>(
        `WITH RECURSIVE
           have(oid) AS (SELECT value FROM json_each(?2) UNION SELECT p.parent FROM commit_parents p JOIN have h ON p.child = h.oid),
           want(oid) AS (SELECT value FROM json_each(?1) WHERE value NOT IN (SELECT oid FROM have)
                         UNION SELECT p.parent FROM commit_parents p JOIN want w ON p.child = w.oid
                         WHERE w.oid NOT IN (SELECT oid FROM have))
         SELECT w.oid, (w.oid IN (SELECT oid FROM have)) AS have FROM want w JOIN commits c ON c.oid = w.oid`,
        JSON.stringify(wants),
        JSON.stringify(haves),
      )
      .toArray();
    const send: Oid[] = [];
    const boundary: Oid[] = [];
    for (const r of rows) (r.have ? boundary : send).push(r.oid as Oid);
    return { send, boundary };
  }

  /** Each commit within `maxDepth` of `roots` (a root is depth 1) with its least depth. */
  walkDepth(roots: readonly Oid[], maxDepth: number): Map<Oid, number> {
    const rows = this.sql.exec<{ oid: string; depth: number }>(
      `WITH RECURSIVE walk(oid, depth) AS (
         SELECT c.oid, 1 FROM json_each(?1) j JOIN commits c ON c.oid = j.value
         UNION SELECT p.parent, w.depth + 1 FROM commit_parents p JOIN walk w ON p.child = w.oid WHERE w.depth < ?2)
       SELECT oid, min(depth) AS depth FROM walk GROUP BY oid`,
      JSON.stringify(roots),
      maxDepth,
    );
    const out = new Map<Oid, number>();
    for (const r of rows) out.set(r.oid as Oid, r.depth);
    return out;
  }

  /**
   * Commits reachable from `roots`, not walking past `stop` (a stop commit is included, its parents
   * are not) and leaving out commits older than `since` or in `exclude` (with their ancestors).
   */
  closure(roots: readonly Oid[], opts: { stop?: readonly Oid[]; since?: number; exclude?: readonly Oid[] } = {}): Set<Oid> {
    const rows = this.sql.exec<{ oid: string }>(
      `WITH RECURSIVE
         excluded(oid) AS (SELECT value FROM json_each(?4) UNION SELECT p.parent FROM commit_parents p JOIN excluded e ON p.child = e.oid),
         walk(oid) AS (
           SELECT c.oid FROM json_each(?1) j JOIN commits c ON c.oid = j.value
             WHERE c.time >= ?3 AND c.oid NOT IN (SELECT oid FROM excluded)
           UNION SELECT p.parent FROM commit_parents p JOIN walk w ON p.child = w.oid JOIN commits c ON c.oid = p.parent
             WHERE w.oid NOT IN (SELECT value FROM json_each(?2)) AND c.time >= ?3 AND c.oid NOT IN (SELECT oid FROM excluded))
       SELECT oid FROM walk`,
      JSON.stringify(roots),
      JSON.stringify(opts.stop ?? []),
      opts.since ?? -(2 ** 52),
      JSON.stringify(opts.exclude ?? []),
    );
    const out = new Set<Oid>();
    for (const r of rows) out.add(r.oid as Oid);
    return out;
  }

  /** True if `ancestor` is reachable from `descendant` (or equal). */
  isAncestor(ancestor: Oid, descendant: Oid): boolean {
    if (ancestor === descendant) return true;
    const row = this.sql
      .exec<{ n: number }>(
        `WITH RECURSIVE anc(oid) AS (SELECT ?1 UNION SELECT p.parent FROM commit_parents p JOIN anc a ON p.child = a.oid
           JOIN commits c ON c.oid = p.parent WHERE c.generation >= (SELECT generation FROM commits WHERE oid = ?2))
         SELECT count(*) AS n FROM anc WHERE oid = ?2`,
        descendant,
        ancestor,
      )
      .one();
    return row.n > 0;
  }

  /**
   * True when some commit of `targets` is `from` or one of its ancestors, found through commits no
   * older than `minTime` (a target counts whatever its time): git's `can_all_from_reach_with_flag`
   * with upload-pack's date cut-off.
   */
  reachesAny(from: Oid, targets: readonly Oid[], minTime: number): boolean {
    if (targets.length === 0) return false;
    const row = this.sql
      .exec<{ n: number }>(
        `WITH RECURSIVE
           t(oid) AS (SELECT value FROM json_each(?2)),
           anc(oid) AS (SELECT ?1 UNION SELECT p.parent FROM commit_parents p JOIN anc a ON p.child = a.oid
             JOIN commits c ON c.oid = p.parent
             WHERE a.oid NOT IN (SELECT oid FROM t) AND (c.time >= ?3 OR c.oid IN (SELECT oid FROM t)))
         SELECT count(*) AS n FROM anc WHERE oid IN (SELECT oid FROM t)`,
        from,
        JSON.stringify(targets),
        minTime,
      )
      .one();
    return row.n > 0;
  }

  // --- tags -------------------------------------------------------------
  insertTag(oid: Oid, target: Oid, targetType: ObjectType): void {
    this.sql.exec(`INSERT OR IGNORE INTO tags (oid, target, target_type) VALUES (?, ?, ?)`, oid, target, targetType);
  }

  /** Peels each id through annotated tags to the first non-tag object. */
  peel(oid: Oid): { oid: Oid; type: ObjectType | undefined } {
    let cur = oid;
    for (let i = 0; i < 32; i++) {
      const t = this.sql.exec<{ target: string; target_type: string }>(`SELECT target, target_type FROM tags WHERE oid = ?`, cur).toArray()[0];
      if (!t) break;
      cur = t.target as Oid;
      if (t.target_type !== "tag") return { oid: cur, type: t.target_type as ObjectType };
    }
    const row = this.sql.exec<{ type: string }>(`SELECT type FROM objects WHERE oid = ?`, cur).toArray()[0];
    return { oid: cur, type: row?.type as ObjectType | undefined };
  }

  isTag(oid: Oid): boolean {
    return this.sql.exec(`SELECT 1 FROM tags WHERE oid = ?`, oid).toArray().length > 0;
  }

  // --- ref log ----------------------------------------------------------
  appendRefLog(ref: string, oldOid: Oid, newOid: Oid, source: string, at: number): number {
    return this.sql.exec<{ seq: number }>(`INSERT INTO ref_log (ref, old, new, source, at) VALUES (?, ?, ?, ?, ?) RETURNING seq`, ref, oldOid, newOid, source, at).one().seq;
  }
}

function toLocation(r: ObjectRow): ObjectLocation {
  const loc: ObjectLocation = {
    oid: r.oid as Oid,
    pack: r.key,
    offset: r.offset,
    headerLen: r.header_len,
    packedLen: r.packed_len,
    entryType: r.entry_type as PackEntryType,
    type: r.type as ObjectType,
    size: r.size,
    depth: r.depth,
  };
  if (r.base_oid !== null) loc.baseOid = r.base_oid as Oid;
  if (r.base_offset !== null) loc.baseOffset = r.base_offset;
  return loc;
}
