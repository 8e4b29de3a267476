/**
 * A push's per-object state while its pack streams in: the indexer's entries (the engine's
 * `IndexStaging`), the ids its objects name, and its commits and tags. A push of up to
 * `entriesInMemory` entries keeps its entries, named ids and commits in memory, and its
 * transaction writes index rows straight from them; a bigger one spills them to the `push_*`
 * SQLite tables, its checks become SQL over those rows and its transaction copies them into the
 * index, so its memory does not grow with its object count.
 * Invariants:
 * - Rows belong to one pack id and are never read as part of the index.
 * - A push deletes its rows when it ends, however it ends; rows a crash left are deleted when the
 *   actor next starts (`RepoStore`), before any push can run.
 * - Once spilled, every entry and named id is in SQL or in the unwritten batch, and look-ups consult
 *   the batch first, so they always see the newest record of an entry. Before, SQL holds none.
 * - What is kept in memory is bounded: at most `entriesInMemory` entries (commits among them) and
 *   as many named ids before the spill; after it, the batches and recently written entries and
 *   links (consecutive trees name mostly the same ids), each cleared when full. The recent sets
 *   only spare SQL work.
 * - Both modes give the same verdicts: the first conflicting type claim, missing ids, wrong types.
 */
import { GitError, indexedEntry, type IndexStaging, type ObjectType, type Oid, type PackEntryType, type StagedEntry } from "../../engine/index.ts";
import type { CommitRow, RepoStore } from "./repo-store.ts";
import { PUSH_STAGING_TABLES } from "./schema.ts";

const BATCH = 2000;
/** Entries and links remembered after they are written. */
const RECENT = 16_384;
/**
 * Entries a push keeps in memory before it spills to SQL (~0.5 KB each with its named id): writing
 * them to staging rows and copying those into the index took ~200 ms of a 14,088-object push.
 */
export const ENTRIES_IN_MEMORY = 16_384;

interface StagedRow extends Record<string, SqlStorageValue> {
  offset: number;
  header_len: number;
  packed_len: number;
  entry_type: number;
  data_size: number;
  base_offset: number | null;
  base_oid: string | null;
  oid: string | null;
  type: string | null;
  size: number | null;
  depth: number | null;
}

const STAGED_COLUMNS = `offset, header_len, packed_len, entry_type, data_size, base_offset, base_oid, oid, type, size, depth`;

export class PushStaging implements IndexStaging<number> {
  /** Before the spill every entry; after it, the unwritten batch. */
  #entries = new Map<number, StagedEntry>();
  #entryOids = new Map<Oid, number>();
  #written = new Map<number, StagedEntry>();
  /** Before the spill: each named id with the first type claimed for it ("unknown" until one is). */
  #named = new Map<Oid, ObjectType | "unknown">();
  /** The first id two referrers disagreed about, found before the spill. */
  #conflict: GitError | undefined;
  #spilled = false;
  #links: [Oid, string][] = [];
  #linked = new Set<string>();
  #commits: [number, Oid, Oid, number, string][] = [];
  /** Before the spill: the pack's commits by id, with their offsets. */
  #commitsHeld = new Map<Oid, { offset: number; row: CommitRow }>();
  #tags: [Oid, Oid, string][] = [];

  constructor(
    private readonly store: RepoStore,
    readonly pack: number,
    private readonly entriesInMemory = ENTRIES_IN_MEMORY,
  ) {}

