/** engine/rev: revision expressions (`main~3`, `v1.0^{tree}`, `main:README`), tree paths and the log walk. */
export * from "./parse-rev.ts";
export * from "./resolve-rev.ts";
export * from "./tree-path.ts";
export * from "./walk-log.ts";
