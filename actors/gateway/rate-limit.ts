/**
 * Per-caller budgets through the Workers Rate Limiting binding: one binding per cost class, keyed by
 * the caller (a token's id, else the client address), checked before the request reaches an actor.
 * Invariants:
 * - Over budget is `rate-limited` (429) with `retryAfter` seconds, the binding's period: the binding
 *   says only yes or no, and its window is at most that long.
 * - Anonymous callers and bad credentials count against their address (`CF-Connecting-IP`, which
 *   Cloudflare's edge sets; an IPv6 address counts as its /64, which one host usually holds whole).
 * - A `<CLASS>_LIMIT` var overrides the binding's limit per call (`"off"`: no limit). wrangler dev
 *   honours it (its simulation takes `limit` per call); deployed budgets belong in wrangler.jsonc.
 * Spec: https://developers.cloudflare.com/workers/runtime-apis/bindings/rate-limit; RFC 9110 10.2.3.
 */
import { GitError } from "../../engine/index.ts";
import type { Env } from "../env.ts";
import type { RpcCost } from "../../protocol/rpc/index.ts";
import type { Caller } from "../auth/access.ts";

/** Each class's binding, its override var, and the period set for that binding in wrangler.jsonc. */
const BUDGETS = {
  cheap: { binding: "CHEAP_READS", limitVar: "CHEAP_READS_LIMIT", periodSeconds: 10 },
  expensive: { binding: "EXPENSIVE_READS", limitVar: "EXPENSIVE_READS_LIMIT", periodSeconds: 10 },
  write: { binding: "WRITES", limitVar: "WRITES_LIMIT", periodSeconds: 10 },
} as const satisfies Record<RpcCost, { binding: keyof Env; limitVar: keyof Env; periodSeconds: 10 | 60 }>;

/** Spends one unit of `cost` for this caller; throws `rate-limited` once the budget is gone. */
export function chargeCaller(env: Env, request: Request, caller: Caller, cost: RpcCost): Promise<void> {
  return chargeKey(env, callerKey(request, caller), cost);
}

/**
 * `chargeCaller` for a key made earlier by `callerKey`: a socket's calls are charged in the actor,
 * to the key the gateway computed at the upgrade.
 */
export async function chargeKey(env: Env, key: string, cost: RpcCost): Promise<void> {
  const budget = BUDGETS[cost];
  const override = env[budget.limitVar];
  if (override === "off") return;
  const limit = Number(override);
  const overrides = override && Number.isInteger(limit) && limit > 0 ? { limit } : {};
  const options = { key: `${cost}:${key}`, ...overrides };
  // `limit` is not in workers-types' RateLimitOptions; the runtime's and wrangler dev's API take it.
  const { success } = await env[budget.binding].limit(options as RateLimitOptions);
  if (success) return;
  const what = cost === "write" ? "writes" : `${cost} reads`;
  throw new GitError("rate-limited", `too many ${what}: retry in ${budget.periodSeconds} s`, {
    data: { retryAfter: budget.periodSeconds },
    retryable: true,
  });
}

export function callerKey(request: Request, caller: Caller): string {
  if (caller.kind === "token") return `token:${caller.principal.tokenId}`;
  return `ip:${addressKey(request.headers.get("cf-connecting-ip") ?? "")}`;
}

/** An IPv4 address as is; an IPv6 one as its first four groups (its /64). */
function addressKey(address: string): string {
  if (!address.includes(":")) return address || "unknown";
  const [head = "", tail] = address.toLowerCase().split("::");
  const groups = head ? head.split(":") : [];
  if (tail !== undefined) {
    const rest = tail ? tail.split(":") : [];
    groups.push(...Array<string>(Math.max(0, 8 - groups.length - rest.length)).fill("0"), ...rest);
  }
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, "")).join(":")}::/64`;
}
