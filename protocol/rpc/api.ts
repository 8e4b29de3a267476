/**
 * A typed RPC handle over any transport: each method serializes its input to the wire, sends it,
 * and parses the reply with the method's output schema, or throws the reply's error as a GitError.
 * The client library builds one over the WebSocket; Worker code can build one over a DO stub.
 * Invariants:
 * - A reply that does not match the output schema is an error (`rpc-bad-reply`), never passed on.
 * Spec: none (edgegit's own API; see wire.ts for the format).
 */
import { errorFromBody, rpcError } from "./errors.ts";
import { RPC_METHODS, schemasOf, type AnyRpcMethod, type RpcInput, type RpcMethod, type RpcOutput } from "./methods.ts";
import { fromWire, toWire, type RpcReply, type RpcRequest } from "./wire.ts";

export type RpcTransport = (method: AnyRpcMethod, request: RpcRequest) => Promise<RpcReply>;

export type RpcApi = { [M in RpcMethod]: (input: RpcInput<M>) => Promise<RpcOutput<M>> };

/** Sends one call and returns its parsed result. */
export async function callRpc<M extends AnyRpcMethod>(transport: RpcTransport, method: M, input: RpcInput<M>, token?: string): Promise<RpcOutput<M>> {
  const reply = await transport(method, token === undefined ? { input: toWire(input) } : { input: toWire(input), token });
  if (!reply.ok) throw errorFromBody(reply.error);
  const parsed = schemasOf(method).output.safeParse(fromWire(reply.result));
  if (!parsed.success) throw rpcError("rpc-bad-reply", `the reply to ${method} does not match its schema: ${parsed.error.message.slice(0, 500)}`);
  return parsed.data as RpcOutput<M>;
}

export function createRpcApi(transport: RpcTransport, token?: () => string | undefined): RpcApi {
  const api = {} as Record<RpcMethod, (input: unknown) => Promise<unknown>>;
  for (const method of Object.keys(RPC_METHODS) as RpcMethod[]) api[method] = (input) => callRpc(transport, method, input as never, token?.());
  return api as RpcApi;
}
