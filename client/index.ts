/**
 * The edgegit client: `connect(baseUrl, owner, repo, { token })` gives a typed handle on a
 * repository (every RPC method, `subscribe` with reconnect and resume, `push`, `fetchPack`).
 * Imports only protocol/rpc (and the SDK's browser-safe agents/client), so it bundles for browsers.
 */
export { connect, type ConnectOptions, type RepoClient } from "./connect.ts";
export type { RefEvent, SubscribeOptions, Subscription } from "./subscriptions.ts";
export { RPC_ERROR_STATUS, type RpcErrorCode, type RpcInput, type RpcOutput } from "../protocol/rpc/index.ts";
export { GitError } from "../engine/errors.ts";
