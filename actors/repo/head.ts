/**
 * HEAD is a symref stored in `meta.head`. A clone checks out what it names, so after a push it must
 * name a branch that exists, when any does.
 */
import type { RepoStore } from "./repo-store.ts";

export const DEFAULT_HEAD = "refs/heads/main";

export function headTarget(store: RepoStore): string {
  return store.getMeta("head") ?? DEFAULT_HEAD;
}

/** Keeps HEAD if its branch exists; else points it at main, master, or the first branch. */
export function chooseHead(store: RepoStore): void {
  const current = headTarget(store);
  if (store.ref(current)) return;
  const branches = store.refs().filter((r) => r.name.startsWith("refs/heads/")).map((r) => r.name);
  const next = ["refs/heads/main", "refs/heads/master"].find((b) => branches.includes(b)) ?? branches[0];
  if (next) store.setMeta("head", next);
}
