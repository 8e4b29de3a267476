/**
 * The RPC method table: every method's input and output schema, shared by the actor (which parses
 * inputs) and the client (which parses outputs). `SOCKET_METHODS` need a WebSocket connection.
 * Invariants:
 * - A method name not in these tables is never dispatched (`rpc-unknown-method`).
 * Spec: none (edgegit's own API).
 */
import type { z } from "zod";
import { CommitInput, CommitOutput } from "./commit.ts";
import { DiffInput, DiffOutput } from "./diff.ts";
import { SubscribeInput, SubscribeOutput, UnsubscribeInput, UnsubscribeOutput } from "./events.ts";
import { BlobInput, BlobOutput, TreeInput, TreeOutput } from "./files.ts";
import { GrepInput, GrepOutput } from "./grep.ts";
import { LogInput, LogOutput } from "./log.ts";
import { CreateBranchInput, CreateTagInput, DeleteBranchInput, RefUpdateOutput, RefsInput, RefsOutput, ResolveInput, ResolveOutput } from "./refs.ts";

export const RPC_METHODS = {
  refs: { input: RefsInput, output: RefsOutput },
  resolve: { input: ResolveInput, output: ResolveOutput },
  log: { input: LogInput, output: LogOutput },
  tree: { input: TreeInput, output: TreeOutput },
  blob: { input: BlobInput, output: BlobOutput },
  diff: { input: DiffInput, output: DiffOutput },
  grep: { input: GrepInput, output: GrepOutput },
  commit: { input: CommitInput, output: CommitOutput },
  createBranch: { input: CreateBranchInput, output: RefUpdateOutput },
  deleteBranch: { input: DeleteBranchInput, output: RefUpdateOutput },
  createTag: { input: CreateTagInput, output: RefUpdateOutput },
} as const;

export const SOCKET_METHODS = {
  subscribe: { input: SubscribeInput, output: SubscribeOutput },
  unsubscribe: { input: UnsubscribeInput, output: UnsubscribeOutput },
} as const;

type Table = typeof RPC_METHODS & typeof SOCKET_METHODS;
export type RpcMethod = keyof typeof RPC_METHODS;
export type AnyRpcMethod = keyof Table;
/** What a caller passes (defaults may be left out). */
export type RpcInput<M extends AnyRpcMethod> = z.input<Table[M]["input"]>;
/** What a handler receives, after parsing. */
export type RpcParsedInput<M extends AnyRpcMethod> = z.output<Table[M]["input"]>;
/** What a caller gets back, after parsing. */
export type RpcOutput<M extends AnyRpcMethod> = z.output<Table[M]["output"]>;
/** What a handler may return (before the caller's parse turns ids into `Oid`s). */
export type RpcResult<M extends AnyRpcMethod> = z.input<Table[M]["output"]>;

export function isRpcMethod(name: string): name is RpcMethod {
  return Object.hasOwn(RPC_METHODS, name);
}

export function schemasOf<M extends AnyRpcMethod>(method: M): Table[M] {
  return (Object.hasOwn(RPC_METHODS, method) ? RPC_METHODS : SOCKET_METHODS)[method as never];
}
