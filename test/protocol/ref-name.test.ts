import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { checkRefName } from "../../protocol/ref-name.ts";

/** The reference: does `git check-ref-format` (no --allow-onelevel) accept the name? */
function gitAccepts(name: string): boolean {
  const run = spawnSync("git", ["check-ref-format", name], { encoding: "utf8" });
  if (run.error) throw run.error;
  return run.status === 0;
}

const UNDER_REFS = [
  // accepted by git
  "refs/heads/main",
  "refs/heads/feature/x-1",
  "refs/tags/v1.0.0",
  "refs/heads/a.b",
  "refs/heads/a./b",
  "refs/heads/a-",
  "refs/heads/@",
  "refs/heads/a@b",
  "refs/heads/a@",
  "refs/heads/{x}",
  "refs/heads/a{b",
  "refs/heads/ü",
  "refs/heads/日本",
  "refs/heads/lock",
  "refs/heads/x.lockx",
  "refs/heads/-",
  "refs/heads/a_b",
  "refs/heads/a+b",
  "refs/heads/a,b",
  "refs/heads/a#b",
  "refs/heads/a!b",
  "refs/heads/a'b",
  "refs/heads/a\"b",
  "refs/notes/commits",
  "refs/x",
  "refs/heads/HEAD/x",
  "refs/heads/a]b",
  // refused by git
  "refs/heads/a..b",
  "refs/heads/..",
  "refs/heads/a.lock",
  "refs/heads/a.lock/b",
  "refs/heads/.lock",
  "refs/heads/a\x01b",
  "refs/heads/a\x1fb",
  "refs/heads/a\tb",
  "refs/heads/a\x7fb",
  "refs/heads/a@{b",
  "refs/heads/@{",
  "refs/heads/a\\b",
  "refs/heads/a*b",
  "refs/heads/*",
  "refs/heads/a?b",
  "refs/heads/a[b",
  "refs/heads/a~b",
  "refs/heads/a~1",
  "refs/heads/a^b",
  "refs/heads/a:b",
  "refs/heads/a b",
  "refs/heads/ ",
  "refs/heads/a/",
  "refs/heads/",
  "refs/",
  "refs/heads/a.",
  "refs/heads/a/.",
  "refs/heads/.a",
  "refs/heads/a/.b",
  "refs//heads",
  "refs/heads//a",
  "refs/heads/a\x02b",
];

const NOT_UNDER_REFS = ["@", "HEAD", "main", "heads/main", "/refs/heads/a", "Refs/heads/a", "refs", "", "a/b", ".refs/x"];

describe("checkRefName", () => {
  it("agrees with git check-ref-format on names under refs/", () => {
    let acceptedByGit = 0;
    for (const name of UNDER_REFS) {
      const git = gitAccepts(name);
      if (git) acceptedByGit++;
      const reason = checkRefName(name);
      expect({ name, accepted: reason === null }).toEqual({ name, accepted: git });
      if (reason !== null) expect(reason.length).toBeGreaterThan(0);
    }
    // The list must exercise both answers.
    expect(acceptedByGit).toBeGreaterThan(20);
    expect(UNDER_REFS.length - acceptedByGit).toBeGreaterThan(30);
  });

  it("refuses names outside refs/, even ones git accepts", () => {
    expect(gitAccepts("heads/main")).toBe(true);
    for (const name of NOT_UNDER_REFS) expect(checkRefName(name), name).not.toBeNull();
    expect(checkRefName("main")).toBe("not under refs/");
    expect(checkRefName("@")).not.toBeNull();
    expect(gitAccepts("@")).toBe(false);
  });

  it("refuses refs/heads/HEAD, which git accepts", () => {
    expect(gitAccepts("refs/heads/HEAD")).toBe(true);
    expect(checkRefName("refs/heads/HEAD")).not.toBeNull();
  });
});
