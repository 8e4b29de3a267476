/**
 * Partial-clone object filters: which blobs and trees a fetch may leave out.
 * Invariants:
 * - An object the client asked for by id is never filtered out (lazy fetches name what they need).
 * Spec: git-rev-list(1) "--filter=<filter-spec>"; gitprotocol-v2(5) fetch `filter`.
 */
import { GitError } from "../errors.ts";

export type FilterErrorCode = "filter-unsupported";

export interface ObjectFilter {
  /** Leave out every blob. */
  noBlobs: boolean;
  /** Leave out blobs of at least this many bytes. */
  blobLimit?: number;
  /** Leave out trees and blobs at this depth or deeper (a root tree is at depth 0). */
  treeDepth?: number;
}

const UNITS: Record<string, number> = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

export function parseObjectFilter(spec: string): ObjectFilter {
  if (spec === "blob:none") return { noBlobs: true };
  let m = /^blob:limit=(\d+)([kmg]?)$/i.exec(spec);
  if (m) return { noBlobs: false, blobLimit: Number(m[1]) * UNITS[m[2]!.toLowerCase()]! };
  m = /^tree:(\d+)$/.exec(spec);
  if (m) return { noBlobs: false, treeDepth: Number(m[1]) };
  throw new GitError("filter-unsupported", `unsupported filter ${JSON.stringify(spec.slice(0, 60))}: use blob:none, blob:limit=<n>[kmg] or tree:<depth>`);
}
