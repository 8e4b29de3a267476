/**
 * Bounds on JSON from callers, applied before any recursive code sees it. JSON.parse itself copes
 * with deep nesting, but what runs next does not: DO RPC serialization, superjson and zod recurse,
 * and 5,000 levels overflow the stack (a 500 where a 400 is due).
 * Invariants:
 * - `parseBoundedJson` refuses text nested deeper than MAX_JSON_DEPTH before JSON.parse runs;
 *   `checkJsonDepth` refuses an already parsed value that is (a socket message: the agents SDK
 *   parses it). Both are iterative, so no input costs stack.
 * - Size is the caller's bound: the text is read through a byte limit before it gets here.
 * - Refusals are GitErrors with the caller's code (`rpc-bad-input` unless told), never a throw from
 *   JSON.parse.
 * Spec: RFC 8259 (JSON); strings are skipped with their escapes, so brackets inside them do not count.
 */
import { GitError } from "../../engine/errors.ts";

/** Levels of arrays and objects; `{}` is one level, a bare scalar none. */
export const MAX_JSON_DEPTH = 64;

/** Whether JSON text opens more than `max` arrays and objects at once (valid or not, it is scanned). */
export function jsonTextTooDeep(text: string, max = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash escapes the next character, a quote included
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/** JSON.parse, after the depth bound; any failure is a GitError with `code`. */
export function parseBoundedJson(text: string, what: string, code = "rpc-bad-input"): unknown {
  if (jsonTextTooDeep(text)) throw new GitError(code, `${what} is nested deeper than ${MAX_JSON_DEPTH} levels`, { data: { maxDepth: MAX_JSON_DEPTH } });
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new GitError(code, `${what} is not JSON`, { cause: e });
  }
}

/** Throws `rpc-bad-input` if a parsed value nests arrays and objects deeper than `max`. */
export function checkJsonDepth(value: unknown, what: string, max = MAX_JSON_DEPTH): void {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== "object") continue;
    // Bytes and dates (over a DO stub) are leaves, as they are to superjson.
    if (ArrayBuffer.isView(v) || v instanceof Date) continue;
    if (depth + 1 > max) throw new GitError("rpc-bad-input", `${what} is nested deeper than ${max} levels`, { data: { maxDepth: max } });
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth + 1]);
  }
}
