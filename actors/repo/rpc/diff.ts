/**
 * `diff`: the tree diff between two revisions, rename detection, then text hunks per file, computed
 * in batches by the pure `diffBatch`: here for a few files, scattered across PackWorker slots (each
 * reading its blobs from R2) once the files reach the pool's threshold.
 * Invariants:
 * - Blob bytes read per request are bounded (MAX_DIFF_BYTES), as is each file (MAX_FILE_BYTES) and
 *   the line-diff work (DIFF_STEPS); files past a bound are `tooLarge`, with no hunks.
 * - The line diff yields to the event loop every slice of work (`Pacer`), here and in the slots.
 */
import { decodeCommit, entryKind, type Oid } from "../../../engine/index.ts";
import { DIFF_SLICE_UNITS, detectRenames, diffBatch, diffTrees, type FileDiff, type RenamedChange, type TreeChange } from "../../../engine/diff/index.ts";
import { matchesPathspecs, pathspecsMayContain } from "../../../engine/grep/index.ts";
import { resolveCommit, resolveTree } from "../../../engine/rev/index.ts";
import type { RpcParsedInput, RpcResult } from "../../../protocol/rpc/index.ts";
import type { RpcContext } from "./context.ts";
import { env as workerEnv } from "cloudflare:workers";
import { Pacer, fromUtf8, type ObjectLocation } from "../../../engine/index.ts";
import { packPoolFromEnv, runBatches, type PackPool, type PackPoolEnv } from "../../pack-worker/pool.ts";
import { planWholeEntries } from "../../pack-worker/whole-entries.ts";
import { readTree, revContext } from "./rev-context.ts";

const MAX_FILE_BYTES = 1 << 20;
const MAX_DIFF_BYTES = 16 << 20;
const DIFF_STEPS = 20_000_000;
const RENAME_CANDIDATES = 100;
const BATCH_FILES = 32;

export async function diff(ctx: RpcContext, input: RpcParsedInput<"diff">): Promise<RpcResult<"diff">> {
  const rc = revContext(ctx);
  const to = await resolveTree(rc, input.to);
  const from = input.from !== undefined ? await resolveTree(rc, input.from) : await firstParentTree(ctx, await resolveCommit(rc, input.to));
  const filter = input.paths.length
    ? { accepts: (p: string) => matchesPathspecs(p, input.paths), mayContain: (d: string) => pathspecsMayContain(d, input.paths) }
    : undefined;
  const tree = await diffTrees((oid) => readTree(ctx, oid), from, to, { maxChanges: input.maxFiles, ...(filter ? { filter } : {}) });

  const loader = new BlobLoader(ctx);
  let files: (TreeChange | RenamedChange)[] = tree.changes;
  if (input.renames) {
    const adds = tree.changes.filter((c) => c.status === "added").map((c) => c.new!.oid);
    const dels = tree.changes.filter((c) => c.status === "deleted").map((c) => c.old!.oid);
    const inexact = adds.length <= RENAME_CANDIDATES && dels.length <= RENAME_CANDIDATES && adds.length > 0 && dels.length > 0;
    const contents = inexact ? await loader.load([...adds, ...dels]) : new Map<Oid, Uint8Array>();
    files = detectRenames(tree.changes, contents, { minScore: 0.5, maxCandidates: RENAME_CANDIDATES });
  }

  const budget = { steps: DIFF_STEPS };
  const pace = new Pacer(DIFF_SLICE_UNITS);
  const out: RpcResult<"diff">["files"] = [];
  const pool = ctx.pool ?? packPoolFromEnv(workerEnv as PackPoolEnv);
  if (pool.slot && files.length >= pool.threshold) {
    await scatter(ctx, pool, files, input.context, out);
    return { from, to, files: out, truncated: tree.truncated };
  }
  for (let i = 0; i < files.length; i += BATCH_FILES) {
    const batch = files.slice(i, i + BATCH_FILES);
    const side = (s: { mode: string; oid: Oid } | undefined) => (s && entryKind(s.mode) === "blob" ? s.oid : null);
    const objects = await loader.load(batch.flatMap((f) => [side(f.old), side(f.new)].filter((o): o is Oid => o !== null)));
    const loadable = batch.filter((f) => [side(f.old), side(f.new)].every((o) => o === null || objects.has(o)));
    const pairs = loadable.map((f) => ({ oldOid: side(f.old), newOid: side(f.new) }));
    const diffs = await diffBatch(objects, pairs, { context: input.context, maxFileBytes: MAX_FILE_BYTES, budget, pace });
    const byFile = new Map(loadable.map((f, k) => [f, diffs[k]!]));
    for (const f of batch) out.push(describe(f, byFile.get(f) ?? { binary: false, tooLarge: true, hunks: [] }));
  }
  return { from, to, files: out, truncated: tree.truncated || budget.steps < 0 };
}

