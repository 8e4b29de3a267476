/**
 * What every RPC function runs with: the repository's store and object reader, the R2 bucket for
 * new packs, limits, and the hook that tells subscribers about ref moves.
 * Invariants:
 * - `publish` is called after the transaction that wrote the `ref_log` rows, with their seqs in
 *   commit order.
 */
import type { ObjectReader, PackReader } from "../../../engine/index.ts";
import type { PackPool } from "../../pack-worker/pool.ts";
import type { RepoLimits } from "../limits.ts";
import type { RepoStore } from "../repo-store.ts";

export interface RpcContext {
  store: RepoStore;
  objects: ObjectReader;
  bucket: R2Bucket;
  repoId: string;
  limits: RepoLimits;
  /** The first write may create the repository (the AUTO_CREATE var). */
  mayCreate: boolean;
  publish(seqs: readonly number[]): void;
  /** Stored packs' bytes, for work that runs on PackWorker slots or falls back to running here. */
  packs: PackReader;
  /** The PackWorker pool; by default configured from the Worker's env (wrangler vars). */
  pool?: PackPool;
}
