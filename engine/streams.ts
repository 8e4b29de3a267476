/**
 * The only bridge between the two stream worlds: `AsyncIterable<Uint8Array>` inside an isolate,
 * `ReadableStream<Uint8Array>` on Request/Response bodies, R2 bodies and DO RPC.
 * Invariants:
 * - `toReadableStream` is pull-driven: nothing is produced before the consumer asks, and a cancel
 *   reaches the generator's `return`, so a client that hangs up stops the producer.
 */
import { GitError } from "./errors.ts";

export function toReadableStream(src: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  const it = src[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(c) {
      const r = await it.next();
      if (r.done) c.close();
      else c.enqueue(r.value);
    },
    async cancel(reason) {
      await it.return?.(reason);
    },
  });
}

export type StreamErrorCode = "body-unreadable";

/**
 * Reads with getReader(), because not every runtime can iterate a ReadableStream with for await.
 * A failed read (a client that hung up, a body that is not the gzip it claims to be) becomes a
 * `body-unreadable` GitError: the sender's fault, not ours.
 */
export async function* fromReadableStream(rs: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = rs.getReader();
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (e) {
        throw new GitError("body-unreadable", "the request body could not be read (cut off, or not the encoding it claims)", { cause: e });
      }
      const { done, value } = chunk;
      if (done) return;
      if (value.length) yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/** Passes bytes through until more than `max` have gone by, then throws `payload-too-large`. */
export async function* limitBytes(src: AsyncIterable<Uint8Array>, max: number, what: string): AsyncGenerator<Uint8Array> {
  let n = 0;
  for await (const chunk of src) {
    n += chunk.length;
    if (n > max) throw new GitError("payload-too-large", `${what} is larger than the limit of ${max} bytes`, { data: { limit: max } });
    yield chunk;
  }
}
