/**
 * A repository WebSocket driven by hand, for tests that must see exactly what the server does on
 * one socket: each RPC reply, each event frame, the close code, or the refused upgrade.
 * Invariants:
 * - No reconnects and no client-side checks: every answer is the server's.
 * - A token goes the way the client sends it (a Sec-WebSocket-Protocol value), never in the URL.
 * Spec: the agents SDK's RPC frames ({ type: "rpc", id, method, args }); README "Auth".
 */
import { REF_EVENT_FRAME, socketProtocols } from "../../protocol/rpc/index.ts";

export interface RawSocket {
  ws: WebSocket;
  /** Every text frame received, in order. */
  frames: string[];
  /** The ref events received (the `event` of each ref-event frame). */
  events(): { ref: string; new: unknown }[];
  /** Resolves with the close code and reason once the socket closes. */
  closed: Promise<{ code: number; reason: string }>;
  /** One RPC call with `input`; resolves with the actor's reply, or rejects if the socket closes first. */
  call(method: string, input?: unknown): Promise<{ ok: boolean; error?: { code: string }; result?: unknown }>;
}

export function socketUrl(baseUrl: string, owner: string, repo: string): string {
  return `${baseUrl.replace(/^http/, "ws")}/${owner}/${repo}/ws`;
}

/** Opens the socket; rejects if the server refuses the upgrade or it does not open in 10 s. */
export async function openRawSocket(url: string, token?: string): Promise<RawSocket> {
  const ws = new WebSocket(url, socketProtocols(token));
  const frames: string[] = [];
  let next = 0;
  const closed = new Promise<{ code: number; reason: string }>((ok) => ws.addEventListener("close", (e) => ok({ code: e.code, reason: e.reason })));
  ws.addEventListener("message", (m) => frames.push(String(m.data)));
  await new Promise<void>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`socket ${url} did not open in 10 s`)), 10_000);
    ws.addEventListener("open", () => (clearTimeout(timer), ok()));
    ws.addEventListener("error", () => (clearTimeout(timer), fail(new Error(`socket ${url} was refused`))));
  });
  const parsed = () => frames.map((f) => { try { return JSON.parse(f) as Record<string, unknown>; } catch { return {}; } });
  return {
    ws,
    frames,
    closed,
    events: () => parsed().filter((f) => f.type === REF_EVENT_FRAME).map((f) => (f.event as { json: { ref: string; new: unknown } }).json),
    async call(method, input = {}) {
      const id = `c${next++}`;
      ws.send(JSON.stringify({ type: "rpc", id, method, args: [{ input: { json: input } }] }));
      const end = Date.now() + 15_000;
      for (;;) {
        const reply = parsed().find((f) => f.type === "rpc" && f.id === id);
        if (reply) {
          if (!reply.success) throw new Error(`${method}: the SDK refused the call: ${String(reply.error)}`);
          return reply.result as { ok: boolean; error?: { code: string }; result?: unknown };
        }
        if (ws.readyState === WebSocket.CLOSED) throw new Error(`${method}: the socket closed before the reply`);
        if (Date.now() > end) throw new Error(`${method}: no reply in 15 s`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}
