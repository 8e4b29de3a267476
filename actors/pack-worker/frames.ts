/**
 * The frames a PackWorker batch's results travel in, inside the one byte stream DO RPC carries: an
 * `item` frame per batch item, in order, then `end` with the count; or an `error` frame with a
 * GitError's JSON. Each frame is a tag byte, a 4-byte big-endian length, then the payload.
 * Invariants:
 * - `readFrames` returns exactly `expected` items or throws: a stream that stops before `end`, or
 *   whose counts disagree, is a failed batch, never a short result.
 * - Results are bounded by `maxBytes`; a slot cannot make the caller buffer without limit.
 */
import { ByteReader, GitError, fromUtf8, utf8 } from "../../engine/index.ts";

export type FrameErrorCode = "pack-worker-bad-result";

const ITEM = 1;
const END = 2;
const ERROR = 3;
const HEADER = 5;

function frame(tag: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER + payload.length);
  out[0] = tag;
  new DataView(out.buffer).setUint32(1, payload.length);
  out.set(payload, HEADER);
  return out;
}

/** Frames one job's results, then `end`; a GitError the job throws becomes an `error` frame. */
export async function* frameResults(results: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  let count = 0;
  try {
    for await (const r of results) {
      yield frame(ITEM, r);
      count++;
    }
  } catch (e) {
    if (!(e instanceof GitError)) throw e; // breaks the stream: the caller retries elsewhere
    yield frame(ERROR, utf8(JSON.stringify(e.toJSON())));
    return;
  }
  yield frame(END, utf8(JSON.stringify({ count })));
}

/** Reads a framed result stream to its end; a job's own error is rethrown as that GitError. */
export async function readFrames(src: AsyncIterable<Uint8Array>, expected: number, maxBytes: number): Promise<Uint8Array[]> {
  const r = new ByteReader(src);
  const items: Uint8Array[] = [];
  let bytes = 0;
  for (;;) {
    if (!(await r.fill(HEADER))) throw bad(`result stream ended after ${items.length} of ${expected} items, with no end frame`);
    const head = r.peek(HEADER);
    const tag = head[0]!;
    const len = new DataView(head.buffer, head.byteOffset, HEADER).getUint32(1);
    bytes += len;
    if (bytes > maxBytes) throw bad(`results exceed ${maxBytes} bytes`);
    r.consume(HEADER);
    const payload = await r.read(len, "a result frame");
    if (tag === ITEM) {
      if (items.length === expected) throw bad(`more than the ${expected} items asked for`);
      items.push(payload);
    } else if (tag === END) {
      const { count } = JSON.parse(fromUtf8(payload)) as { count: number };
      if (count !== items.length || count !== expected) throw bad(`end frame says ${count} items; got ${items.length} of ${expected}`);
      if (await r.fill(1)) throw bad("bytes after the end frame");
      return items;
    } else if (tag === ERROR) {
      const e = JSON.parse(fromUtf8(payload)) as { code: string; message: string; data?: Record<string, unknown>; retryable?: boolean };
      throw new GitError(e.code, e.message, { data: e.data ?? {}, retryable: e.retryable ?? false });
    } else throw bad(`unknown frame tag ${tag}`);
  }
}

function bad(message: string): GitError<FrameErrorCode> {
  return new GitError("pack-worker-bad-result", `pack worker: ${message}`, { retryable: true });
}
