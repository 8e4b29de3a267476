/**
 * An object reader over exactly the locations a batch carries (its objects and their delta
 * chains), reading pack ranges in windows: what every job needs to resolve objects on any slot.
 * Invariants:
 * - Only the batch's own locations are visible; a chain that leaves them fails loudly.
 */
import { ObjectReader, type ObjectIndex, type ObjectLocation, type Oid } from "../../engine/index.ts";
import type { JobContext } from "./jobs.ts";
import { WindowReader } from "./window-reader.ts";

export function batchObjectReader(ctx: JobContext, locations: Iterable<ObjectLocation>, cacheBytes = 16 << 20): ObjectReader {
  const known = new Map<Oid, ObjectLocation>();
  for (const l of locations) known.set(l.oid, l);
  const index: ObjectIndex = {
    async locate(oids) {
      const out = new Map<Oid, ObjectLocation>();
      for (const o of oids) {
        const l = known.get(o);
        if (l) out.set(o, l);
      }
      return out;
    },
  };
  return new ObjectReader(index, new WindowReader(ctx.packs, [...known.values()]), cacheBytes);
}
