/**
 * The RepoActor's SQLite schema. One push is one transaction over these tables.
 * Invariants:
 * - Every row of `objects` points into a `live` pack, and every id an indexed object names is
 *   indexed too (pushes are connectivity-checked before their rows are written).
 * - `refs` never names an object missing from `objects`.
 * - `packs.state`: `staging` while a push streams in, `live` once indexed, `garbage` when a push
 *   failed or was refused: GC deletes garbage packs' R2 objects.
 * - A thin pushed pack has a companion (`completes` = its id) holding its missing bases whole, so
 *   the two together resolve every delta without the rest of the repository.
 * - `reach_closure` holds every object the refs reached at the ref state `meta['reach.closure']`
 *   names (actors/repo/reachability.ts); it is a cache, rebuilt whole.
 * - `push_*` tables hold a push in progress (actors/repo/push-staging.ts), keyed by its pack; they
 *   are never part of the index. New tables only ever appear here with `IF NOT EXISTS`, so an
 *   existing database gains them on its next start.
 */
export const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS refs (name TEXT PRIMARY KEY, oid TEXT NOT NULL) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS packs (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, bytes INTEGER NOT NULL DEFAULT 0,
     objects INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL, reason TEXT, created_at INTEGER NOT NULL,
     completes INTEGER REFERENCES packs (id), upload_id TEXT)`,
  `CREATE TABLE IF NOT EXISTS objects (oid TEXT PRIMARY KEY, pack INTEGER NOT NULL, offset INTEGER NOT NULL,
     header_len INTEGER NOT NULL, packed_len INTEGER NOT NULL, entry_type INTEGER NOT NULL, type TEXT NOT NULL,
     size INTEGER NOT NULL, base_oid TEXT, base_offset INTEGER, depth INTEGER NOT NULL) WITHOUT ROWID`,
  `CREATE INDEX IF NOT EXISTS objects_by_pack ON objects (pack, offset)`,
  `CREATE TABLE IF NOT EXISTS commits (oid TEXT PRIMARY KEY, tree TEXT NOT NULL, time INTEGER NOT NULL,
     generation INTEGER NOT NULL) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS commit_parents (child TEXT NOT NULL, idx INTEGER NOT NULL, parent TEXT NOT NULL,
     PRIMARY KEY (child, idx)) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS tags (oid TEXT PRIMARY KEY, target TEXT NOT NULL, target_type TEXT NOT NULL) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS ref_log (seq INTEGER PRIMARY KEY AUTOINCREMENT, ref TEXT NOT NULL, old TEXT NOT NULL,
     new TEXT NOT NULL, source TEXT NOT NULL, at INTEGER NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS reach_closure (oid TEXT PRIMARY KEY) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS push_objects (pack INTEGER NOT NULL, offset INTEGER NOT NULL, header_len INTEGER NOT NULL,
     packed_len INTEGER NOT NULL, entry_type INTEGER NOT NULL, data_size INTEGER NOT NULL, base_offset INTEGER, base_oid TEXT,
     oid TEXT, type TEXT, size INTEGER, depth INTEGER, PRIMARY KEY (pack, offset)) WITHOUT ROWID`,
  `CREATE INDEX IF NOT EXISTS push_objects_by_oid ON push_objects (pack, oid, type)`,
  `CREATE TABLE IF NOT EXISTS push_links (pack INTEGER NOT NULL, oid TEXT NOT NULL, type TEXT NOT NULL,
     PRIMARY KEY (pack, oid, type)) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS push_commits (pack INTEGER NOT NULL, offset INTEGER NOT NULL, oid TEXT NOT NULL, tree TEXT NOT NULL,
     time INTEGER NOT NULL, parents TEXT NOT NULL, PRIMARY KEY (pack, offset)) WITHOUT ROWID`,
  `CREATE INDEX IF NOT EXISTS push_commits_by_oid ON push_commits (pack, oid)`,
  `CREATE TABLE IF NOT EXISTS push_tags (pack INTEGER NOT NULL, oid TEXT NOT NULL, target TEXT NOT NULL, target_type TEXT NOT NULL,
     PRIMARY KEY (pack, oid)) WITHOUT ROWID`,
];

/** The tables of pushes in progress: emptied when the actor starts, since no push survives a restart. */
export const PUSH_STAGING_TABLES = ["push_objects", "push_links", "push_commits", "push_tags"] as const;
