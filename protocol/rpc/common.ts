/**
 * Schemas shared by several RPC methods: object ids, revisions, paths inside a repository, branch
 * and tag names, and people (author, committer, tagger).
 * Invariants:
 * - A repo path is relative and canonical: no leading or trailing "/", no empty, "." or ".."
 *   component, no NUL; "" names the root where a method allows it.
 * - Branch and tag names are normalized to full ref names and pass git's check-ref-format.
 * Spec: git-check-ref-format(1); gitrevisions(7); git-commit-tree(1) "COMMIT INFORMATION".
 */
import { z } from "zod";
import type { Oid } from "../../engine/oid.ts";
import { checkRefName } from "../ref-name.ts";

export const OidSchema = z
  .string()
  .regex(/^[0-9a-f]{40}$/, "an object id is 40 lowercase hex digits")
  .transform((s) => s as Oid);

export const RevSchema = z.string().min(1).max(1024);

export const ObjectTypeSchema = z.enum(["commit", "tree", "blob", "tag"]);

function isRepoPath(p: string): boolean {
  if (p === "") return true;
  if (p.includes("\0")) return false;
  return p.split("/").every((c) => c !== "" && c !== "." && c !== "..");
}

/** A path in the repository; "" is the root. */
export const RepoPathSchema = z.string().max(4096).refine(isRepoPath, "a path is relative, with no empty, . or .. components");
/** A path naming a file or directory, never the root. */
export const FilePathSchema = RepoPathSchema.refine((p) => p !== "", "the path must not be empty");

function refUnder(prefix: "refs/heads/" | "refs/tags/") {
  return z
    .string()
    .min(1)
    // A cheap bound on the text; checkRefName then gives git's limits (1,024 bytes, 255 per component).
    .max(4096)
    .transform((s) => (s.startsWith(prefix) ? s : prefix + s))
    .superRefine((ref, ctx) => {
      const bad = checkRefName(ref);
      // The name is quoted short: the reason must survive the 500 characters a refusal message keeps.
      const quoted = JSON.stringify(ref.length > 80 ? `${ref.slice(0, 80)}…` : ref);
      if (bad) ctx.addIssue({ code: "custom", message: `bad ref name ${quoted}: ${bad}` });
    });
}

/** "main" or "refs/heads/main", normalized to the full name. */
export const BranchNameSchema = refUnder("refs/heads/");
/** "v1.0" or "refs/tags/v1.0", normalized to the full name. */
export const TagNameSchema = refUnder("refs/tags/");

const IdentText = z
  .string()
  .min(1)
  .max(256)
  .refine((s) => !/[<>\n\0]/.test(s), "must not contain <, >, a newline or NUL");

/** A person as a caller gives it: the date defaults to now, the zone to +0000. */
export const SignatureInputSchema = z.object({
  name: IdentText,
  email: z.string().max(256).refine((s) => !/[<>\n\0]/.test(s), "must not contain <, >, a newline or NUL"),
  date: z.date().optional(),
  timezone: z
    .string()
    .regex(/^[+-]\d{4}$/, "a zone is like +0100")
    .default("+0000"),
});

/** A person as stored in a commit or tag. */
export const PersonSchema = z.object({ name: z.string(), email: z.string(), date: z.date(), timezone: z.string() });
