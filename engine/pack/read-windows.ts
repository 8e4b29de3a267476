/**
 * Plans coalesced reads of stored pack entries: entries sorted by (pack, offset) are grouped into
 * windows, each fetched with one ranged read, so a batch of objects costs a few reads, not one each.
 * Invariants:
 * - Every entry lies wholly inside exactly one window of its own pack, and windows are in (pack,
 *   offset) order.
 * - A window spans at most `maxBytes`, unless one entry alone is bigger (it then gets its own), and
 *   bridges gaps of at most `gapBytes` between entries: unread bytes are bounded too.
 */
import type { ObjectLocation } from "../storage.ts";

export interface ReadWindow {
  pack: string;
  start: number;
  end: number;
  entries: ObjectLocation[];
}

export interface ReadWindowOptions {
  /** Largest window (default 4 MiB, as `writePack` reads). */
  maxBytes?: number;
  /** Largest gap between two entries that one window bridges (default 64 KiB). */
  gapBytes?: number;
}

export function planReadWindows(entries: Iterable<ObjectLocation>, opts: ReadWindowOptions = {}): ReadWindow[] {
  const maxBytes = opts.maxBytes ?? 4 << 20;
  const gapBytes = opts.gapBytes ?? 64 << 10;
  const sorted = [...entries].sort((a, b) => (a.pack < b.pack ? -1 : a.pack > b.pack ? 1 : a.offset - b.offset));
  const windows: ReadWindow[] = [];
  let cur: ReadWindow | undefined;
  for (const e of sorted) {
    const end = e.offset + e.packedLen;
    if (cur && cur.pack === e.pack && e.offset <= cur.end + gapBytes && Math.max(cur.end, end) - cur.start <= maxBytes) {
      cur.end = Math.max(cur.end, end);
      cur.entries.push(e);
      continue;
    }
    cur = { pack: e.pack, start: e.offset, end, entries: [e] };
    windows.push(cur);
  }
  return windows;
}
