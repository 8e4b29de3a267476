/**
 * Validates the owner and repository segments of a URL path (already percent-decoded by the caller).
 * Invariants:
 * - Both segments are 1..100 chars of [A-Za-z0-9._-], and neither is `.` or `..`, so they are safe in keys and paths.
 * - One trailing `.git` is stripped from the repository name first; the limits apply to what remains.
 * Spec: none (our URL scheme: /<owner>/<repo>[.git]/...).
 */
import { GitError } from "../engine/index.ts";
import type { ProtocolErrorCode } from "./errors.ts";

const SEGMENT = /^[A-Za-z0-9._-]{1,100}$/;

export function parseRepoPath(owner: string, repo: string): { owner: string; repo: string } {
  checkSegment("owner", owner);
  const name = repo.endsWith(".git") ? repo.slice(0, -4) : repo;
  checkSegment("repository", name);
  return { owner, repo: name };
}

function checkSegment(what: string, s: string): void {
  if (SEGMENT.test(s) && s !== "." && s !== "..") return;
  throw new GitError<ProtocolErrorCode>(
    "bad-repo-name",
    `bad ${what} name ${JSON.stringify(s.slice(0, 100))}: use 1 to 100 of A-Z a-z 0-9 . _ -, and not . or ..`,
    { data: { [what]: s.slice(0, 100) } },
  );
}
