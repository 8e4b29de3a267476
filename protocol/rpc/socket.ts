/**
 * The repository WebSocket's own conventions, shared by the server and the client: the close codes
 * the server ends a socket with when the caller may no longer read.
 * Invariants:
 * - A socket closed with one of these codes is refused for good: a client must not reconnect as is.
 * Spec: RFC 6455 section 7.4.2 (codes 4000-4999 are the application's).
 */

/** The token that opened the socket was revoked or expired. */
export const SOCKET_CLOSE_TOKEN_DEAD = 4001;
/** The caller may no longer read the repository (it was made private): answered as a missing repo. */
export const SOCKET_CLOSE_NOT_FOUND = 4004;
