/**
 * Schemas of `grep`: a pattern over every text file at a revision, filtered by pathspecs.
 * Invariants:
 * - Patterns run on a linear-time engine (engine/grep/); results and work are bounded, and
 *   `stoppedBy` says which bound ended the search early.
 * Spec: git-grep(1) (-n, -i, -F, -I, -- <pathspec>).
 */
import { z } from "zod";
import { RevSchema } from "./common.ts";

export const MAX_GREP_RESULTS = 1000;

export const GrepInput = z
  .object({
    rev: RevSchema.default("HEAD"),
    pattern: z.string().min(1).max(4096),
    /** Pathspecs: a plain path is a file or directory; `*`, `?`, `[…]` are wildcards (`*` crosses "/"). */
    paths: z.array(z.string().min(1).max(4096)).max(100).default([]),
    ignoreCase: z.boolean().default(false),
    /** Match the pattern as a literal string. */
    fixed: z.boolean().default(false),
    maxResults: z.number().int().min(1).max(MAX_GREP_RESULTS).default(100),
  })
  .strict();

export const GrepMatchSchema = z.object({
  path: z.string(),
  line: z.number().int(),
  text: z.string(),
  /** The first match in `text`: [start, end) in UTF-16 units. */
  match: z.tuple([z.number().int(), z.number().int()]),
});

export const GrepOutput = z.object({
  matches: z.array(GrepMatchSchema),
  truncated: z.boolean(),
  stoppedBy: z.enum(["max-results", "budget", "max-bytes"]).nullable(),
  filesSearched: z.number().int(),
  binarySkipped: z.number().int(),
});
