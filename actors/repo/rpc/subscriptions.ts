/**
 * Live ref subscriptions on the agents SDK's connections: each connection's state lists its
 * subscriptions (id and ref prefix); `deliver` sends each new event to the matching ones, and
 * `subscribe` first replays what a resuming subscriber missed.
 * Invariants:
 * - Replay and registration happen in one synchronous step, so no event can fall between them:
 *   an event is either in the replay or delivered live, never both, never neither.
 * - Frames go out in seq order on every connection (the actor is single-threaded and sends
 *   synchronously after each transaction).
 * - Subscription state lives in the connection's attachment, so it survives hibernation.
 * - An event reaches a connection only if that connection's caller may read the repo at the moment
 *   of delivery (`mayRead`), so a repo made private or a dead token stops events at once.
 */
import type { Connection } from "agents";
import { REF_EVENT_FRAME, rpcError, toWire, type RpcParsedInput, type RpcResult } from "../../../protocol/rpc/index.ts";
import type { RepoStore } from "../repo-store.ts";
import { eventsSince, logBounds, type RefEvent } from "./ref-log.ts";

export const MAX_SUBSCRIPTIONS = 32;

interface Subscription {
  id: string;
  prefix: string;
}

interface SubscriberState {
  subs: Subscription[];
}

function stateOf(conn: Connection): Partial<SubscriberState> {
  return (conn.state as SubscriberState | null | undefined) ?? {};
}

function subsOf(conn: Connection): Subscription[] {
  const subs = stateOf(conn).subs;
  return Array.isArray(subs) ? subs : [];
}

function frame(sub: string, event: RefEvent): string {
  return JSON.stringify({ type: REF_EVENT_FRAME, sub, event: toWire(event) });
}

export function subscribe(store: RepoStore, conn: Connection, input: RpcParsedInput<"subscribe">): RpcResult<"subscribe"> {
  const others = subsOf(conn).filter((s) => s.id !== input.id);
  if (others.length >= MAX_SUBSCRIPTIONS) throw rpcError("rpc-bad-input", `at most ${MAX_SUBSCRIPTIONS} subscriptions per connection`);
  const { latest, oldest } = logBounds(store);
  let gap = false;
  let replayed = 0;
  if (input.since !== undefined) {
    // A seq from the future belongs to another life of this repository; one older than the log's
    // start means rows were trimmed. Either way the subscriber must re-read the refs.
    gap = input.since > latest || (oldest !== null ? input.since < oldest - 1 : input.since < latest);
    if (input.since <= latest)
      for (const e of eventsSince(store, input.since, input.prefix)) {
        send(conn, frame(input.id, e));
        replayed++;
      }
  }
  conn.setState({ ...stateOf(conn), subs: [...others, { id: input.id, prefix: input.prefix }] } satisfies SubscriberState);
  return { seq: latest, replayed, gap };
}

export function unsubscribe(conn: Connection, input: RpcParsedInput<"unsubscribe">): RpcResult<"unsubscribe"> {
  const subs = subsOf(conn);
  const rest = subs.filter((s) => s.id !== input.id);
  conn.setState({ ...stateOf(conn), subs: rest } satisfies SubscriberState);
  return { removed: rest.length !== subs.length };
}

/** Sends each event to every subscription whose prefix matches it, on connections that may read. */
export function deliver(connections: Iterable<Connection>, events: readonly RefEvent[], mayRead: (conn: Connection) => boolean): void {
  if (events.length === 0) return;
  for (const conn of connections) {
    const subs = subsOf(conn);
    if (subs.length === 0 || !mayRead(conn)) continue;
    for (const sub of subs)
      for (const e of events) if (e.ref.startsWith(sub.prefix)) send(conn, frame(sub.id, e));
  }
}

/** A socket closing under us must not fail the push or commit that is publishing. */
function send(conn: Connection, text: string): void {
  try {
    conn.send(text);
  } catch (e) {
    console.warn(`subscriptions: could not send to connection ${conn.id}; it reconnects and resumes by seq`, e);
  }
}
