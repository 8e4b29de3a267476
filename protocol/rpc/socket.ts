/**
 * The repository WebSocket's own conventions, shared by the server and the client: how a token
 * travels (as a subprotocol, never in the URL), and the close codes the server ends a socket with
 * when the caller may no longer read.
 * Invariants:
 * - A token is offered as `edgegit.token.<token>` next to `edgegit`; the server answers with
 *   `edgegit`, so the token is never echoed. Browsers can set subprotocols, not headers.
 * - A socket closed with one of the close codes is refused for good: a client must not reconnect as is.
 * Spec: RFC 6455 sections 1.9 and 4.1 (Sec-WebSocket-Protocol), 7.4.2 (codes 4000-4999 are the application's).
 */

/** The subprotocol the server selects whenever the client offers it. */
export const SOCKET_PROTOCOL = "edgegit";
/** A subprotocol carrying the caller's token; tokens are base64url, all valid in a protocol name. */
export const SOCKET_TOKEN_PROTOCOL_PREFIX = "edgegit.token.";

/** The subprotocols a client offers: ours, and the token when it has one. */
export function socketProtocols(token?: string): string[] {
  return token ? [SOCKET_PROTOCOL, SOCKET_TOKEN_PROTOCOL_PREFIX + token] : [SOCKET_PROTOCOL];
}

/** What a `Sec-WebSocket-Protocol` request header offers: ours or not, and the token if one is there. */
export function parseSocketProtocols(header: string | null): { ours: boolean; token: string | undefined } {
  const offered = (header ?? "").split(",").map((p) => p.trim()).filter((p) => p !== "");
  const carrying = offered.find((p) => p.startsWith(SOCKET_TOKEN_PROTOCOL_PREFIX));
  return { ours: offered.includes(SOCKET_PROTOCOL), token: carrying?.slice(SOCKET_TOKEN_PROTOCOL_PREFIX.length) };
}

/** The token that opened the socket was revoked or expired. */
export const SOCKET_CLOSE_TOKEN_DEAD = 4001;
/** The caller may no longer read the repository (it was made private): answered as a missing repo. */
export const SOCKET_CLOSE_NOT_FOUND = 4004;
