/** The bindings and vars of wrangler.jsonc, typed once. Runtime types come from `wrangler types --include-env=false`. */
import type { RepoActor } from "./repo/repo-actor.ts";
import type { PackWorker } from "./pack-worker/pack-worker.ts";
import type { TokenStore } from "./auth/token-store.ts";
import type { RepoDirectory } from "./repo/repo-directory.ts";

export interface Env {
  RepoActor: DurableObjectNamespace<RepoActor>;
  PackWorker: DurableObjectNamespace<PackWorker>;
  PACKS: R2Bucket;
  TokenStore: DurableObjectNamespace<TokenStore>;
  /** Which repository names may exist (actors/repo/repo-directory.ts). */
  RepoDirectory: DurableObjectNamespace<RepoDirectory>;
  /** Per-caller budgets (gateway/rate-limit.ts): cheap reads; grep, diff and log of a path; writes. */
  CHEAP_READS: RateLimit;
  EXPENSIVE_READS: RateLimit;
  WRITES: RateLimit;
  /** Override the bindings' limits per period ("off": none); for local and test servers. */
  CHEAP_READS_LIMIT?: string;
  EXPENSIVE_READS_LIMIT?: string;
  WRITES_LIMIT?: string;
  /** Expensive RPC calls one repository runs at once; more are refused `busy`. */
  EXPENSIVE_CALLS_PER_REPO?: string;
  /** The bootstrap admin token (a secret: `wrangler secret put ADMIN_TOKEN`, or .dev.vars locally). */
  ADMIN_TOKEN?: string;
  /** Visibility of a new repository: "public" (default) or "private". */
  DEFAULT_VISIBILITY?: string;
  /** "true": a socket may carry its token as `?token=` (old clients); otherwise that is refused, 400. */
  ALLOW_TOKEN_IN_URL?: string;
  /** "true": the first push to a missing repo creates it. */
  AUTO_CREATE?: string;
  MAX_PACK_BYTES?: string;
  MAX_PACK_OBJECTS?: string;
  MAX_OBJECT_BYTES?: string;
  MAX_DELTA_DEPTH?: string;
  MAX_INFLATED_BYTES?: string;
  MAX_NEGOTIATION_BYTES?: string;
}
