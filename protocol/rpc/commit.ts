/**
 * Schemas of `commit`: write and delete files on a branch, server-side, as one new commit whose
 * parent must be the branch's current tip (compare-and-swap).
 * Invariants:
 * - `expectedParent` null means "the branch must not exist yet" (a root commit).
 * - A string `content` is UTF-8 text; bytes go as a Uint8Array (base64 on the wire).
 * - Without `mode`, a changed file keeps its mode; a new file is 100644.
 * Spec: git-commit-tree(1); git-update-ref(1) "<new-value> <old-value>".
 */
import { z } from "zod";
import { BranchNameSchema, FilePathSchema, OidSchema, SignatureInputSchema } from "./common.ts";

export const MAX_COMMIT_CHANGES = 1000;

const WriteFile = z
  .object({
    path: FilePathSchema,
    content: z.union([z.string(), z.instanceof(Uint8Array)]),
    mode: z.enum(["100644", "100755", "120000"]).optional(),
  })
  .strict();
const DeletePath = z.object({ path: FilePathSchema, delete: z.literal(true) }).strict();

export const CommitInput = z
  .object({
    branch: BranchNameSchema,
    expectedParent: OidSchema.nullable(),
    message: z
      .string()
      .min(1)
      .max(1 << 20)
      .refine((s) => !s.includes("\0"), "must not contain NUL"),
    author: SignatureInputSchema,
    /** Absent: the author. */
    committer: SignatureInputSchema.optional(),
    changes: z.array(z.union([WriteFile, DeletePath])).min(1).max(MAX_COMMIT_CHANGES),
    /** Allow a commit whose tree equals its parent's. */
    allowEmpty: z.boolean().default(false),
  })
  .strict();

export const CommitOutput = z.object({ commit: OidSchema, tree: OidSchema, parent: OidSchema.nullable(), ref: z.string(), seq: z.number().int() });
