/**
 * Schemas of `tree` (one directory at a revision) and `blob` (a file's bytes at a revision, by range).
 * Invariants:
 * - A blob reply holds at most `maxBytes` bytes (at most MAX_BLOB_BYTES); `truncated` says the
 *   requested range went further.
 * Spec: git-ls-tree(1); git-cat-file(1).
 */
import { z } from "zod";
import { FilePathSchema, OidSchema, RepoPathSchema, RevSchema } from "./common.ts";

export const MAX_BLOB_BYTES = 8 << 20;

export const TreeInput = z.object({ rev: RevSchema, path: RepoPathSchema.default("") }).strict();
export const TreeEntrySchema = z.object({
  name: z.string(),
  path: z.string(),
  mode: z.string(),
  type: z.enum(["blob", "tree", "commit"]),
  oid: OidSchema,
  /** Bytes, for blobs. */
  size: z.number().int().optional(),
});
export const TreeOutput = z.object({ oid: OidSchema, path: z.string(), entries: z.array(TreeEntrySchema) });

export const BlobInput = z
  .object({
    rev: RevSchema,
    path: FilePathSchema,
    offset: z.number().int().min(0).default(0),
    /** Bytes wanted from `offset`; absent: to the end. */
    length: z.number().int().min(0).optional(),
    maxBytes: z.number().int().min(1).max(MAX_BLOB_BYTES).default(1 << 20),
  })
  .strict();
export const BlobOutput = z.object({
  oid: OidSchema,
  mode: z.string(),
  size: z.number().int(),
  offset: z.number().int(),
  content: z.instanceof(Uint8Array),
  truncated: z.boolean(),
  /** git's test: a NUL in the first 8000 bytes. */
  binary: z.boolean(),
});
