/**
 * The `whole-entries` job: objects stored as deltas whose base a fetch does not send, resolved and
 * deflated into whole pack entries. A batch carries descriptors only (the objects, plus every base
 * on their delta chains); whoever runs it reads the pack ranges itself.
 * Invariants:
 * - One result per item, in item order: the entry header and deflated content of that object.
 * - A batch's context holds every base its items' chains need; a chain that leaves it is an error.
 * - Planning is lazy: one batch's chains are looked up at a time, so memory follows the batch.
 */
import { ByteLru, GitError, concatBytes, encodeWholeEntry, type ObjectIndex, type ObjectLocation, type Oid } from "../../engine/index.ts";
import { batchObjectReader } from "./batch-objects.ts";
import type { JobContext } from "./jobs.ts";

export interface WholeEntriesBatch {
  items: ObjectLocation[];
  /** Every base on the items' delta chains that is not itself an item. */
  context: ObjectLocation[];
}

export interface WholeEntriesLimits {
  /** Most objects in one batch. */
  objects: number;
  /** Most inflated bytes of the batch's objects (one larger object still gets a batch of its own). */
  bytes: number;
}

export async function* resolveWholeEntries(ctx: JobContext, batch: WholeEntriesBatch): AsyncGenerator<Uint8Array> {
  const objects = batchObjectReader(ctx, [...batch.context, ...batch.items]);
  for (const item of batch.items) yield concatBytes(encodeWholeEntry(await objects.readAt(item)));
}

/** Cuts `targets` (in pack order) into bounded batches, each with its chains' bases. */
export async function* planWholeEntries(index: ObjectIndex, targets: readonly ObjectLocation[], limits: WholeEntriesLimits): AsyncGenerator<WholeEntriesBatch> {
  // Bases shared by many batches (a long chain's root) are looked up once, within a byte budget.
  const seen = new ByteLru<Oid, ObjectLocation>(4 << 20, () => 200);
  let items: ObjectLocation[] = [];
  let bytes = 0;
  for (const t of targets) {
    if (items.length && (items.length >= limits.objects || bytes + t.size > limits.bytes)) {
      yield { items, context: await chainBases(index, items, seen) };
      items = [];
      bytes = 0;
    }
    items.push(t);
    bytes += t.size;
  }
  if (items.length) yield { items, context: await chainBases(index, items, seen) };
}

/** Every base on the delta chains of `items` that is not itself an item; `seen` spares repeated look-ups. */
export async function chainBases(index: ObjectIndex, items: readonly ObjectLocation[], seen: ByteLru<Oid, ObjectLocation>): Promise<ObjectLocation[]> {
  const inBatch = new Set(items.map((i) => i.oid));
  const context = new Map<Oid, ObjectLocation>();
  let frontier = [...new Set(items.filter((i) => i.baseOid).map((i) => i.baseOid!))];
  while (frontier.length) {
    const need = frontier.filter((o) => !inBatch.has(o) && !context.has(o));
    const lookup = need.filter((o) => !seen.has(o));
    const found = lookup.length ? await index.locate(lookup) : new Map<Oid, ObjectLocation>();
    const next = new Set<Oid>();
    for (const o of need) {
      const l = found.get(o) ?? seen.get(o);
      if (!l) throw new GitError("object-missing", `delta base ${o} is not stored`);
      seen.set(o, l);
      context.set(o, l);
      if (l.baseOid) next.add(l.baseOid);
    }
    frontier = [...next];
  }
  return [...context.values()];
}