/**
 * The hunks of every file on the pool. A pair whose blobs would pass the per-file or per-request
 * byte bounds is `tooLarge` without being read, as the local path does.
 */
async function scatter(ctx: RpcContext, pool: PackPool, files: readonly (TreeChange | RenamedChange)[], contextLines: number, out: RpcResult<"diff">["files"]) {
  const side = (s: { mode: string; oid: Oid } | undefined) => (s && entryKind(s.mode) === "blob" ? s.oid : undefined);
  const located = ctx.store.locateSync(files.flatMap((f) => [side(f.old), side(f.new)].filter((o): o is Oid => o !== undefined)));
  let left = MAX_DIFF_BYTES;
  const work = files.map((f) => {
    const pair = { old: located.get(side(f.old)!), new: located.get(side(f.new)!) };
    const bytes = (pair.old?.size ?? 0) + (pair.new?.size ?? 0);
    const fits = [pair.old, pair.new].every((l) => !l || l.size <= MAX_FILE_BYTES) && bytes <= left;
    if (fits) left -= bytes;
    return { file: f, pair: fits ? pair : undefined };
  });
  const scattered = work.filter((w) => w.pair);
  const batches = (async function* () {
    for (let i = 0; i < scattered.length; i += pool.batchObjects) {
      const items = scattered.slice(i, i + pool.batchObjects).map((w) => w.pair!);
      const sides = items.flatMap((p) => [p.old, p.new].filter((l): l is ObjectLocation => l !== undefined));
      // One planned batch per group of pairs, so its context holds both sides' delta chains.
      let context: ObjectLocation[] = [];
      for await (const planned of planWholeEntries(ctx.store, sides, { objects: Number.MAX_SAFE_INTEGER, bytes: Number.MAX_SAFE_INTEGER })) context = planned.context;
      yield { items, context, contextLines, maxFileBytes: MAX_FILE_BYTES, steps: Math.floor(DIFF_STEPS / 4) };
    }
  })();
  const diffs: FileDiff[] = [];
  for await (const results of runBatches(pool, "diff", batches, { local: { packs: ctx.packs } }))
    for (const r of results) diffs.push(JSON.parse(fromUtf8(r)) as FileDiff);
  let k = 0;
  for (const w of work) out.push(describe(w.file, w.pair ? diffs[k++]! : { binary: false, tooLarge: true, hunks: [] }));
}

async function firstParentTree(ctx: RpcContext, commit: Oid): Promise<Oid | null> {
  const parent = decodeCommit((await ctx.objects.require(commit)).data).parents[0];
  return parent ? decodeCommit((await ctx.objects.require(parent)).data).tree : null;
}

function describe(f: TreeChange | RenamedChange, d: FileDiff): RpcResult<"diff">["files"][number] {
  return {
    status: f.status,
    path: f.path,
    ...(f.status === "renamed" ? { oldPath: f.oldPath, similarity: f.similarity } : {}),
    ...(f.old ? { oldMode: f.old.mode, oldOid: f.old.oid } : {}),
    ...(f.new ? { newMode: f.new.mode, newOid: f.new.oid } : {}),
    ...d,
  };
}

/** Reads blobs within the per-file and per-request byte bounds; a blob past them is left out. */
class BlobLoader {
  #left = MAX_DIFF_BYTES;
  #cache = new Map<Oid, Uint8Array>();
  constructor(private readonly ctx: RpcContext) {}

  async load(oids: readonly Oid[]): Promise<Map<Oid, Uint8Array>> {
    const out = new Map<Oid, Uint8Array>();
    const sizes = this.ctx.store.locateSync(oids.filter((o) => !this.#cache.has(o)));
    for (const oid of oids) {
      const hit = this.#cache.get(oid);
      if (hit) {
        out.set(oid, hit);
        continue;
      }
      const size = sizes.get(oid)?.size;
      if (size === undefined || size > MAX_FILE_BYTES || size > this.#left) continue;
      this.#left -= size;
      const data = (await this.ctx.objects.require(oid)).data;
      this.#cache.set(oid, data);
      out.set(oid, data);
    }
    return out;
  }
}
