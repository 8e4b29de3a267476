/**
 * Client-side ref subscriptions: each remembers its prefix and the last seq it delivered, and is
 * (re)registered with that seq every time the socket opens, so the server replays what a
 * disconnection hid.
 * Invariants:
 * - A subscription is registered once per connection (when added on an open socket, else when the
 *   socket opens), and the server sends each event once per registration, replay first, in seq
 *   order; so a handler sees every event once, in order, across reconnects.
 * - After the first registration the resume point is known even if no event has arrived yet.
 */
import { RefEventSchema, SubscribeOutput, fromWire, type RpcInput, type RpcOutput, type WirePayload } from "../protocol/rpc/index.ts";
import type { z } from "zod";

export type RefEvent = z.output<typeof RefEventSchema>;

export interface SubscribeOptions {
  /** Replay events after this seq first (e.g. one saved from an earlier session). */
  since?: number;
  /** The server could not replay everything missed (log trimmed, or the repo was re-created). */
  onGap?: () => void;
  /** A frame that failed to parse, or a handler that threw (default console.error). */
  onError?: (error: unknown) => void;
}

export interface Subscription {
  readonly id: string;
  readonly prefix: string;
  /** The seq of the last event delivered (or the server's seq at subscription time). */
  readonly lastSeq: number | undefined;
  unsubscribe(): Promise<void>;
}

type Register = (input: RpcInput<"subscribe">) => Promise<RpcOutput<"subscribe">>;

export class SubscriptionSet {
  #subs = new Map<string, Entry>();
  #next = 0;

  constructor(
    private readonly register: Register,
    private readonly unregister: (id: string) => Promise<void>,
    private readonly isOpen: () => boolean,
  ) {}

  /** Resolves once the server has the subscription (and has replayed from `since`, if given). */
  async add(prefix: string, handler: (e: RefEvent) => void, opts: SubscribeOptions): Promise<Subscription> {
    const id = `s${++this.#next}`;
    const entry = new Entry(id, prefix, handler, opts, async () => {
      this.#subs.delete(id);
      if (this.isOpen()) await this.unregister(id);
    });
    this.#subs.set(id, entry);
    try {
      if (this.isOpen()) await this.#registerOne(entry);
      else await entry.firstRegistration;
    } catch (e) {
      this.#subs.delete(id); // the caller sees the failure; the subscription must not live on
      throw e;
    }
    return entry;
  }

  /** On every (re)connect: resume each subscription from its last seq. */
  async resumeAll(): Promise<void> {
    await Promise.all([...this.#subs.values()].map((e) => this.#registerOne(e)));
  }

  /** A frame from the server: `{ type, sub, event }`. */
  deliver(sub: string, event: WirePayload): void {
    this.#subs.get(sub)?.receive(event);
  }

  async #registerOne(e: Entry): Promise<void> {
    e.registering();
    const reply = SubscribeOutput.parse(await this.register({ id: e.id, prefix: e.prefix, ...(e.lastSeq !== undefined ? { since: e.lastSeq } : {}) }));
    e.registered(reply);
  }
}

class Entry implements Subscription {
  lastSeq: number | undefined;
  /** The newest seq delivered since the current registration was sent. */
  #sessionMax: number | undefined;
  #resolveFirst!: () => void;
  readonly firstRegistration = new Promise<void>((r) => (this.#resolveFirst = r));

  constructor(
    readonly id: string,
    readonly prefix: string,
    private readonly handler: (e: RefEvent) => void,
    private readonly opts: SubscribeOptions,
    readonly unsubscribe: () => Promise<void>,
  ) {
    this.lastSeq = opts.since;
  }

  receive(payload: WirePayload): void {
    try {
      const event = RefEventSchema.parse(fromWire(payload));
      this.lastSeq = this.#sessionMax = event.seq;
      this.handler(event);
    } catch (err) {
      // Thrown from a socket listener this would be an uncaught exception; report it instead.
      (this.opts.onError ?? ((e: unknown) => console.error("edgegit subscription:", e)))(err);
    }
  }

  registering(): void {
    this.#sessionMax = undefined;
  }

  registered(reply: RpcOutput<"subscribe">): void {
    // With a gap the old resume point is meaningless (it may even lie in the future of a re-created
    // repository): resume from what this registration saw. Without one, replayed frames may
    // already have moved past the reply's seq; never move back.
    this.lastSeq = reply.gap ? Math.max(reply.seq, this.#sessionMax ?? 0) : Math.max(this.lastSeq ?? 0, reply.seq);
    if (reply.gap) this.opts.onGap?.();
    this.#resolveFirst();
  }
}
