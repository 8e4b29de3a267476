import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { MAX_REF_COMPONENT_BYTES, MAX_REF_NAME_BYTES, checkRefName } from "../../protocol/ref-name.ts";

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

describe("length limits (git's are the file system's: a longer ref cannot be stored)", () => {
  const component = (bytes: number, ch = "a") => ch.repeat(bytes);
  /** `refs/heads/` and then components of 200 bytes, to exactly `total` bytes. */
  const nameOf = (total: number) => {
    let name = "refs/heads/";
    while (name.length < total) name += (name.endsWith("/") ? "" : "/") + "x".repeat(Math.min(200, total - name.length - (name.endsWith("/") ? 0 : 1)));
    return name;
  };

  it("accepts a name of exactly 1,024 bytes and a component of exactly 255", () => {
    expect(nameOf(MAX_REF_NAME_BYTES)).toHaveLength(MAX_REF_NAME_BYTES);
    expect(checkRefName(nameOf(MAX_REF_NAME_BYTES))).toBeNull();
    expect(checkRefName(`refs/heads/${component(MAX_REF_COMPONENT_BYTES)}`)).toBeNull();
  });

  it("refuses a name of 1,025 bytes, and one of 65,300 characters", () => {
    expect(checkRefName(nameOf(MAX_REF_NAME_BYTES + 1))).toBe("is longer than 1024 bytes");
    expect(checkRefName(`refs/heads/${"a/".repeat(32650)}b`)).toBe("is longer than 1024 bytes");
  });

  it("refuses a component of 256 bytes, counted in UTF-8", () => {
    expect(checkRefName(`refs/heads/${component(MAX_REF_COMPONENT_BYTES + 1)}`)).toBe("has a component longer than 255 bytes");
    // 128 characters, 256 bytes: the limit is on bytes, as the file system's is.
    expect(checkRefName(`refs/heads/${component(128, "ü")}`)).toBe("has a component longer than 255 bytes");
    expect(checkRefName(`refs/heads/${component(127, "ü")}`)).toBeNull();
  });

  it("counts the whole name in UTF-8 bytes too", () => {
    const wide = `refs/heads/${Array.from({ length: 5 }, () => component(100, "日")).join("/")}`; // 1,515 bytes, 515 characters
    expect(wide.length).toBeLessThan(MAX_REF_NAME_BYTES);
    expect(checkRefName(wide)).toBe("is longer than 1024 bytes");
  });
});
