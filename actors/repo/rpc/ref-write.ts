/**
 * Moves one ref by compare-and-swap inside the caller's transaction, logs the move in `ref_log`
 * (bounded), and keeps HEAD and the reachability marks (`markStranded`) right.
 * Invariants:
 * - Call only inside `store.transact`: a failed check throws and the whole transaction rolls back.
 * - `expected` null means the ref must not exist (`ref-exists` otherwise); a mismatch is
 *   `ref-conflict` with the actual value in `data`.
 */
import { ZERO_OID, type Oid } from "../../../engine/index.ts";
import { rpcError } from "../../../protocol/rpc/index.ts";
import { chooseHead } from "../head.ts";
import { markStranded } from "../reachability.ts";
import type { RepoStore } from "../repo-store.ts";
import { trimRefLog, type RefEventSource } from "./ref-log.ts";

export function casRef(store: RepoStore, ref: string, expected: Oid | null, next: Oid | null, source: RefEventSource): number {
  checkRef(store, ref, expected);
  store.setRef(ref, next);
  // A delete or a move that is not a fast-forward may leave objects no ref reaches.
  if (next === null || (expected !== null && !store.isAncestor(expected, next))) markStranded(store);
  const seq = store.appendRefLog(ref, expected ?? ZERO_OID, next ?? ZERO_OID, source, Date.now());
  trimRefLog(store);
  chooseHead(store);
  return seq;
}

/** Throws unless `ref` is at `expected` (null: absent). Callers check early to save work, then again in the transaction. */
export function checkRef(store: RepoStore, ref: string, expected: Oid | null): void {
  const current = store.ref(ref) ?? null;
  if (current === expected) return;
  if (expected === null) throw rpcError("ref-exists", `${ref} already exists`, { ref, actual: current });
  throw rpcError("ref-conflict", `${ref} is at ${current ?? "nothing"}, not ${expected}: it moved`, { ref, expected, actual: current });
}
