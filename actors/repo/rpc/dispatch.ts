/**
 * Runs one RPC call, whichever transport brought it (DO stub, WebSocket, HTTP route): checks the
 * wire request, decodes and parses the input with the method's schema, runs the handler, and
 * encodes the result or the error as a reply.
 * Invariants:
 * - Never throws: every failure is a reply. Bad input of any kind is `rpc-bad-input` (with zod's
 *   issues in `data`) or the handler's own GitError; anything else is logged and answered
 *   `rpc-internal`, without details.
 * - A request nested deeper than MAX_JSON_DEPTH is refused before superjson or zod walk it: a socket
 *   message reaches here parsed by the agents SDK, with no bound of ours before.
 */
import type { z } from "zod";
import { GitError } from "../../../engine/index.ts";
import {
  MAX_JSON_DEPTH, RpcRequestSchema, checkJsonDepth, fromWire, rpcError, schemasOf, toWire,
  type AnyRpcMethod, type RpcErrorBody, type RpcParsedInput, type RpcReply, type RpcResult, type WirePayload,
} from "../../../protocol/rpc/index.ts";

/** `{ input: { json } }` around the caller's value: the gateway bounds a JSON body to MAX_JSON_DEPTH before wrapping it. */
const ENVELOPE_DEPTH = 2;

export async function dispatch<M extends AnyRpcMethod>(
  method: M,
  request: unknown,
  handler: (input: RpcParsedInput<M>) => RpcResult<M> | Promise<RpcResult<M>>,
): Promise<RpcReply> {
  try {
    checkJsonDepth(request, "the call", ENVELOPE_DEPTH + MAX_JSON_DEPTH);
    const req = RpcRequestSchema.safeParse(request);
    if (!req.success) throw rpcError("rpc-bad-input", "a call is { input: { json, meta? }, token? }", { issues: issuesOf(req.error) });
    let raw: unknown;
    try {
      raw = fromWire(req.data.input as WirePayload);
    } catch (e) {
      throw new GitError("rpc-bad-input", "the input is not a valid superjson payload", { cause: e });
    }
    const input = parseInput(schemasOf(method).input, raw, method) as RpcParsedInput<M>;
    return { ok: true, result: toWire(await handler(input)) };
  } catch (e) {
    return { ok: false, error: errorBody(e, method) };
  }
}

/** Parses with a method's input schema; a violation is `rpc-bad-input` listing zod's issues. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, method: string): z.output<S> {
  const input = schema.safeParse(value);
  if (input.success) return input.data;
  const issues = issuesOf(input.error);
  throw rpcError("rpc-bad-input", `bad input to ${method}: ${issues.map((i) => `${i.path || "(input)"}: ${i.message}`).join("; ").slice(0, 500)}`, { issues });
}

export function errorBody(e: unknown, method: string): RpcErrorBody {
  if (e instanceof GitError) return e.toJSON();
  console.error(`rpc ${method}: internal error`, e);
  return { code: "rpc-internal", message: "internal error", data: {}, retryable: false };
}

function issuesOf(error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }) {
  return error.issues.slice(0, 20).map((i) => ({ path: i.path.map(String).join("."), message: i.message }));
}
