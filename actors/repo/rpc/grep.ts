/**
 * `grep`: walks the files of a revision that the pathspecs admit, in tree order, and searches them
 * in batches with the pure `grepBatch`. Files are taken in chunks; a chunk at least as large as the
 * PackWorker pool's threshold is scattered across slots (each reads its blobs from R2 itself) and
 * gathered in order, a smaller one is searched here.
 * Invariants:
 * - Bounded three ways: matches (`maxResults`), blob bytes read (MAX_GREP_BYTES) and matcher steps
 *   (MATCH_STEPS, see engine/grep/pike-vm.ts); `stoppedBy` names the bound that ended the search.
 * - Files larger than MAX_FILE_BYTES are skipped, so one huge blob cannot eat the byte budget.
 * - The search yields to the event loop every slice of matcher work (`Pacer`), here and in the slots.
 */
import type { Oid } from "../../../engine/index.ts";
import { GREP_SLICE_UNITS, compileGrepPattern, grepBatch, matchesPathspecs, pathspecsMayContain, treeFiles, type GrepTarget } from "../../../engine/grep/index.ts";
import { resolveTree } from "../../../engine/rev/index.ts";
import type { RpcParsedInput, RpcResult } from "../../../protocol/rpc/index.ts";
import type { RpcContext } from "./context.ts";
import { packPoolFromEnv, runBatches, type PackPool, type PackPoolEnv } from "../../pack-worker/pool.ts";
import { planWholeEntries } from "../../pack-worker/whole-entries.ts";
import type { GrepJobResult } from "../../pack-worker/grep-job.ts";
import { env as workerEnv } from "cloudflare:workers";
import { Pacer, fromUtf8, type ObjectLocation } from "../../../engine/index.ts";
import { readTree, revContext } from "./rev-context.ts";

const MAX_GREP_BYTES = 32 << 20;
const MAX_FILE_BYTES = 4 << 20;
const MATCH_STEPS = 50_000_000;
const BATCH_BYTES = 1 << 20;
const BATCH_FILES = 64;
const MAX_LINE_CHARS = 500;
/** Files gathered before deciding where a chunk runs; bounds the walk's memory. */
const CHUNK_FILES = 4096;

export async function grep(ctx: RpcContext, input: RpcParsedInput<"grep">): Promise<RpcResult<"grep">> {
  const vm = compileGrepPattern(input.pattern, { ignoreCase: input.ignoreCase, fixed: input.fixed });
  const root = await resolveTree(revContext(ctx), input.rev);
  const files = treeFiles((oid) => readTree(ctx, oid), root, {
    accepts: (p) => matchesPathspecs(p, input.paths),
    mayContain: (d) => pathspecsMayContain(d, input.paths),
  });
  const out: RpcResult<"grep"> = { matches: [], truncated: false, stoppedBy: null, filesSearched: 0, binarySkipped: 0 };
  const budget = { steps: MATCH_STEPS };
  const pace = new Pacer(GREP_SLICE_UNITS);
  let bytesLeft = MAX_GREP_BYTES;
  let batch: GrepTarget[] = [];
  let batchBytes = 0;

  /** Searches the pending batch; false once a bound stops the search. */
  const flush = async (): Promise<boolean> => {
    const objects = new Map<Oid, Uint8Array>();
    for (const t of batch) objects.set(t.oid, (await ctx.objects.require(t.oid)).data);
    const r = await grepBatch(objects, batch, vm, { maxMatches: input.maxResults - out.matches.length, maxLineChars: MAX_LINE_CHARS, budget, pace });
    out.matches.push(...r.matches);
    out.filesSearched += r.searched;
    out.binarySkipped += r.binarySkipped;
    batch = [];
    batchBytes = 0;
    if (r.stopped) out.stoppedBy = r.stopped;
    return r.stopped === null;
  };

  const pool = ctx.pool ?? packPoolFromEnv(workerEnv as PackPoolEnv);
  let chunk: { target: GrepTarget; location: ObjectLocation }[] = [];

  /** Runs a gathered chunk: scattered over the pool past its threshold, else in local batches. */
  const runChunk = async (): Promise<boolean> => {
    const work = chunk;
    chunk = [];
    if (pool.slot && work.length >= pool.threshold) return scatter(ctx, pool, work, input, out, budget);
    for (const { target, location } of work) {
      batch.push(target);
      batchBytes += location.size;
      if ((batchBytes >= BATCH_BYTES || batch.length >= BATCH_FILES) && !(await flush())) return false;
    }
    return batch.length === 0 || (await flush());
  };

  for await (const f of files) {
    const location = ctx.store.locateSync([f.oid]).get(f.oid);
    const size = location?.size ?? 0;
    if (!location || size > MAX_FILE_BYTES) continue;
    if (size > bytesLeft) {
      out.stoppedBy = "max-bytes";
      break;
    }
    bytesLeft -= size;
    chunk.push({ target: { path: f.path, oid: f.oid }, location });
    if (chunk.length >= CHUNK_FILES && !(await runChunk())) break;
  }
  if ((out.stoppedBy === null || out.stoppedBy === "max-bytes") && chunk.length) await runChunk();
  out.truncated = out.stoppedBy !== null;
  return out;
}

/** One chunk on the pool: batches of blobs with their delta chains, results merged in tree order. */
async function scatter(
  ctx: RpcContext,
  pool: PackPool,
  work: readonly { target: GrepTarget; location: ObjectLocation }[],
  input: RpcParsedInput<"grep">,
  out: RpcResult<"grep">,
  budget: { steps: number },
): Promise<boolean> {
  let next = 0;
  const batches = (async function* () {
    for await (const b of planWholeEntries(ctx.store, work.map((w) => w.location), { objects: pool.batchObjects, bytes: BATCH_BYTES * 4 })) {
      const items = b.items.map((location) => ({ location, path: work[next++]!.target.path }));
      yield { items, context: b.context, pattern: input.pattern, ignoreCase: input.ignoreCase, fixed: input.fixed,
        maxMatches: input.maxResults, maxLineChars: MAX_LINE_CHARS, steps: Math.max(1, Math.floor(budget.steps / 4)) };
    }
  })();
  for await (const results of runBatches(pool, "grep", batches, { local: { packs: ctx.packs } })) {
    for (const bytes of results) {
      const r = JSON.parse(fromUtf8(bytes)) as GrepJobResult;
      out.filesSearched++;
      if (r.binary) out.binarySkipped++;
      for (const m of r.matches) {
        if (out.matches.length >= input.maxResults) {
          out.stoppedBy = "max-results";
          return false;
        }
        out.matches.push(m);
      }
      if (r.stopped === "budget") {
        out.stoppedBy = "budget";
        return false;
      }
    }
  }
  return true;
}
