/** engine/diff: tree diffs, rename detection, Myers line diffs and unified hunks. */
export * from "./myers.ts";
export * from "./hunks.ts";
export * from "./tree-diff.ts";
export * from "./renames.ts";
export * from "./diff-batch.ts";
