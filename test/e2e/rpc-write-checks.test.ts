/**
 * The write RPCs refuse what git would refuse: every commit, tag and tree they build passes the checks
 * a pushed object passes (dates in git's range, time zones, idents, fsck's path rules).
 * Invariants:
 * - Each hostile input to `commit` or `createTag` over the JSON route gets a 4xx and an error code.
 * - After all of them the repo's refs are exactly as before and a fresh clone passes `git fsck --strict`.
 * - The same calls with the hostile part made good are accepted (so a refusal is for what was broken).
 * Spec: git-fsck(1) "FSCK MESSAGES" (badDate, badDateOverflow, badTimezone, badName, badEmail,
 *       hasDot, hasDotdot, hasDotgit, fullPathname, emptyName); git-commit-tree(1); git-mktag(1).
 */
import { join } from "node:path";
import superjson from "superjson";
import { beforeAll, describe, expect, it } from "vitest";
import { baseUrl, basicAuth, fsck, git, lsRemote, revParse, splitCredentials, tempDir, tinyRepo, uniqueRepoUrl } from "./git.ts";

const SUPERJSON = "application/vnd.superjson+json";
/** The earliest instant a JS Date holds: year -271821, 8.64e15 ms before the epoch. */
const EARLIEST = new Date(-8.64e15);
const GOOD = { name: "Checked Writer", email: "checked@example.com", date: new Date("2024-05-01T12:00:00Z"), timezone: "+0200" };

let url: string;
let path: string;
let parent: string;
let before: Map<string, string>;

beforeAll(async () => {
  const src = await tinyRepo(2);
  url = uniqueRepoUrl("rpc-write-checks");
  await git(src, ["push", "-q", url, "main"]);
  await git(src, ["tag", "-a", "v0", "-m", "pushed tag"]);
  await git(src, ["push", "-q", url, "v0"]);
  parent = await revParse(src, "main");
  path = new URL(splitCredentials(url).url).pathname.replace(/\.git$/, "");
  before = await lsRemote(url, 2);
});

/** One call over the JSON route, input as superjson (so dates travel as dates). */
async function call(method: string, input: unknown): Promise<{ status: number; body: { error?: { code: string; message: string } } }> {
  const res = await fetch(`${baseUrl()}${path}/rpc/${method}`, {
    method: "POST",
    headers: { "content-type": SUPERJSON, ...basicAuth() },
    body: JSON.stringify(superjson.serialize(input)),
  });
  return { status: res.status, body: (await res.json()) as { error?: { code: string; message: string } } };
}

const commitWith = (over: Record<string, unknown>) => ({
  branch: "main",
  expectedParent: parent,
  message: "hostile commit",
  author: GOOD,
  changes: [{ path: "ok.txt", content: "fine\n" }],
  ...over,
});
const tagWith = (over: Record<string, unknown>) => ({ name: "hostile", target: "main", message: "hostile tag", tagger: GOOD, ...over });

