/**
 * A PackWorker slot (`pack-slot-N`, partyserver): runs one bounded batch of a job (jobs.ts) and
 * streams its results back as frames (frames.ts). It reads pack ranges from R2 itself, so nothing
 * large passes through the caller's actor.
 * Invariants:
 * - A slot keeps no state between batches; any slot can run any batch.
 * - `PACK_WORKER_FAULTS` (tests only, e.g. "pack-slot-0:throw,pack-slot-1:hang") makes the named
 *   slots fail every batch, so the caller's retries can be exercised end to end.
 */
import { Server } from "partyserver";
import { GitError, toReadableStream } from "../../engine/index.ts";
import { R2PackReader } from "../r2/r2-pack-reader.ts";
import type { Env } from "../env.ts";
import { frameResults } from "./frames.ts";
import { isJobKind, runJob, type JobInput, type JobKind } from "./jobs.ts";

/** A hung slot sleeps this long: longer than any caller waits. */
const HANG_MS = 10 * 60_000;

export class PackWorker extends Server<Env> {
  /** Runs one batch; the reply is a framed byte stream (DO RPC carries byte streams only). */
  async runBatch<K extends JobKind>(kind: K, batch: JobInput<K>): Promise<ReadableStream<Uint8Array>> {
    const fault = slotFault((this.env as { PACK_WORKER_FAULTS?: string }).PACK_WORKER_FAULTS, this.name);
    if (fault === "throw") throw new Error(`${this.name}: injected fault`);
    if (fault === "hang") await new Promise((r) => setTimeout(r, HANG_MS));
    if (!isJobKind(kind)) throw new GitError("pack-worker-unknown-job", `no PackWorker job ${JSON.stringify(String(kind).slice(0, 40))}`);
    return toReadableStream(frameResults(runJob({ packs: new R2PackReader(this.env.PACKS) }, kind, batch)));
  }
}

/** The fault `spec` names for `slot`, if any. */
export function slotFault(spec: string | undefined, slot: string): "throw" | "hang" | undefined {
  for (const part of (spec ?? "").split(",")) {
    const [name, what] = part.trim().split(":");
    if (name === slot && (what === "throw" || what === "hang")) return what;
  }
  return undefined;
}
