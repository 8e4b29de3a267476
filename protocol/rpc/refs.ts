/**
 * Schemas of the ref methods: list refs, resolve a revision, and the three ref writes (create a
 * branch, delete a branch, create a tag). Every write reports the `ref_log` seq it was given.
 * Invariants:
 * - "No ref" is null on this API (git's all-zero id never appears).
 * - A write that finds the ref changed under it fails with `ref-conflict` (delete with `expected`)
 *   or `ref-exists` (create), and moves nothing.
 * Spec: git-for-each-ref(1); git-branch(1); git-tag(1).
 */
import { z } from "zod";
import { BranchNameSchema, ObjectTypeSchema, OidSchema, RevSchema, SignatureInputSchema, TagNameSchema } from "./common.ts";

export const RefsInput = z.object({ prefix: z.string().max(1024).default("") }).strict();
export const RefsOutput = z.object({
  /** HEAD's branch, and its id (null while that branch does not exist). */
  head: z.object({ target: z.string(), oid: OidSchema.nullable() }),
  refs: z.array(z.object({ name: z.string(), oid: OidSchema, peeled: OidSchema.optional() })),
});

export const ResolveInput = z.object({ rev: RevSchema }).strict();
export const ResolveOutput = z.object({ oid: OidSchema, type: ObjectTypeSchema, mode: z.string().optional() });

export const RefUpdateOutput = z.object({ ref: z.string(), old: OidSchema.nullable(), new: OidSchema.nullable(), seq: z.number().int() });

export const CreateBranchInput = z.object({ name: BranchNameSchema, from: RevSchema }).strict();
export const DeleteBranchInput = z.object({ name: BranchNameSchema, expected: OidSchema.optional() }).strict();
export const CreateTagInput = z
  .object({
    name: TagNameSchema,
    target: RevSchema,
    /** Present: an annotated tag object with this message. Absent: a lightweight tag. */
    message: z
      .string()
      .max(1 << 20)
      .refine((s) => !s.includes("\0"), "must not contain NUL")
      .optional(),
    tagger: SignatureInputSchema.optional(),
  })
  .strict();
