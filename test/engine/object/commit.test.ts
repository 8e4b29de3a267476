import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashObject } from "../../../engine/hash.ts";
import { commitTimestamp, decodeCommit, encodeCommit, type Commit } from "../../../engine/object/commit.ts";
import type { Oid } from "../../../engine/oid.ts";

const ENV = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_AUTHOR_NAME: "Ada Author",
  GIT_AUTHOR_EMAIL: "ada@example.com",
  GIT_COMMITTER_NAME: "Cy Committer",
  GIT_COMMITTER_EMAIL: "cy@example.com",
};
let clock = 1_700_000_000;

function git(args: string[], input?: Uint8Array | string, env: Record<string, string> = {}): Uint8Array {
  return new Uint8Array(execFileSync("git", args, { cwd: dir, input, env: { ...ENV, ...env }, maxBuffer: 1 << 28 }));
}
const gitText = (args: string[], input?: Uint8Array | string, env?: Record<string, string>) =>
  new TextDecoder().decode(git(args, input, env)).trim();
function commitAll(message: string, tz = "+0000") {
  clock += 3600;
  const date = `@${clock} ${tz}`;
  git(["add", "-A"]);
  git(["commit", "-q", "--allow-empty", "-m", message], undefined, { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date });
}
const writeLiterally = (bytes: Uint8Array | string) => gitText(["hash-object", "-t", "commit", "--literally", "-w", "--stdin"], bytes);
const catCommit = (oid: string) => git(["cat-file", "commit", oid]);
const enc = (s: string) => new TextEncoder().encode(s);

let dir: string;
/** Commits that exercise the optional parts of the format, each written by git or byte-for-byte by hand. */
const special: Record<string, string> = {};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "edgegit-commit-"));
  git(["init", "-q", "-b", "main"]);
  writeFileSync(join(dir, "f"), "base\n");
  commitAll("root");
  git(["checkout", "-q", "-b", "one"]);
  writeFileSync(join(dir, "one"), "1\n");
  commitAll("one", "+0530");
  git(["checkout", "-q", "-b", "two", "main"]);
  writeFileSync(join(dir, "two"), "2\n");
  commitAll("two", "-0800");
  git(["checkout", "-q", "main"]);
  writeFileSync(join(dir, "f"), "main\n");
  commitAll("on main\n\nwith a body\n\n  and indented lines\n");
  clock += 60;
  git(["merge", "-q", "--no-edit", "one", "two"], undefined, { GIT_AUTHOR_DATE: `@${clock} +0000`, GIT_COMMITTER_DATE: `@${clock} +0000` });
  special.octopus = gitText(["rev-parse", "HEAD"]);
  git(["commit", "-q", "--allow-empty", "--allow-empty-message", "-m", ""]);
  special.emptyMessage = gitText(["rev-parse", "HEAD"]);
  writeFileSync(join(dir, "latin1-msg"), Uint8Array.from([...enc("caf"), 0xe9, ...enc(" cr"), 0xe8, ...enc("me\n")]));
  git(["-c", "i18n.commitEncoding=ISO-8859-1", "commit", "-q", "--allow-empty", "-F", "latin1-msg"]);
  special.latin1 = gitText(["rev-parse", "HEAD"]);

  // Signed commits, by hand: the signature and the merged signed tag need no key to be well-formed.
  git(["tag", "-a", "v1", "-m", "release v1", "one"]);
  const tagText = new TextDecoder().decode(git(["cat-file", "tag", "v1"])).trimEnd();
  const head = new TextDecoder().decode(catCommit("HEAD"));
  const [hdr, msg] = [head.slice(0, head.indexOf("\n\n") + 1), head.slice(head.indexOf("\n\n") + 2)];
  const sig = "-----BEGIN PGP SIGNATURE-----\n\niQEzBAABCAAdFiEE\n=abcd\n-----END PGP SIGNATURE-----";
  const cont = (v: string) => v.replaceAll("\n", "\n ");
  special.gpgsig = writeLiterally(`${hdr}gpgsig ${cont(sig)}\n\n${msg}`);
  special.mergetag = writeLiterally(`${hdr}mergetag ${cont(tagText)}\ngpgsig ${cont(sig)}\n\n${msg}`);
  const plain = new TextDecoder().decode(catCommit("one"));
  special.oddOrder = writeLiterally(plain.replace("\n\n", `\ngpgsig ${cont(sig)}\nencoding UTF-8\nx-custom value\n\n`));
  const [before, after] = hdr.split("author Ada Author");
  special.latin1Author = writeLiterally(Uint8Array.from([...enc(`${before}author Ad`), 0xe1, ...enc(` Author${after}\nmsg\n`)]));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const allCommits = () => [...gitText(["rev-list", "--all"]).split("\n"), ...Object.values(special)];

