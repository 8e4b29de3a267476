/**
 * What an RPC call costs, for budgets: the gateway charges callers by it (per-caller rate limits)
 * and the actor caps its expensive calls in flight by it.
 * Invariants:
 * - `expensive` is every read whose work grows with the repository's content rather than with its
 *   answer: grep and diff read blobs, and `log` of a path diffs a tree per commit it walks.
 */
export type RpcCost = "cheap" | "expensive" | "write";

const EXPENSIVE_METHODS: ReadonlySet<string> = new Set(["grep", "diff"]);

/** `input` is the call's input, parsed or as sent (`{ json }` around it for superjson). */
export function rpcCost(method: string, write: boolean, input: unknown): RpcCost {
  if (write) return "write";
  if (EXPENSIVE_METHODS.has(method)) return "expensive";
  return method === "log" && hasPath(input) ? "expensive" : "cheap";
}

function hasPath(input: unknown): boolean {
  const value = input as { path?: unknown; json?: { path?: unknown } } | null;
  const path = value?.json?.path ?? value?.path;
  return typeof path === "string" && path !== "";
}
