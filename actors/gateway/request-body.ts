/**
 * Request bodies as the gateway reads them: decoded (gzip), and, where it parses them itself, read
 * through a byte limit and parsed with a depth bound.
 * Invariants:
 * - Nothing is parsed before its size is bounded (`readText`) and its depth checked (`readJson`).
 * - Refusals are GitErrors: `payload-too-large` past the limit, the caller's code for bad JSON.
 */
import { GitError, concatBytes, fromReadableStream, limitBytes } from "../../engine/index.ts";
import { parseBoundedJson } from "../../protocol/rpc/index.ts";

/** The body as bytes, gzip decoded; an absent body is an empty stream. */
export function requestBody(request: Request): ReadableStream<Uint8Array> {
  const body = request.body ?? new ReadableStream<Uint8Array>({ start: (c) => c.close() });
  const encoding = (request.headers.get("content-encoding") ?? "").toLowerCase();
  if (encoding === "" || encoding === "identity") return body;
  if (encoding === "gzip" || encoding === "x-gzip") return body.pipeThrough(new DecompressionStream("gzip")) as ReadableStream<Uint8Array>;
  throw new GitError("unsupported-media-type", `unsupported Content-Encoding ${encoding}`);
}

export async function readText(request: Request, max: number): Promise<string> {
  const parts: Uint8Array[] = [];
  for await (const chunk of limitBytes(fromReadableStream(requestBody(request)), max, "the request body")) parts.push(chunk);
  return new TextDecoder().decode(concatBytes(parts));
}

/** The body as JSON, at most `max` bytes and MAX_JSON_DEPTH levels; "" is `empty` when given. */
export async function readJson(request: Request, max: number, code = "rpc-bad-input", empty?: unknown): Promise<unknown> {
  const text = await readText(request, max);
  if (empty !== undefined && text.trim() === "") return empty;
  return parseBoundedJson(text, "the body", code);
}
