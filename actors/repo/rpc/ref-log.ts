/**
 * The `ref_log` as subscribers see it: rows become typed events, the log is bounded, and a
 * subscriber's missed events are read back by seq.
 * Invariants:
 * - At most REF_LOG_KEEP rows are kept; older rows go first, so seqs stay contiguous at the top.
 * - Events come out in seq order, which is commit order (rows are appended inside the transaction
 *   that moves the ref).
 */
import type { z } from "zod";
import { ZERO_OID, type Oid } from "../../../engine/index.ts";
import type { RefEventSourceSchema } from "../../../protocol/rpc/index.ts";
import type { RepoStore } from "../repo-store.ts";

export const REF_LOG_KEEP = 10_000;

export type RefEventSource = z.output<typeof RefEventSourceSchema>;

export interface RefEvent {
  seq: number;
  ref: string;
  old: Oid | null;
  new: Oid | null;
  source: RefEventSource;
  at: Date;
}

interface Row extends Record<string, SqlStorageValue> {
  seq: number;
  ref: string;
  old: string;
  new: string;
  source: string;
  at: number;
}

function toEvent(r: Row): RefEvent {
  const id = (o: string) => (o === ZERO_OID ? null : (o as Oid));
  return { seq: r.seq, ref: r.ref, old: id(r.old), new: id(r.new), source: r.source as RefEventSource, at: new Date(r.at) };
}

/** Drops all but the newest REF_LOG_KEEP rows. */
export function trimRefLog(store: RepoStore): void {
  store.sql.exec(`DELETE FROM ref_log WHERE seq <= (SELECT max(seq) FROM ref_log) - ?`, REF_LOG_KEEP);
}

export function eventsBySeq(store: RepoStore, seqs: readonly number[]): RefEvent[] {
  return store.sql
    .exec<Row>(`SELECT r.seq, r.ref, r.old, r.new, r.source, r.at FROM json_each(?) j JOIN ref_log r ON r.seq = j.value ORDER BY r.seq`, JSON.stringify(seqs))
    .toArray()
    .map(toEvent);
}

/** Events after `since` whose ref starts with `prefix`, oldest first. */
export function eventsSince(store: RepoStore, since: number, prefix: string): RefEvent[] {
  return store.sql
    .exec<Row>(`SELECT seq, ref, old, new, source, at FROM ref_log WHERE seq > ? AND substr(ref, 1, ?) = ? ORDER BY seq`, since, prefix.length, prefix)
    .toArray()
    .map(toEvent);
}

/** The newest seq (0 before the first) and the oldest one still kept. Trimming never empties the log. */
export function logBounds(store: RepoStore): { latest: number; oldest: number | null } {
  const row = store.sql.exec<{ latest: number | null; oldest: number | null }>(`SELECT max(seq) AS latest, min(seq) AS oldest FROM ref_log`).one();
  return { latest: row.latest ?? 0, oldest: row.oldest };
}
