/**
 * Schemas of `log`: commits from a revision, newest first, optionally only those that change a path;
 * paged by an opaque cursor.
 * Invariants:
 * - A page may hold fewer than `limit` commits (the walk per call is bounded); keep asking while
 *   `cursor` is not null.
 * Spec: git-log(1) "History Simplification" (default mode).
 */
import { z } from "zod";
import { OidSchema, PersonSchema, RepoPathSchema, RevSchema } from "./common.ts";

export const MAX_LOG_LIMIT = 500;

export const LogInput = z
  .object({
    rev: RevSchema.default("HEAD"),
    path: RepoPathSchema.default(""),
    limit: z.number().int().min(1).max(MAX_LOG_LIMIT).default(50),
    cursor: z.string().max(1 << 20).optional(),
  })
  .strict();

export const CommitInfoSchema = z.object({
  oid: OidSchema,
  tree: OidSchema,
  parents: z.array(OidSchema),
  author: PersonSchema,
  committer: PersonSchema,
  message: z.string(),
});

export const LogOutput = z.object({ commits: z.array(CommitInfoSchema), cursor: z.string().nullable() });
