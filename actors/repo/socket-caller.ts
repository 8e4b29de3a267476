/**
 * Who is on the other end of a socket: the caller the gateway verified at the upgrade, kept in the
 * connection's state so every later read on that socket (each RPC call, each event) is judged
 * against it by `authorize`, as an HTTP request is.
 * Invariants:
 * - Only the gateway sets CALLER_HEADER (it drops any the client sent); it carries a verified
 *   principal, never a token.
 * - An expired token, or one the TokenStore reported revoked, speaks for a bad token from that
 *   moment on: its reads are refused before the socket is even closed.
 * - State lives in the connection's attachment, so it survives hibernation.
 */
import type { Connection } from "agents";
import type { Caller } from "../auth/access.ts";

/** Set by the gateway on a WebSocket upgrade: the verified caller as JSON (never the token). */
export const CALLER_HEADER = "x-edgegit-caller";
/** Set by the gateway on a WebSocket upgrade: the key the caller's budgets are kept under. */
export const RATE_KEY_HEADER = "x-edgegit-rate-key";

interface CallerState {
  caller?: Caller;
  /** The caller's rate-limit key (gateway/rate-limit.ts `callerKey`): each call on the socket is charged to it. */
  rateKey?: string;
  /** The TokenStore said this socket's token was revoked. */
  revoked?: boolean;
}

function stateOf(conn: Connection): CallerState & Record<string, unknown> {
  return (conn.state as (CallerState & Record<string, unknown>) | null | undefined) ?? {};
}

export function encodeCaller(caller: Caller): string {
  return JSON.stringify(caller);
}

/**
 * The caller a gateway header names. Anything unreadable is a bad token: the header comes from our
 * gateway, so a malformed one is a bug, and refusing is the safe answer.
 */
export function decodeCaller(header: string | null): Caller {
  if (header === null) return { kind: "bad-token" };
  try {
    const c = JSON.parse(header) as Caller;
    if (c.kind === "anonymous") return { kind: "anonymous" };
    if (c.kind === "token" && typeof c.principal?.tokenId === "string" && Array.isArray(c.principal.scopes) && Array.isArray(c.principal.repos))
      return { kind: "token", principal: c.principal };
  } catch {
    // fall through: not JSON
  }
  return { kind: "bad-token" };
}

export function rememberCaller(conn: Connection, caller: Caller, rateKey: string | null): void {
  conn.setState({ ...stateOf(conn), caller, rateKey: rateKey ?? "unknown" });
}

/** The key this socket's calls are charged to. */
export function rateKeyOfConnection(conn: Connection): string {
  return stateOf(conn).rateKey ?? "unknown";
}

/** Marks the socket's token dead, so its reads fail even before the close reaches the client. */
export function markRevoked(conn: Connection): void {
  conn.setState({ ...stateOf(conn), revoked: true });
}

/** The caller a read on this socket is judged as, at `now`. */
export function callerOfConnection(conn: Connection, now: number): Caller {
  const { caller, revoked } = stateOf(conn);
  if (!caller) return { kind: "bad-token" }; // a socket that never went through onConnect's set-up
  if (caller.kind !== "token") return caller;
  const expiresAt = caller.principal.expiresAt ?? null;
  if (revoked || (expiresAt !== null && expiresAt <= now)) return { kind: "bad-token" };
  return caller;
}

/** The id of the token that opened the socket, if one did. */
export function tokenOfConnection(conn: Connection): string | undefined {
  const { caller } = stateOf(conn);
  return caller?.kind === "token" ? caller.principal.tokenId : undefined;
}