// [what, method, input (built once beforeAll has run), expected code]
const CASES: [string, "commit" | "createTag", () => unknown, string][] = [
  ["an author date of year -271821", "commit", () => commitWith({ author: { ...GOOD, date: EARLIEST } }), "object-malformed"],
  ["a committer date of year -271821", "commit", () => commitWith({ committer: { ...GOOD, date: EARLIEST } }), "object-malformed"],
  ["an author date before 1970", "commit", () => commitWith({ author: { ...GOOD, date: new Date("1969-12-31T23:59:59Z") } }), "object-malformed"],
  ["a time zone with a colon", "commit", () => commitWith({ author: { ...GOOD, timezone: "+01:00" } }), "rpc-bad-input"],
  ["a time zone of six digits", "commit", () => commitWith({ author: { ...GOOD, timezone: "+010000" } }), "rpc-bad-input"],
  ["a time zone with no sign", "commit", () => commitWith({ author: { ...GOOD, timezone: "0100" } }), "rpc-bad-input"],
  ["a name with <", "commit", () => commitWith({ author: { ...GOOD, name: "Eve <evil" } }), "rpc-bad-input"],
  ["a name with >", "commit", () => commitWith({ author: { ...GOOD, name: "Eve> x" } }), "rpc-bad-input"],
  ["a name with a newline", "commit", () => commitWith({ author: { ...GOOD, name: "Eve\ncommitter forged <f@x> 1 +0000" } }), "rpc-bad-input"],
  ["an email with >", "commit", () => commitWith({ committer: { ...GOOD, email: "a>b@example.com" } }), "rpc-bad-input"],
  ["an email with a newline", "commit", () => commitWith({ committer: { ...GOOD, email: "a@example.com\nparent x" } }), "rpc-bad-input"],
  ["a path through .git", "commit", () => commitWith({ changes: [{ path: ".git/config", content: "x" }] }), "rpc-bad-input"],
  ["a path through .GIT", "commit", () => commitWith({ changes: [{ path: "a/.GIT/hooks/x", content: "x" }] }), "rpc-bad-input"],
  ["a path through git~1", "commit", () => commitWith({ changes: [{ path: "git~1/config", content: "x" }] }), "rpc-bad-input"],
  ["a path through .git. (NTFS)", "commit", () => commitWith({ changes: [{ path: ".git. /config", content: "x" }] }), "rpc-bad-input"],
  ["a path through .g\\u200cit (HFS+)", "commit", () => commitWith({ changes: [{ path: ".g\u200cit/config", content: "x" }] }), "rpc-bad-input"],
  ["a name with a backslash and .git", "commit", () => commitWith({ changes: [{ path: "x\\.git", content: "x" }] }), "rpc-bad-input"],
  ["a path with ..", "commit", () => commitWith({ changes: [{ path: "a/../b", content: "x" }] }), "rpc-bad-input"],
  ["a path that is ..", "commit", () => commitWith({ changes: [{ path: "..", content: "x" }] }), "rpc-bad-input"],
  ["a path with .", "commit", () => commitWith({ changes: [{ path: "a/./b", content: "x" }] }), "rpc-bad-input"],
  ["a path with an empty component", "commit", () => commitWith({ changes: [{ path: "a//b", content: "x" }] }), "rpc-bad-input"],
  ["an absolute path", "commit", () => commitWith({ changes: [{ path: "/etc/passwd", content: "x" }] }), "rpc-bad-input"],
  ["a path with a trailing slash", "commit", () => commitWith({ changes: [{ path: "a/", content: "x" }] }), "rpc-bad-input"],
  ["an empty path", "commit", () => commitWith({ changes: [{ path: "", content: "x" }] }), "rpc-bad-input"],
  ["a path with NUL", "commit", () => commitWith({ changes: [{ path: "a\0b", content: "x" }] }), "rpc-bad-input"],
  ["a gitlink mode", "commit", () => commitWith({ changes: [{ path: "sub", content: "x", mode: "160000" }] }), "rpc-bad-input"],
  ["a message with NUL", "commit", () => commitWith({ message: "a\0b" }), "rpc-bad-input"],
  ["a tagger date of year -271821", "createTag", () => tagWith({ tagger: { ...GOOD, date: EARLIEST } }), "object-malformed"],
  ["a tagger date before 1970", "createTag", () => tagWith({ tagger: { ...GOOD, date: new Date(-1000) } }), "object-malformed"],
  ["a tagger name with <", "createTag", () => tagWith({ tagger: { ...GOOD, name: "a<b" } }), "rpc-bad-input"],
  ["a tagger email with a newline", "createTag", () => tagWith({ tagger: { ...GOOD, email: "a\nb" } }), "rpc-bad-input"],
  ["a tagger time zone of +1", "createTag", () => tagWith({ tagger: { ...GOOD, timezone: "+1" } }), "rpc-bad-input"],
  ["a tag message with NUL", "createTag", () => tagWith({ message: "a\0b" }), "rpc-bad-input"],
];

describe("write RPCs refuse objects git would refuse", () => {
  it("each hostile input gets a 4xx with its code; refs stay put and a clone fscks clean (--strict)", async () => {
    const wrong: string[] = [];
    for (const [what, method, input, code] of CASES) {
      const r = await call(method, input());
      if (r.status < 400 || r.status >= 500 || r.body.error?.code !== code) wrong.push(`${what}: HTTP ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
    }
    expect(wrong).toEqual([]);
    expect(await lsRemote(url, 2)).toEqual(before);
    const clone = join(tempDir(), "clone");
    await git(tempDir(), ["clone", "-q", "--mirror", url, clone]);
    await fsck(clone);
  });

  it("the same calls made good are accepted, and git takes what they wrote", async () => {
    const tag = await call("createTag", tagWith({ name: "good-tag" }));
    expect(tag.status, JSON.stringify(tag.body)).toBe(200);
    const made = await call("commit", commitWith({ author: { ...GOOD, date: new Date(0) }, changes: [{ path: "a/.gitx/ok.txt", content: "fine\n" }] }));
    expect(made.status, JSON.stringify(made.body)).toBe(200);
    const clone = join(tempDir(), "clone");
    await git(tempDir(), ["clone", "-q", "--mirror", url, clone]);
    await fsck(clone);
    expect((await git(clone, ["cat-file", "-p", "main"])).stdout).toContain("author Checked Writer <checked@example.com> 0 +0200\n");
  });
});
