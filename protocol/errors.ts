/**
 * The one table from error codes to HTTP statuses, for codes from every folder that can reach a response.
 * Invariants:
 * - Bad input maps to a 4xx; an unknown code is our bug and maps to 500.
 * - Every code a `protocol/` parser throws is listed in `ProtocolErrorCode` and in the table.
 * Spec: gitprotocol-http(5), "Smart Server Response" (status codes); RFC 9110 section 15.
 */
export type ProtocolErrorCode =
  | "pkt-line-malformed"
  | "pkt-line-truncated"
  | "pkt-line-unexpected"
  | "pkt-line-too-long"
  | "upload-pack-request-malformed"
  | "v2-request-malformed"
  | "receive-pack-request-malformed"
  | "bad-repo-name";

export const PROTOCOL_ERROR_STATUS: Record<string, number> = {
  "pkt-line-malformed": 400,
  "pkt-line-truncated": 400,
  "pkt-line-unexpected": 400,
  // Only our own writers throw this (a payload we built is too big), so it is a bug.
  "pkt-line-too-long": 500,
  "upload-pack-request-malformed": 400,
  "v2-request-malformed": 400,
  "receive-pack-request-malformed": 400,
  "bad-repo-name": 400,
  "repo-not-found": 404,
  "unexpected-eof": 400,
  "bad-oid": 400,
  "method-not-allowed": 405,
  "unsupported-media-type": 415,
  "payload-too-large": 413,
  "not-found": 404,
  "unsupported-service": 403,
  "capability-not-advertised": 400,
  "not-our-ref": 400,
  "body-unreadable": 400,
  "unauthorized": 401,
  "token-in-url": 400,
  "forbidden": 403,
  "writes-disabled": 403,
  "bad-token-request": 400,
  "bad-settings": 400,
  "filter-unsupported": 400,
  // engine codes: bad objects, packs and deltas sent by a client
  "object-malformed": 400,
  "object-size-mismatch": 400,
  "object-invalid": 400,
  "object-too-large": 413,
  "delta-base-size-mismatch": 400,
  "delta-out-of-bounds": 400,
  "delta-malformed": 400,
  "delta-base-missing": 400,
  "delta-too-deep": 400,
  "delta-cycle": 400,
  "pack-malformed": 400,
  "pack-truncated": 400,
  "pack-trailer-mismatch": 400,
  "pack-entry-malformed": 400,
  "pack-too-many-objects": 413,
  "pack-too-large": 413,
  "zlib-corrupt": 400,
  "zlib-size-mismatch": 400,
  "missing-objects": 400,
  // over a caller's budget (gateway/rate-limit.ts) or the repo's expensive-call cap; Retry-After says when
  "rate-limited": 429,
  "busy": 429,
};

export function httpStatusFor(code: string): number {
  return Object.hasOwn(PROTOCOL_ERROR_STATUS, code) ? PROTOCOL_ERROR_STATUS[code]! : 500;
}
