/**
 * zlib framing for pack entries. A pack entry does not record its compressed length, so the
 * inflater must say how many input bytes one zlib stream used.
 * Invariants:
 * - `inflateEntry` returns data of exactly `expectedSize` bytes or throws: workerd's zlib has been
 *   seen to truncate silently, and a stream that inflates past its declared size is a bomb.
 * - "need more input" is a result (null), never an error, so a streaming caller can wait for bytes.
 * Spec: RFC 1950 (zlib), gitformat-pack(5) "compressed data".
 */
import { deflateSync, inflateSync } from "node:zlib";
import { GitError } from "./errors.ts";

export type ZlibErrorCode = "zlib-corrupt" | "zlib-size-mismatch";

export interface Inflated {
  data: Uint8Array;
  /** Compressed bytes the zlib stream occupied. */
  consumed: number;
}

/**
 * Inflates one zlib stream at the start of `input`. Returns null when `input` ends before the
 * stream does (and `final` is false): the caller should retry with more bytes.
 */
export function inflateEntry(input: Uint8Array, expectedSize: number, final: boolean): Inflated | null {
  let r: { buffer: Uint8Array; engine: { bytesWritten: number } };
  try {
    r = inflateSync(input, { info: true, maxOutputLength: Math.max(1, expectedSize) }) as unknown as typeof r;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (/unexpected end of file/i.test(msg)) {
      if (!final) return null;
      throw new GitError("zlib-corrupt", "compressed data ends early", { cause: e });
    }
    if (e instanceof RangeError || /memory limit|buffer/i.test(msg))
      throw new GitError("zlib-size-mismatch", `compressed data inflates past its declared ${expectedSize} bytes`, { cause: e });
    throw new GitError("zlib-corrupt", `bad compressed data: ${msg}`, { cause: e });
  }
  if (r.buffer.length !== expectedSize)
    throw new GitError("zlib-size-mismatch", `compressed data inflated to ${r.buffer.length} bytes, header says ${expectedSize}`);
  return { data: r.buffer, consumed: r.engine.bytesWritten };
}

export function deflate(data: Uint8Array, level = 1): Uint8Array {
  return deflateSync(data, { level });
}
