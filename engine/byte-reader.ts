/**
 * A buffered, pull-driven reader over a chunked byte source. Parsers (pkt-line, pack scan) share it,
 * so one request body can be read as pkt-lines and then, with no copy lost, as a pack.
 * Invariants:
 * - `position` counts bytes consumed since the start; it never moves backwards.
 * - The buffer holds only what a caller asked to see (`fill`) plus at most one source chunk more.
 */
import { GitError } from "./errors.ts";

export type ByteReaderErrorCode = "unexpected-eof";

export class ByteReader {
  #it: AsyncIterator<Uint8Array>;
  #buf: Uint8Array = new Uint8Array(0);
  #start = 0;
  #end = 0;
  #eof = false;
  #position = 0;

  constructor(src: AsyncIterable<Uint8Array>) {
    this.#it = src[Symbol.asyncIterator]();
  }

  /** Bytes consumed so far. */
  get position(): number {
    return this.#position;
  }

  /** Bytes buffered and not yet consumed. */
  get available(): number {
    return this.#end - this.#start;
  }

  get ended(): boolean {
    return this.#eof && this.available === 0;
  }

  /** Pulls one more chunk from the source into the buffer; false at the end of the source. */
  async more(): Promise<boolean> {
    if (this.#eof) return false;
    for (;;) {
      const r = await this.#it.next();
      if (r.done) {
        this.#eof = true;
        return false;
      }
      if (r.value.length === 0) continue;
      this.#append(r.value);
      return true;
    }
  }

  /** Ensures at least `n` bytes are buffered; false if the source ends first. */
  async fill(n: number): Promise<boolean> {
    while (this.available < n) if (!(await this.more())) return false;
    return true;
  }

  /** Like `fill`, but a short source is an error. */
  async need(n: number, what: string): Promise<void> {
    if (!(await this.fill(n)))
      throw new GitError("unexpected-eof", `input ended inside ${what}`, { data: { at: this.#position } });
  }

  /** A view of the buffered bytes; valid only until the next read. */
  peek(n = this.available): Uint8Array {
    return this.#buf.subarray(this.#start, this.#start + Math.min(n, this.available));
  }

  consume(n: number): void {
    if (n > this.available) throw new RangeError("consume past buffer");
    this.#start += n;
    this.#position += n;
  }

  /** Reads exactly `n` bytes as a copy the caller owns. */
  async read(n: number, what: string): Promise<Uint8Array> {
    await this.need(n, what);
    const out = this.#buf.slice(this.#start, this.#start + n);
    this.consume(n);
    return out;
  }

  /** Yields whatever is buffered, then the rest of the source; consumes everything. */
  async *rest(): AsyncGenerator<Uint8Array> {
    if (this.available > 0) {
      const head = this.#buf.slice(this.#start, this.#end);
      this.consume(head.length);
      yield head;
    }
    while (!this.#eof) {
      const r = await this.#it.next();
      if (r.done) {
        this.#eof = true;
        break;
      }
      this.#position += r.value.length;
      yield r.value;
    }
  }

  /** Stops the source early (a client that sent garbage need not be read to its end). */
  async cancel(): Promise<void> {
    this.#eof = true;
    await this.#it.return?.();
  }

  #append(chunk: Uint8Array) {
    const live = this.#end - this.#start;
    if (this.#end + chunk.length <= this.#buf.length) {
      this.#buf.set(chunk, this.#end);
      this.#end += chunk.length;
      return;
    }
    if (live === 0 && this.#buf.length < chunk.length) {
      // Nothing buffered: adopt the chunk itself instead of copying it.
      this.#buf = chunk;
      this.#start = 0;
      this.#end = chunk.length;
      return;
    }
    const need = live + chunk.length;
    // Doubling amortizes small growth; past 8 MiB grow by a fixed step, so one large object does not
    // cost twice its size.
    const grown = this.#buf.length < 8 << 20 ? this.#buf.length * 2 : this.#buf.length + (8 << 20);
    const next = need <= this.#buf.length ? this.#buf : new Uint8Array(Math.max(need, grown, 64 * 1024));
    if (next === this.#buf) this.#buf.copyWithin(0, this.#start, this.#end);
    else next.set(this.#buf.subarray(this.#start, this.#end), 0);
    next.set(chunk, live);
    this.#buf = next;
    this.#start = 0;
    this.#end = need;
  }
}