describe("decodeCommit", () => {
  it("reads tree, parents, author and committer as git log does", () => {
    for (const oid of gitText(["rev-list", "--all"]).split("\n")) {
      const c = decodeCommit(catCommit(oid));
      expect(c.tree).toBe(gitText(["rev-parse", `${oid}^{tree}`]));
      expect(c.parents).toEqual(gitText(["rev-list", "--parents", "-n1", oid]).split(" ").slice(1));
      const [an, ae, ad, cn, ce, cd] = gitText(["log", "-1", "--date=raw", "--format=%an%n%ae%n%ad%n%cn%n%ce%n%cd", oid]).split("\n");
      expect(c.author).toEqual({ name: an, email: ae, timestamp: Number(ad!.split(" ")[0]), timezone: ad!.split(" ")[1] });
      expect(c.committer).toEqual({ name: cn, email: ce, timestamp: Number(cd!.split(" ")[0]), timezone: cd!.split(" ")[1] });
      expect(commitTimestamp(c)).toBe(Number(gitText(["log", "-1", "--format=%ct", oid])));
    }
  });

  it("reads an octopus merge's parents in order", () => {
    const c = decodeCommit(catCommit(special.octopus!));
    expect(c.parents).toEqual([`${special.octopus}^1`, "one", "two"].map((r) => gitText(["rev-parse", r])));
  });

  it("lifts encoding and keeps a message in that encoding byte for byte", () => {
    const c = decodeCommit(catCommit(special.latin1!));
    expect(c.encoding).toBe("ISO-8859-1");
    expect(c.extraHeaders).toEqual([]);
    expect(c.message).toBe("caf\udce9 cr\udce8me\n");
  });

  it("lifts gpgsig and keeps mergetag as an extra header", () => {
    const signed = decodeCommit(catCommit(special.gpgsig!));
    expect(signed.gpgsig).toBe("-----BEGIN PGP SIGNATURE-----\n\niQEzBAABCAAdFiEE\n=abcd\n-----END PGP SIGNATURE-----");
    const merged = decodeCommit(catCommit(special.mergetag!));
    expect(merged.gpgsig).toBe(signed.gpgsig);
    expect(merged.extraHeaders).toEqual([["mergetag", new TextDecoder().decode(git(["cat-file", "tag", "v1"])).trimEnd()]]);
  });

  it("leaves encoding and gpgsig in extraHeaders where git would not write them", () => {
    const c = decodeCommit(catCommit(special.oddOrder!));
    expect(c.encoding).toBeUndefined();
    expect(c.gpgsig).toBeUndefined();
    expect(c.extraHeaders.map(([k]) => k)).toEqual(["gpgsig", "encoding", "x-custom"]);
  });

  it("reads an empty message", () => {
    expect(decodeCommit(catCommit(special.emptyMessage!)).message).toBe("");
  });
});

describe("encodeCommit", () => {
  it("round-trips every commit byte for byte, so the id is unchanged", () => {
    for (const oid of allCommits()) {
      const bytes = catCommit(oid);
      const again = encodeCommit(decodeCommit(bytes));
      expect(again).toEqual(bytes);
      expect(hashObject("commit", again)).toBe(oid);
    }
  });

  it("writes what git commit-tree writes", () => {
    const tree = gitText(["rev-parse", "HEAD^{tree}"]) as Oid;
    const parents = [gitText(["rev-parse", "one"]), gitText(["rev-parse", "two"])] as Oid[];
    const c: Commit = {
      tree,
      parents,
      author: { name: "Ada Author", email: "ada@example.com", timestamp: 1234567890, timezone: "+0200" },
      committer: { name: "Cy Committer", email: "cy@example.com", timestamp: 1234567999, timezone: "-0330" },
      extraHeaders: [],
      message: "subject\n\nbody line\n",
    };
    const expected = gitText(["commit-tree", tree, "-p", parents[0]!, "-p", parents[1]!, "-m", "subject", "-m", "body line"], undefined, {
      GIT_AUTHOR_DATE: "1234567890 +0200",
      GIT_COMMITTER_DATE: "1234567999 -0330",
    });
    expect(hashObject("commit", encodeCommit(c))).toBe(expected);
  });

  it("adds the blank line to a commit that has only headers", () => {
    const bytes = enc(`tree ${"a".repeat(40)}\nauthor A <a> 1 +0000\ncommitter C <c> 2 +0000\n`);
    const c = decodeCommit(bytes);
    expect(c.message).toBe("");
    expect(encodeCommit(c)).toEqual(enc(new TextDecoder().decode(bytes) + "\n"));
  });
});