  get #sql(): SqlStorage {
    return this.store.sql;
  }

  // --- the indexer's entries ---------------------------------------------
  put(entry: StagedEntry): void {
    this.#entries.set(entry.offset, entry);
    if (entry.object && !this.#entryOids.has(entry.object.oid)) this.#entryOids.set(entry.object.oid, entry.offset);
    if (!this.#spilled) {
      if (this.#entries.size > this.entriesInMemory) this.#spill();
    } else if (this.#entries.size >= BATCH) this.#flushEntries();
  }

  at(offset: number): StagedEntry | undefined {
    const held = this.#entries.get(offset) ?? this.#written.get(offset);
    if (held || !this.#spilled) return held;
    const row = this.#sql.exec<StagedRow>(`SELECT ${STAGED_COLUMNS} FROM push_objects WHERE pack = ? AND offset = ?`, this.pack, offset).toArray()[0];
    return row && toStaged(row);
  }

  offsetOf(oid: Oid): number | undefined {
    const held = this.#entryOids.get(oid);
    if (held !== undefined || !this.#spilled) return held;
    return this.#sql.exec<{ offset: number }>(`SELECT offset FROM push_objects WHERE pack = ? AND oid = ? LIMIT 1`, this.pack, oid).toArray()[0]?.offset;
  }

  deferredAfter(offset: number, limit: number): StagedEntry[] {
    if (!this.#spilled)
      return [...this.#entries.values()].filter((e) => !e.object && e.offset > offset).sort((a, b) => a.offset - b.offset).slice(0, limit);
    this.#flushEntries();
    return this.#sql
      .exec<StagedRow>(`SELECT ${STAGED_COLUMNS} FROM push_objects WHERE pack = ? AND oid IS NULL AND offset > ? ORDER BY offset LIMIT ?`, this.pack, offset, limit)
      .toArray()
      .map(toStaged);
  }

  /** Writes what is batched; returns the number of entries (every one resolved, as the indexer ensures). */
  finish(): number {
    this.flush();
    if (!this.#spilled) return this.#entries.size;
    return this.#sql.exec<{ n: number }>(`SELECT count(*) AS n FROM push_objects WHERE pack = ?`, this.pack).one().n;
  }

  // --- what the pack's objects say -----------------------------------------
  /** `oid` is named by a new object (or a ref command) as a `type`. */
  link(oid: Oid, type: ObjectType | "unknown"): void {
    if (!this.#spilled) {
      const claimed = this.#named.get(oid);
      if (claimed === undefined || claimed === "unknown") this.#named.set(oid, type);
      else if (type !== "unknown" && type !== claimed) this.#conflict ??= bothTypes(oid, [claimed, type]);
      if (this.#named.size > this.entriesInMemory) this.#spill();
      return;
    }
    const key = oid + type;
    if (this.#linked.has(key)) return;
    if (this.#linked.size >= RECENT) this.#linked.clear();
    this.#linked.add(key);
    this.#links.push([oid, type]);
    if (this.#links.length >= BATCH) this.#flushLinks();
  }

  commit(offset: number, c: CommitRow): void {
    if (!this.#spilled) {
      this.#commitsHeld.set(c.oid, { offset, row: c });
      return;
    }
    this.#commits.push([offset, c.oid, c.tree, c.time, c.parents.join(" ")]);
    if (this.#commits.length >= BATCH) this.#flushCommits();
  }

  tag(oid: Oid, target: Oid, targetType: ObjectType): void {
    this.#tags.push([oid, target, targetType]);
    if (this.#tags.length >= BATCH) this.#flushTags();
  }

  /** Writes what is batched (before the spill: only tags, which always go to SQL). */
  flush(): void {
    if (this.#spilled) {
      this.#flushEntries();
      this.#flushLinks();
    }
    this.#flushCommits();
    this.#flushTags();
  }

  // --- checks ------------------------------------------------------------
  /**
   * Every id a new object names exists in the pack or the repository, with the type its referrer
   * claims (a commit's tree is a tree, a tree entry's mode matches its object), and no two referrers
   * disagree about it.
   */
  checkConnectivity(): void {
    this.flush();
    if (this.#conflict) throw this.#conflict;
    if (!this.#spilled) return this.#checkInMemory();
    const conflict = this.#sql
      .exec<{ oid: string; types: string }>(
        `SELECT oid, group_concat(type, ' and a ') AS types FROM push_links WHERE pack = ? AND type != 'unknown' GROUP BY oid HAVING count(*) > 1 LIMIT 1`,
        this.pack,
      )
      .toArray()[0];
    if (conflict) throw bothTypes(conflict.oid as Oid, conflict.types.split(" and a "));

    const missingFrom = `FROM push_links l WHERE l.pack = ?1
       AND NOT EXISTS (SELECT 1 FROM push_objects s WHERE s.pack = ?1 AND s.oid = l.oid)
       AND NOT EXISTS (SELECT 1 FROM objects o WHERE o.oid = l.oid)`;
    const missing = this.#sql.exec<{ oid: string }>(`SELECT DISTINCT l.oid ${missingFrom} LIMIT 3`, this.pack).toArray().map((r) => r.oid);
    if (missing.length) throw missingObjects(missing, this.#sql.exec<{ n: number }>(`SELECT count(DISTINCT l.oid) AS n ${missingFrom}`, this.pack).one().n);

    const wrong = this.#sql
      .exec<{ oid: string; claimed: string; actual: string }>(
        `SELECT l.oid, l.type AS claimed, coalesce(s.type, o.type) AS actual FROM push_links l
           LEFT JOIN push_objects s ON s.pack = l.pack AND s.oid = l.oid
           LEFT JOIN objects o ON o.oid = l.oid
         WHERE l.pack = ? AND l.type != 'unknown' AND coalesce(s.type, o.type) != l.type LIMIT 1`,
        this.pack,
      )
      .toArray()[0];
    if (wrong) throw wrongType(wrong.oid, wrong.actual, wrong.claimed);
  }

  /**
   * True when some object of the pack is named by no object of it and no ref command: one no new
   * ref reaches, unless it was indexed already. (With none, every object is reachable from the
   * commands' new ids: follow referrers up the object graph and it ends at one.) Call after
   * checkConnectivity, once the commands' ids are linked.
   */
  hasOrphans(): boolean {
    if (!this.#spilled) {
      for (const oid of this.#entryOids.keys()) if (!this.#named.has(oid)) return true;
      return false;
    }
    this.flush();
    return (
      this.#sql
        .exec(
          `SELECT 1 FROM push_objects s WHERE s.pack = ?1
             AND NOT EXISTS (SELECT 1 FROM push_links l WHERE l.pack = ?1 AND l.oid = s.oid) LIMIT 1`,
          this.pack,
        )
        .toArray().length > 0
    );
  }

  /** checkConnectivity before the spill: named ids not in the pack are looked up in the index, in batches. */
  #checkInMemory(): void {
    const outside = [...this.#named.keys()].filter((oid) => !this.#entryOids.has(oid));
    const indexed = new Map<Oid, string>();
    for (let i = 0; i < outside.length; i += BATCH) {
      const rows = this.#sql.exec<{ oid: string; type: string }>(`SELECT o.oid, o.type FROM json_each(?) j JOIN objects o ON o.oid = j.value`, JSON.stringify(outside.slice(i, i + BATCH)));
      for (const r of rows) indexed.set(r.oid as Oid, r.type);
    }
    const missing = outside.filter((oid) => !indexed.has(oid));
    if (missing.length) throw missingObjects(missing.slice(0, 3), missing.length);
    for (const [oid, claimed] of this.#named) {
      if (claimed === "unknown") continue;
      const actual = this.#typeInPack(oid) ?? indexed.get(oid);
      if (actual !== claimed) throw wrongType(oid, actual!, claimed);
    }
  }

  #typeInPack(oid: Oid): ObjectType | undefined {
    const at = this.#entryOids.get(oid);
    return at === undefined ? undefined : this.#entries.get(at)?.object?.type;
  }

  /** The type of `oid` in this pack or, failing that, in the repository. */
  typeOf(oid: Oid): ObjectType | undefined {
    if (!this.#spilled) {
      const inPack = this.#typeInPack(oid);
      if (inPack) return inPack;
      return (this.#sql.exec<{ type: string }>(`SELECT type FROM objects WHERE oid = ?`, oid).toArray()[0]?.type ?? undefined) as ObjectType | undefined;
    }
    const row = this.#sql
      .exec<{ type: string | null }>(
        `SELECT coalesce((SELECT type FROM push_objects WHERE pack = ?1 AND oid = ?2 LIMIT 1), (SELECT type FROM objects WHERE oid = ?2)) AS type`,
        this.pack,
        oid,
      )
      .one();
    return (row.type ?? undefined) as ObjectType | undefined;
  }

  // --- inside the push's transaction ---------------------------------------
  /** Copies the pack's objects, commits (with generation numbers) and tags into the index. */
  index(): void {
    this.flush();
    if (!this.#spilled) {
      this.store.insertObjects(this.pack, [...this.#entries.values()].sort((a, b) => a.offset - b.offset).map(indexedEntry));
    } else {
      this.#sql.exec(
        `INSERT OR IGNORE INTO objects (oid, pack, offset, header_len, packed_len, entry_type, type, size, base_oid, base_offset, depth)
         SELECT oid, pack, offset, header_len, packed_len, entry_type, type, size, base_oid, base_offset, depth
         FROM push_objects WHERE pack = ? ORDER BY offset`,
        this.pack,
      );
    }
    this.#indexCommits();
    this.#sql.exec(`INSERT OR IGNORE INTO tags (oid, target, target_type) SELECT oid, target, target_type FROM push_tags WHERE pack = ?`, this.pack);
  }

  /** Deletes every row of this push, written or not. */
  drop(): void {
    this.#entries.clear();
    this.#entryOids.clear();
    this.#written.clear();
    this.#named.clear();
    this.#linked.clear();
    this.#links = [];
    this.#commits = [];
    this.#commitsHeld.clear();
    this.#tags = [];
    const tables = this.#spilled ? PUSH_STAGING_TABLES : (["push_tags"] as const);
    for (const table of tables) this.#sql.exec(`DELETE FROM ${table} WHERE pack = ?`, this.pack);
  }

  /** Writes every entry and named id held so far to SQL; from now on they are batches. */
  #spill(): void {
    this.#spilled = true;
    this.#flushEntries();
    for (const [oid, type] of this.#named) this.link(oid, type);
    this.#named.clear();
    for (const { offset, row } of this.#commitsHeld.values()) this.commit(offset, row);
    this.#commitsHeld.clear();
  }

  /**
   * Commit rows with generation numbers, parents first. The pack lists commits newest first, so they
   * are taken in reverse pack order and each one's parents are usually the commits just computed;
   * a parent not yet computed is computed first (depth first, an explicit stack).
   */
  #indexCommits(): void {
    const computed = new Map<Oid, number>(); // written too, unless in `batch`; cleared when large
    let batch: { row: CommitRow; generation: number }[] = [];
    const write = () => {
      this.store.insertCommits(batch);
      batch = [];
    };
    const generationOf = (oid: Oid) =>
      computed.get(oid) ?? this.#sql.exec<{ generation: number }>(`SELECT generation FROM commits WHERE oid = ?`, oid).toArray()[0]?.generation;
    for (const page of this.#commitPages()) {
      for (const r of page) {
        if (computed.has(r.oid)) continue;
        const stack = [r];
        while (stack.length) {
          const c = stack[stack.length - 1]!;
          if (stack.length > 1 && generationOf(c.oid) !== undefined) {
            stack.pop();
            continue;
          }
          let generation = 1;
          const todo: CommitRow[] = [];
          for (const p of c.parents) {
            const g = generationOf(p);
            if (g !== undefined) generation = Math.max(generation, g + 1);
            else {
              const parent = this.#stagedCommit(p);
              if (parent) todo.push(parent);
            }
          }
          if (todo.length) {
            stack.push(...todo);
            continue;
          }
          computed.set(c.oid, generation);
          batch.push({ row: c, generation });
          stack.pop();
          if (batch.length >= BATCH) write();
          if (computed.size > 8 * BATCH && batch.length === 0) computed.clear();
        }
      }
    }
    write();
  }

  /** The pack's commits in reverse pack order, a page at a time. */
  *#commitPages(): Generator<CommitRow[]> {
    if (!this.#spilled) {
      yield [...this.#commitsHeld.values()].sort((a, b) => b.offset - a.offset).map((c) => c.row);
      return;
    }
    for (let before = Number.MAX_SAFE_INTEGER; ; ) {
      const page = this.#sql
        .exec<CommitSql & { offset: number }>(`SELECT offset, oid, tree, time, parents FROM push_commits WHERE pack = ? AND offset < ? ORDER BY offset DESC LIMIT ?`, this.pack, before, BATCH)
        .toArray();
      if (page.length === 0) return;
      before = page[page.length - 1]!.offset;
      yield page.map(toCommit);
    }
  }

  #stagedCommit(oid: Oid): CommitRow | undefined {
    if (!this.#spilled) return this.#commitsHeld.get(oid)?.row;
    // Without statistics SQLite would rather walk the whole pack's rows by primary key.
    const r = this.#sql
      .exec<CommitSql>(`SELECT oid, tree, time, parents FROM push_commits INDEXED BY push_commits_by_oid WHERE pack = ? AND oid = ? LIMIT 1`, this.pack, oid)
      .toArray()[0];
    return r && toCommit(r);
  }

  #flushEntries(): void {
    if (this.#entries.size === 0) return;
    const rows = [...this.#entries.values()].map((e) => [
      e.offset, e.headerLen, e.packedLen, e.entryType, e.dataSize, e.baseOffset ?? null, e.baseOid ?? null,
      e.object?.oid ?? null, e.object?.type ?? null, e.object?.size ?? null, e.object?.depth ?? null,
    ]);
    // A spill writes every entry held: still one bounded statement per BATCH rows.
    for (let i = 0; i < rows.length; i += BATCH)
      this.#sql.exec(
        `INSERT OR REPLACE INTO push_objects (pack, ${STAGED_COLUMNS})
         SELECT ?2, r->>0, r->>1, r->>2, r->>3, r->>4, r->>5, r->>6, r->>7, r->>8, r->>9, r->>10 FROM (SELECT value AS r FROM json_each(?1))`,
        JSON.stringify(rows.slice(i, i + BATCH)),
        this.pack,
      );
    if (this.#written.size + this.#entries.size > RECENT) this.#written.clear();
    for (const [offset, e] of this.#entries) this.#written.set(offset, e);
    this.#entries.clear();
    this.#entryOids.clear();
  }

  #flushLinks(): void {
    if (this.#links.length === 0) return;
    this.#sql.exec(`INSERT OR IGNORE INTO push_links (pack, oid, type) SELECT ?2, r->>0, r->>1 FROM (SELECT value AS r FROM json_each(?1))`, JSON.stringify(this.#links), this.pack);
    this.#links = [];
  }

  #flushCommits(): void {
    if (this.#commits.length === 0) return;
    this.#sql.exec(
      `INSERT OR IGNORE INTO push_commits (pack, offset, oid, tree, time, parents) SELECT ?2, r->>0, r->>1, r->>2, r->>3, r->>4 FROM (SELECT value AS r FROM json_each(?1))`,
      JSON.stringify(this.#commits),
      this.pack,
    );
    this.#commits = [];
  }

  #flushTags(): void {
    if (this.#tags.length === 0) return;
    this.#sql.exec(
      `INSERT OR IGNORE INTO push_tags (pack, oid, target, target_type) SELECT ?2, r->>0, r->>1, r->>2 FROM (SELECT value AS r FROM json_each(?1))`,
      JSON.stringify(this.#tags),
      this.pack,
    );
    this.#tags = [];
  }
}

interface CommitSql extends Record<string, SqlStorageValue> {
  oid: string;
  tree: string;
  time: number;
  parents: string;
}

function toCommit(r: CommitSql): CommitRow {
  return { oid: r.oid as Oid, tree: r.tree as Oid, time: r.time, parents: r.parents === "" ? [] : (r.parents.split(" ") as Oid[]) };
}

function bothTypes(oid: Oid, types: string[]): GitError {
  return new GitError("object-invalid", `${oid} is named as both a ${types.join(" and a ")}`);
}

function missingObjects(some: readonly string[], n: number): GitError {
  return new GitError("missing-objects", `missing necessary objects: ${some.join(", ")}${n > 3 ? ` and ${n - 3} more` : ""}`);
}

function wrongType(oid: string, actual: string, claimed: string): GitError {
  return new GitError("object-invalid", `${oid} is a ${actual} but is named as a ${claimed}`);
}

function toStaged(r: StagedRow): StagedEntry {
  const s: StagedEntry = { offset: r.offset, headerLen: r.header_len, packedLen: r.packed_len, entryType: r.entry_type as PackEntryType, dataSize: r.data_size };
  if (r.base_offset !== null) s.baseOffset = r.base_offset;
  if (r.base_oid !== null) s.baseOid = r.base_oid as Oid;
  if (r.oid !== null) s.object = { oid: r.oid as Oid, type: r.type as ObjectType, size: r.size!, depth: r.depth! };
  return s;
}
