/**
 * Schemas of `diff`: the changed paths between two revisions, with status (renames included), and
 * unified hunks per text file.
 * Invariants:
 * - Each hunk's lines start with " ", "-" or "+", or are "\ No newline at end of file".
 * - Binary files (a NUL in the first 8000 bytes) and files over the size limit have no hunks.
 * - `truncated` is set when `maxFiles` cut the file list short, or the line-diff budget ran out (the
 *   remaining hunks are then still correct, but may not be minimal).
 * Spec: git-diff(1) "--name-status", "-M", "-U<n>".
 */
import { z } from "zod";
import { OidSchema, RevSchema } from "./common.ts";

export const DiffInput = z
  .object({
    /** Absent: the first parent of `to` (or nothing, for a root commit). */
    from: RevSchema.optional(),
    to: RevSchema,
    /** Pathspecs (see grep); empty: every path. */
    paths: z.array(z.string().min(1).max(4096)).max(100).default([]),
    context: z.number().int().min(0).max(1000).default(3),
    renames: z.boolean().default(true),
    maxFiles: z.number().int().min(1).max(1000).default(300),
  })
  .strict();

export const HunkSchema = z.object({
  oldStart: z.number().int(),
  oldLines: z.number().int(),
  newStart: z.number().int(),
  newLines: z.number().int(),
  header: z.string(),
  lines: z.array(z.string()),
});

export const FileDiffSchema = z.object({
  status: z.enum(["added", "deleted", "modified", "renamed", "type-changed"]),
  path: z.string(),
  /** For renames: where the file came from. */
  oldPath: z.string().optional(),
  similarity: z.number().int().optional(),
  oldMode: z.string().optional(),
  newMode: z.string().optional(),
  oldOid: OidSchema.optional(),
  newOid: OidSchema.optional(),
  binary: z.boolean(),
  tooLarge: z.boolean(),
  hunks: z.array(HunkSchema),
});

export const DiffOutput = z.object({ from: OidSchema.nullable(), to: OidSchema, files: z.array(FileDiffSchema), truncated: z.boolean() });