describe("commitTimestamp", () => {
  it("reads the committer time from raw bytes without a full decode", () => {
    for (const oid of allCommits()) {
      const bytes = catCommit(oid);
      expect(commitTimestamp(bytes)).toBe(decodeCommit(bytes).committer.timestamp);
    }
  });
});

describe("malformed commits", () => {
  const T = `tree ${"4b825dc642cb6eb9a060e54bf8d69288fbee4904"}\n`;
  const P = `parent ${"1".repeat(40)}\n`;
  const A = "author A U Thor <a@example.com> 1700000000 +0100\n";
  const C = "committer C O Mitter <c@example.com> 1700000001 -0100\n";
  const who = (ident: string) => `${T}author ${ident}\n${C}\nmsg\n`;
  // [name, bytes, our reason, does git fsck report it as an error too?]
  const cases: [string, string, string, boolean][] = [
    ["no tree", `${P}${A}${C}\nmsg\n`, "missing tree", true],
    ["author before tree", `${A}${T}${C}\nmsg\n`, "missing tree", true],
    ["short tree id", `tree 4b825dc6\n${A}${C}\nmsg\n`, "bad tree sha1", true],
    ["upper-case tree id", `tree ${"4B825DC642CB6EB9A060E54BF8D69288FBEE4904"}\n${A}${C}\nmsg\n`, "bad tree sha1", false],
    ["bad parent id", `${T}parent xyz\n${A}${C}\nmsg\n`, "bad parent sha1", true],
    ["no author", `${T}${P}${C}\nmsg\n`, "missing author", true],
    ["no committer", `${T}${A}\nmsg\n`, "missing committer", true],
    ["two authors", `${T}${A}${A}${C}\nmsg\n`, "missing committer", true],
    ["parent after author", `${T}${A}${P}${C}\nmsg\n`, "missing committer", true],
    ["no email", who("A U Thor 1700000000 +0100"), "missing email", true],
    ["no name", who("<a@example.com> 1700000000 +0100"), "missing space before email", true],
    ["no space before email", who("A<a@example.com> 1700000000 +0100"), "missing space before email", true],
    ["> in name", who("A> <a@example.com> 1700000000 +0100"), "bad name", true],
    ["< in email", who("A <a<b@example.com> 1700000000 +0100"), "bad email", true],
    ["no space before date", who("A <a@example.com>1700000000 +0100"), "missing space before date", true],
    ["date not a number", who("A <a@example.com> soon +0100"), "bad date", true],
    ["no date", who("A <a@example.com> +0100"), "bad date", true],
    ["zero-padded date", who("A <a@example.com> 0170 +0100"), "zero-padded date", true],
    ["overflowing date", who("A <a@example.com> 99999999999999999999999 +0100"), "integer overflow", true],
    ["short zone", who("A <a@example.com> 1700000000 +01"), "bad time zone", true],
    ["unsigned zone", who("A <a@example.com> 1700000000 0100"), "bad time zone", true],
    ["no zone", who("A <a@example.com> 1700000000"), "bad date", true],
    ["two spaces before date", who("A <a@example.com>  1700000000 +0100"), "bad date", false],
    ["multi-line author", `${T}author A\n <a@example.com> 1 +0000\n${C}\nmsg\n`, "spans several lines", true],
    ["NUL in header", `${T}${A}${C}x-h a\0b\n\nmsg\n`, "NUL in header", true],
    ["unterminated header", `${T}${A}${C.trimEnd()}`, "unterminated header", true],
  ];

  it.each(cases)("rejects %s", (_, text, reason) => {
    expect(() => decodeCommit(enc(text))).toThrow(
      expect.objectContaining({ code: "object-malformed", data: { type: "commit", reason: expect.stringContaining(reason) } }),
    );
  });

  it("agrees with git fsck on which of them are errors", () => {
    const oids = cases.map(([, text]) => writeLiterally(text));
    const control = writeLiterally(`${T}${P}${A}${C}\nfine\n`);
    const fsck = spawnSync("git", ["fsck", "--no-dangling", "--no-progress"], { cwd: dir, env: ENV, encoding: "utf8" });
    // "error in commit <id>: <check>: ..." or, when git cannot even parse it, "error: bogus commit object <id>".
    const flagged = new Set([...(fsck.stdout + fsck.stderr).matchAll(/^error\b.*?([0-9a-f]{40})/gm)].map((m) => m[1]));
    expect(cases.map(([name], i) => [name, flagged.has(oids[i]!)])).toEqual(cases.map(([name, , , gitAgrees]) => [name, gitAgrees]));
    expect(flagged.has(control)).toBe(false);
  });
});
