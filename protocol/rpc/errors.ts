/**
 * The error codes an RPC reply can carry, and their HTTP statuses for the JSON route. Engine codes
 * that reach an RPC (rev-*, path-not-found, grep-*) are listed here too, so a client can switch on
 * one union.
 * Invariants:
 * - Bad input of any kind (schema, unknown rev, bad path, conflict) is a 4xx; the server sends no
 *   5xx but `rpc-internal`, which means a bug on our side.
 * - An error body is `GitError.toJSON()`: code, message, data, retryable.
 * Spec: RFC 9110 section 15 (statuses).
 */
import { GitError } from "../../engine/errors.ts";

export type RpcErrorCode =
  | "rpc-bad-input"
  | "rpc-unknown-method"
  | "rpc-internal"
  /** Client side: the reply did not match the method's output schema. */
  | "rpc-bad-reply"
  /** Client side: the connection dropped before the reply came (retryable). */
  | "rpc-unavailable"
  | "repo-not-found"
  | "rev-malformed"
  | "rev-not-found"
  | "rev-ambiguous"
  | "rev-wrong-type"
  | "path-not-found"
  | "path-conflict"
  | "range-invalid"
  | "blob-too-large"
  | "cursor-invalid"
  | "ref-conflict"
  | "ref-exists"
  | "ref-not-found"
  | "nothing-to-commit"
  | "grep-pattern-invalid"
  | "grep-pattern-too-complex"
  | "not-our-ref"
  /** A server-built object (commit, tag, tree) that git would refuse: a push's checks, run on writes. */
  | "object-malformed"
  | "object-invalid"
  /** The gateway: a plain request to the WebSocket endpoint. */
  | "upgrade-required"
  /** Over the caller's budget; `data.retryAfter` is in seconds (also the Retry-After header). */
  | "rate-limited"
  /** The repository runs as many expensive calls as it may at once; retry after `data.retryAfter` s. */
  | "busy";

export const RPC_ERROR_STATUS: Readonly<Record<RpcErrorCode, number>> = {
  "rpc-bad-input": 400,
  "rpc-unknown-method": 404,
  "rpc-internal": 500,
  "rpc-bad-reply": 502,
  "rpc-unavailable": 503,
  "repo-not-found": 404,
  "rev-malformed": 400,
  "rev-not-found": 404,
  "rev-ambiguous": 400,
  "rev-wrong-type": 400,
  "path-not-found": 404,
  "path-conflict": 409,
  "range-invalid": 416,
  "blob-too-large": 413,
  "cursor-invalid": 400,
  "ref-conflict": 409,
  "ref-exists": 409,
  "ref-not-found": 404,
  "nothing-to-commit": 400,
  "grep-pattern-invalid": 400,
  "grep-pattern-too-complex": 400,
  "not-our-ref": 400,
  "object-malformed": 400,
  "object-invalid": 400,
  "upgrade-required": 426,
  "rate-limited": 429,
  "busy": 429,
};

export interface RpcErrorBody {
  code: string;
  message: string;
  data: Readonly<Record<string, unknown>>;
  retryable: boolean;
}

/** Rebuilds the error a reply carried, on the far side of a socket, a DO stub or HTTP. */
export function errorFromBody(body: RpcErrorBody): GitError {
  return new GitError(body.code, body.message, { data: body.data, retryable: body.retryable });
}

export function rpcError(code: RpcErrorCode, message: string, data: Record<string, unknown> = {}): GitError<RpcErrorCode> {
  return new GitError(code, message, { data });
}
