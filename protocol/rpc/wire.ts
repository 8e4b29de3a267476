/**
 * The one wire format of every RPC call, whatever carries it (DO stub, WebSocket, HTTP): a request
 * `{ input, token? }` and a reply `{ ok: true, result }` or `{ ok: false, error }`, where `input` and
 * `result` are superjson payloads (`{ json, meta? }`), so dates, bigints and bytes survive JSON.
 * Invariants:
 * - Bytes travel as base64 strings (a custom superjson type "bytes"), never as arrays of numbers.
 * - Plain JSON is a valid payload: `{ json: <value> }` with no meta is exactly that value, which is
 *   how the HTTP route accepts a curl user's body.
 * - `token` rides along on every call; the server ignores it until authentication exists.
 * Spec: superjson's SuperJSONResult format (github.com/flightcontrolhq/superjson).
 */
import { SuperJSON, type SuperJSONResult } from "superjson";
import { z } from "zod";
import { fromBase64, toBase64 } from "./base64.ts";
import type { RpcErrorBody } from "./errors.ts";

const codec = new SuperJSON();
codec.registerCustom<Uint8Array, string>(
  { isApplicable: (v): v is Uint8Array => v instanceof Uint8Array, serialize: toBase64, deserialize: fromBase64 },
  "bytes",
);

export type WirePayload = SuperJSONResult;

export const WirePayloadSchema = z.object({ json: z.unknown(), meta: z.record(z.string(), z.unknown()).optional() }).strict();

export const RpcRequestSchema = z.object({ input: WirePayloadSchema, token: z.string().max(8192).optional() }).strict();
export type RpcRequest = { input: WirePayload; token?: string };

export type RpcReply = { ok: true; result: WirePayload } | { ok: false; error: RpcErrorBody };

export function toWire(value: unknown): WirePayload {
  return codec.serialize(value as Parameters<SuperJSON["serialize"]>[0]);
}

export function fromWire(payload: WirePayload): unknown {
  return codec.deserialize(payload);
}
