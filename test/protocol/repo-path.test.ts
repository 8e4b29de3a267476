import { describe, expect, it } from "vitest";
import { parseRepoPath } from "../../protocol/repo-path.ts";
import { expectGitError } from "./helpers.ts";

describe("parseRepoPath", () => {
  it("accepts [A-Za-z0-9._-] and strips one trailing .git", () => {
    expect(parseRepoPath("octo-cat", "hello_world.git")).toEqual({ owner: "octo-cat", repo: "hello_world" });
    expect(parseRepoPath("A.b", "x.git.git")).toEqual({ owner: "A.b", repo: "x.git" });
    expect(parseRepoPath("o", "v1.2")).toEqual({ owner: "o", repo: "v1.2" });
    expect(parseRepoPath("o", ".gitignore")).toEqual({ owner: "o", repo: ".gitignore" });
    expect(parseRepoPath("o".repeat(100), "r".repeat(100))).toEqual({ owner: "o".repeat(100), repo: "r".repeat(100) });
    expect(parseRepoPath("o", `${"r".repeat(100)}.git`)).toEqual({ owner: "o", repo: "r".repeat(100) });
  });

  it.each([
    ["", "r"],
    ["o", ""],
    [".", "r"],
    ["..", "r"],
    ["o", "."],
    ["o", ".."],
    ["o", ".git"],
    ["o", "..git"],
    ["o", "a/b"],
    ["o/p", "r"],
    ["o", "a b"],
    ["o", "a%2Fb"],
    ["o", "é"],
    ["o", "a\0b"],
    ["o", "a\\b"],
    ["o".repeat(101), "r"],
    ["o", "r".repeat(101)],
  ])("rejects owner %j, repo %j", async (owner, repo) => {
    const err = await expectGitError(() => parseRepoPath(owner, repo), "bad-repo-name");
    expect(err.message).toMatch(/^bad (owner|repository) name/);
  });
});
