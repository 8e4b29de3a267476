/** The bindings and vars of wrangler.jsonc, typed once. */
import type { RepoActor } from "./repo/repo-actor.ts";
import type { PackWorker } from "./pack-worker/pack-worker.ts";

export interface Env {
  RepoActor: DurableObjectNamespace<RepoActor>;
  PackWorker: DurableObjectNamespace<PackWorker>;
  PACKS: R2Bucket;
  /** "true": the first push to a missing repo creates it. */
  AUTO_CREATE?: string;
}
