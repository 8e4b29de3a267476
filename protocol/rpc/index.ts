/**
 * protocol/rpc: the typed RPC surface shared by RepoActor and the client: zod schemas per method,
 * the wire format (superjson payloads), error codes, and a typed handle over any transport.
 * Invariants:
 * - Nothing here imports a Node or Workers module, so a browser bundle can include it; engine code
 *   comes in only through engine/errors.ts and engine/oid.ts for that reason.
 */
export * from "./api.ts";
export * from "./base64.ts";
export * from "./bounded-json.ts";
export * from "./commit.ts";
export * from "./cost.ts";
export * from "./common.ts";
export * from "./diff.ts";
export * from "./errors.ts";
export * from "./events.ts";
export * from "./files.ts";
export * from "./grep.ts";
export * from "./log.ts";
export * from "./methods.ts";
export * from "./pack.ts";
export * from "./refs.ts";
export * from "./wire.ts";
export * from "./socket.ts";
