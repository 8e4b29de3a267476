/**
 * Watches the Worker isolate's memory through wrangler's DevTools inspector: the JS heap plus the
 * ArrayBuffer backing stores (`Runtime.getHeapUsage`), where every byte buffer lives. Under
 * `wrangler dev` all actors share one isolate, so on a server of its own this is what one actor's
 * 128 MB limit would be measured against (plus the gateway's small share).
 * Invariants:
 * - A peak is sampled every `intervalMs` while the watched work runs; it starts after a requested
 *   collection, so garbage left by earlier work is not counted where the runtime collected it.
 */
export class IsolateMemory {
  #seq = 0;
  #pending = new Map<number, (msg: { result?: unknown; error?: { message: string } }) => void>();

  private constructor(private readonly ws: WebSocket) {
    ws.onmessage = (m) => {
      const msg = JSON.parse(String(m.data)) as { id?: number; result?: unknown; error?: { message: string } };
      const done = msg.id === undefined ? undefined : this.#pending.get(msg.id);
      if (done) {
        this.#pending.delete(msg.id!);
        done(msg);
      }
    };
  }

  static async connect(inspectorPort: number): Promise<IsolateMemory> {
    // Node's WebSocket takes headers as an extension; wrangler's proxy refuses an upgrade without Origin.
    const ws = new WebSocket(`ws://127.0.0.1:${inspectorPort}/ws`, { headers: { Origin: "http://localhost" } } as unknown as string[]);
    await new Promise((ok, fail) => {
      ws.onopen = ok;
      ws.onerror = () => fail(new Error(`inspector on port ${inspectorPort} refused the connection`));
    });
    return new IsolateMemory(ws);
  }

  /** Runs `work` and returns its value with the isolate's peak bytes (JS heap + buffers) meanwhile. */
  async peakDuring<T>(work: () => Promise<T>, intervalMs = 50): Promise<{ value: T; peakBytes: number }> {
    // workerd never answers collectGarbage, so it is sent without waiting; the next request waits behind it.
    this.ws.send(JSON.stringify({ id: ++this.#seq, method: "HeapProfiler.collectGarbage", params: {} }));
    await this.#usage();
    let peakBytes = 0;
    let watching = true;
    const poll = (async () => {
      while (watching) {
        peakBytes = Math.max(peakBytes, await this.#usage());
        await new Promise((r) => setTimeout(r, intervalMs));
      }
    })();
    let value: T;
    try {
      value = await work();
    } finally {
      watching = false;
      await poll;
    }
    return { value, peakBytes };
  }

  close(): void {
    this.ws.close();
  }

  async #usage(): Promise<number> {
    const id = ++this.#seq;
    const msg = await new Promise<{ result?: unknown; error?: { message: string } }>((ok) => {
      this.#pending.set(id, ok);
      this.ws.send(JSON.stringify({ id, method: "Runtime.getHeapUsage", params: {} }));
    });
    if (msg.error) throw new Error(`Runtime.getHeapUsage: ${msg.error.message}`);
    const { usedSize, backingStorageSize = 0 } = msg.result as { usedSize: number; backingStorageSize?: number };
    return usedSize + backingStorageSize;
  }
}
