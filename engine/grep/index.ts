/** engine/grep: a linear-time regex engine (Pike VM), git-style pathspecs, and grep over a batch of blobs. */
export * from "./regex-parse.ts";
export * from "./regex-compile.ts";
export * from "./pike-vm.ts";
export * from "./pathspec.ts";
export * from "./grep-batch.ts";
export * from "./tree-files.ts";
