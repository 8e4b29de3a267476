// Inside workerd: the gateway's early access decision (`checkWithoutRepo`, made before any repo is
// asked) followed by the actor's `authorize` gives exactly the answer of `authorize` alone, for
// every caller, scope, token pattern and repo state; and it never leaves a check for the actor when
// the answer does not depend on the repo.
import { describe, expect, it } from "vitest";
import { authorize, checkWithoutRepo, type Caller, type Visibility } from "../../actors/auth/access.ts";
import type { Scope } from "../../actors/auth/tokens.ts";
import type { Env } from "../../actors/env.ts";
import { GitError } from "../../engine/errors.ts";

const REPO = "alice/demo";
const SCOPES: Scope[] = ["read", "write", "admin"];
const STATES: { exists: boolean; visibility: Visibility }[] = [
  { exists: true, visibility: "public" },
  { exists: true, visibility: "private" },
  { exists: false, visibility: "public" },
  { exists: false, visibility: "private" },
];

const token = (scopes: Scope[], repos: string[]): Caller => ({ kind: "token", principal: { tokenId: "t", scopes, repos } });
const CALLERS: [string, Caller][] = [
  ["anonymous", { kind: "anonymous" }],
  ["a bad token", { kind: "bad-token" }],
  ...SCOPES.flatMap((s) =>
    [[], ["*"], ["alice/*"], [REPO], ["bob/*"], ["alice/other"]].map((repos): [string, Caller] => [`${s} on [${repos.join(",")}]`, token([s], repos)]),
  ),
];

/** "allowed", or the refusal's code. */
function outcome(run: () => void): string {
  try {
    run();
    return "allowed";
  } catch (e) {
    if (e instanceof GitError) return e.code;
    throw e;
  }
}

describe.each([
  ["with an admin secret", { ADMIN_TOKEN: "egt_secret" }],
  ["without an admin secret", {}],
])("checkWithoutRepo, then the actor's authorize, %s", (_, vars) => {
  const env = vars as Env;
  for (const [who, caller] of CALLERS) {
    for (const need of SCOPES) {
      it(`${who} needing ${need}: same answer as authorize in every repo state`, () => {
        const answers = STATES.map((state) => {
          const whole = outcome(() => authorize(env, caller, need, REPO, state));
          const split = outcome(() => {
            const check = checkWithoutRepo(env, caller, need, REPO);
            if (check) authorize(env, check.caller, check.need, REPO, state);
          });
          expect(split, JSON.stringify(state)).toBe(whole);
          return whole;
        });
        // A check is left for the actor only when the repo's state can change the answer.
        const settled = outcome(() => checkWithoutRepo(env, caller, need, REPO));
        const leavesCheck = settled === "allowed" && checkWithoutRepo(env, caller, need, REPO) !== null;
        expect(leavesCheck).toBe(new Set(answers).size > 1);
      });
    }
  }
});
