/**
 * Per-push and per-request limits, configurable through wrangler vars, checked before work is wasted.
 * Invariants:
 * - Every limit is finite: no request can make the actor spin without bound.
 */
import { ENTRIES_IN_MEMORY } from "./push-staging.ts";

export interface RepoLimits {
  maxPackBytes: number;
  maxObjects: number;
  maxObjectBytes: number;
  /** Inflated bytes of all objects of one pushed pack together. */
  maxInflatedBytes: number;
  maxDeltaDepth: number;
  /** Bytes of one upload-pack request body (wants, haves, options), after gzip decoding. */
  maxNegotiationBytes: number;
  /** Entries of one pushed pack kept in memory while it is indexed; past this they spill to SQLite. */
  pushEntriesInMemory: number;
}

export const DEFAULT_LIMITS: RepoLimits = {
  maxPackBytes: 2 * 1024 ** 3,
  maxObjects: 2_000_000,
  maxObjectBytes: 100 * 1024 ** 2,
  maxInflatedBytes: 16 * 1024 ** 3,
  maxDeltaDepth: 1000,
  maxNegotiationBytes: 16 * 1024 ** 2,
  pushEntriesInMemory: ENTRIES_IN_MEMORY,
};

export function limitsFromEnv(vars: Record<string, unknown>): RepoLimits {
  const num = (name: string, dflt: number) => {
    const v = Number(vars[name]);
    return Number.isFinite(v) && v > 0 ? v : dflt;
  };
  return {
    maxPackBytes: num("MAX_PACK_BYTES", DEFAULT_LIMITS.maxPackBytes),
    maxObjects: num("MAX_PACK_OBJECTS", DEFAULT_LIMITS.maxObjects),
    maxObjectBytes: num("MAX_OBJECT_BYTES", DEFAULT_LIMITS.maxObjectBytes),
    maxInflatedBytes: num("MAX_INFLATED_BYTES", DEFAULT_LIMITS.maxInflatedBytes),
    maxDeltaDepth: num("MAX_DELTA_DEPTH", DEFAULT_LIMITS.maxDeltaDepth),
    maxNegotiationBytes: num("MAX_NEGOTIATION_BYTES", DEFAULT_LIMITS.maxNegotiationBytes),
    pushEntriesInMemory: num("PUSH_ENTRIES_IN_MEMORY", DEFAULT_LIMITS.pushEntriesInMemory),
  };
}
