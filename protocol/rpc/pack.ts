/**
 * Schemas of the two pack-stream methods, `push` and `fetchPack`: the engine git's smart HTTP uses,
 * with typed commands and results instead of pkt-lines. Offered by the DO stub and over HTTP, not
 * over the WebSocket.
 * Invariants:
 * - A push moves each ref only if it still has its `old` value; a refused ref is a result, not an error.
 * Spec: gitprotocol-pack(5) "Reference Update Request and Packfile Transfer", "Report Status".
 */
import { z } from "zod";
import { OidSchema, RevSchema } from "./common.ts";

export const PushCommandSchema = z.object({ ref: z.string().min(1).max(1024), old: OidSchema.nullable(), new: OidSchema.nullable() }).strict();
export const PushInput = z.object({ commands: z.array(PushCommandSchema).min(1).max(1000), atomic: z.boolean().default(false) }).strict();
export const PushOutput = z.object({
  /** "ok", or why the pack was refused (then no ref moved). */
  unpack: z.string(),
  refs: z.array(z.object({ ref: z.string(), ok: z.boolean(), reason: z.string().optional() })),
});

export const FetchPackInput = z
  .object({
    /** Revisions to send (each must be reachable from a ref). */
    wants: z.array(RevSchema).min(1).max(1000),
    /** Commits the caller already has. */
    haves: z.array(OidSchema).max(10_000).default([]),
    ofsDelta: z.boolean().default(true),
    thinPack: z.boolean().default(false),
  })
  .strict();

export type PushRequest = z.input<typeof PushInput>;
export type PushParsed = z.output<typeof PushInput>;
export type PushResult = z.output<typeof PushOutput>;
export type FetchPackRequest = z.input<typeof FetchPackInput>;
export type FetchPackParsed = z.output<typeof FetchPackInput>;
