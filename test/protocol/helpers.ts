/** Shared test helpers for protocol/: bytes from captured strings, chunked readers, error assertions. */
import { expect } from "vitest";
import { ByteReader, concatBytes, GitError } from "../../engine/index.ts";
import { PROTOCOL_ERROR_STATUS } from "../../protocol/errors.ts";

/** Bytes of a captured string, one byte per char (captures hold raw pack bytes, not UTF-8). */
export function latin1(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => {
    const b = c.charCodeAt(0);
    if (b > 0xff) throw new RangeError("not a byte string");
    return b;
  });
}

/** The inverse of `latin1`, for comparing written bytes with captured strings. */
export function asLatin1(parts: Uint8Array | readonly Uint8Array[]): string {
  const b = parts instanceof Uint8Array ? parts : concatBytes(parts);
  let s = "";
  for (const x of b) s += String.fromCharCode(x);
  return s;
}

/** A reader over the bytes, fed `chunk` bytes at a time so parsers meet every chunk boundary. */
export function readerOf(input: string | Uint8Array, chunk = Number.POSITIVE_INFINITY): ByteReader {
  const bytes = typeof input === "string" ? latin1(input) : input;
  async function* source() {
    const step = Math.min(chunk, Math.max(bytes.length, 1));
    for (let at = 0; at < bytes.length; at += step) yield bytes.slice(at, at + step);
  }
  return new ByteReader(source());
}

/** Asserts a GitError with `code`, and that the code has a row in the HTTP status table. */
export async function expectGitError(run: () => unknown, code: string): Promise<GitError> {
  let caught: unknown;
  try {
    await run();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(GitError);
  const err = caught as GitError;
  expect(err.code).toBe(code);
  expect(Object.hasOwn(PROTOCOL_ERROR_STATUS, err.code)).toBe(true);
  return err;
}
