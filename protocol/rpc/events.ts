/**
 * Live ref events over the repo's WebSocket: `subscribe` (with a ref-prefix filter and an optional
 * `since` seq to resume from), `unsubscribe`, and the frames the server pushes.
 * Invariants:
 * - Events carry the `ref_log` seq they were written with, strictly increasing, in commit order;
 *   resuming with the last seen seq replays exactly the missed events that match the prefix.
 * - `gap` is true when `since` is older than the retained log (or from another life of the repo):
 *   some events are gone and the subscriber should re-read the refs.
 * Spec: none (edgegit's own); frames are JSON text messages on the agents SDK connection.
 */
import { z } from "zod";
import { OidSchema } from "./common.ts";

/** `type` of the JSON frame that carries one event; its `event` is a wire payload (see wire.ts). */
export const REF_EVENT_FRAME = "edgegit:ref-event";

export const RefEventSourceSchema = z.enum(["git-push", "commit", "create-branch", "delete-branch", "create-tag"]);

export const RefEventSchema = z.object({
  seq: z.number().int(),
  ref: z.string(),
  old: OidSchema.nullable(),
  new: OidSchema.nullable(),
  source: RefEventSourceSchema,
  at: z.date(),
});

export const SubscribeInput = z
  .object({
    /** Chosen by the client, unique on its connection; frames name it in `sub`. */
    id: z.string().min(1).max(64),
    prefix: z.string().max(1024).default(""),
    since: z.number().int().min(0).optional(),
  })
  .strict();
export const SubscribeOutput = z.object({ seq: z.number().int(), replayed: z.number().int(), gap: z.boolean() });

export const UnsubscribeInput = z.object({ id: z.string().min(1).max(64) }).strict();
export const UnsubscribeOutput = z.object({ removed: z.boolean() });
