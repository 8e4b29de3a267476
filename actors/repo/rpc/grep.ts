/**
 * `grep`: walks the files of a revision that the pathspecs admit, in tree order, and searches them
 * in batches with the pure `grepBatch` (the place a PackWorker fan-out plugs in: each batch's blob
 * ids go to a slot instead of being read and searched here).
 * Invariants:
 * - Bounded three ways: matches (`maxResults`), blob bytes read (MAX_GREP_BYTES) and matcher steps
 *   (MATCH_STEPS, see engine/grep/pike-vm.ts); `stoppedBy` names the bound that ended the search.
 * - Files larger than MAX_FILE_BYTES are skipped, so one huge blob cannot eat the byte budget.
 */
import type { Oid } from "../../../engine/index.ts";
import { compileGrepPattern, grepBatch, matchesPathspecs, pathspecsMayContain, treeFiles, type GrepTarget } from "../../../engine/grep/index.ts";
import { resolveTree } from "../../../engine/rev/index.ts";
import type { RpcParsedInput, RpcResult } from "../../../protocol/rpc/index.ts";
import type { RpcContext } from "./context.ts";
import { readTree, revContext } from "./rev-context.ts";

const MAX_GREP_BYTES = 32 << 20;
const MAX_FILE_BYTES = 4 << 20;
const MATCH_STEPS = 50_000_000;
const BATCH_BYTES = 1 << 20;
const BATCH_FILES = 64;
const MAX_LINE_CHARS = 500;

export async function grep(ctx: RpcContext, input: RpcParsedInput<"grep">): Promise<RpcResult<"grep">> {
  const vm = compileGrepPattern(input.pattern, { ignoreCase: input.ignoreCase, fixed: input.fixed });
  const root = await resolveTree(revContext(ctx), input.rev);
  const files = treeFiles((oid) => readTree(ctx, oid), root, {
    accepts: (p) => matchesPathspecs(p, input.paths),
    mayContain: (d) => pathspecsMayContain(d, input.paths),
  });
  const out: RpcResult<"grep"> = { matches: [], truncated: false, stoppedBy: null, filesSearched: 0, binarySkipped: 0 };
  const budget = { steps: MATCH_STEPS };
  let bytesLeft = MAX_GREP_BYTES;
  let batch: GrepTarget[] = [];
  let batchBytes = 0;

  /** Searches the pending batch; false once a bound stops the search. */
  const flush = async (): Promise<boolean> => {
    const objects = new Map<Oid, Uint8Array>();
    for (const t of batch) objects.set(t.oid, (await ctx.objects.require(t.oid)).data);
    const r = grepBatch(objects, batch, vm, { maxMatches: input.maxResults - out.matches.length, maxLineChars: MAX_LINE_CHARS, budget });
    out.matches.push(...r.matches);
    out.filesSearched += r.searched;
    out.binarySkipped += r.binarySkipped;
    batch = [];
    batchBytes = 0;
    if (r.stopped) out.stoppedBy = r.stopped;
    return r.stopped === null;
  };

  for await (const f of files) {
    const size = ctx.store.locateSync([f.oid]).get(f.oid)?.size ?? 0;
    if (size > MAX_FILE_BYTES) continue;
    if (size > bytesLeft) {
      out.stoppedBy = "max-bytes";
      break;
    }
    bytesLeft -= size;
    batch.push({ path: f.path, oid: f.oid });
    batchBytes += size;
    if ((batchBytes >= BATCH_BYTES || batch.length >= BATCH_FILES) && !(await flush())) break;
  }
  if (out.stoppedBy === null || out.stoppedBy === "max-bytes") if (batch.length) await flush();
  out.truncated = out.stoppedBy !== null;
  return out;
}
