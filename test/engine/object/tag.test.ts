import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashObject } from "../../../engine/hash.ts";
import { decodeTag, encodeTag, type Tag } from "../../../engine/object/tag.ts";
import type { Oid } from "../../../engine/oid.ts";

const DATE = "1700000000 +0200";
const ENV = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_AUTHOR_NAME: "Ada Author",
  GIT_AUTHOR_EMAIL: "ada@example.com",
  GIT_COMMITTER_NAME: "Tess Tagger",
  GIT_COMMITTER_EMAIL: "tess@example.com",
  GIT_AUTHOR_DATE: DATE,
  GIT_COMMITTER_DATE: DATE,
};
function git(args: string[], input?: Uint8Array | string): Uint8Array {
  return new Uint8Array(execFileSync("git", args, { cwd: dir, input, env: ENV, maxBuffer: 1 << 28 }));
}
const gitText = (args: string[], input?: Uint8Array | string) => new TextDecoder().decode(git(args, input)).trim();
const enc = (s: string) => new TextEncoder().encode(s);
const writeLiterally = (bytes: Uint8Array | string) => gitText(["hash-object", "-t", "tag", "--literally", "-w", "--stdin"], bytes);
const catTag = (oid: string) => git(["cat-file", "tag", oid]);

let dir: string;
let head: Oid;
const special: Record<string, string> = {};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "edgegit-tag-"));
  git(["init", "-q", "-b", "main"]);
  writeFileSync(join(dir, "f"), "f\n");
  git(["add", "-A"]);
  git(["commit", "-q", "-m", "one"]);
  head = gitText(["rev-parse", "HEAD"]) as Oid;
  git(["tag", "-a", "v1", "-m", "release v1\n\nwith notes"]);
  git(["tag", "-a", "on-tree", "HEAD^{tree}", "-m", "a tree"]);
  git(["tag", "-a", "on-blob", "HEAD:f", "-m", "a blob"]);
  git(["-c", "advice.nestedTag=false", "tag", "-a", "on-tag", "v1", "-m", "a tag of a tag"]);
  writeFileSync(join(dir, "signed"), "signed release\n-----BEGIN PGP SIGNATURE-----\n\niQEz\n=ab12\n-----END PGP SIGNATURE-----\n");
  git(["tag", "-a", "signed", "--cleanup=verbatim", "-F", "signed"]);
  writeFileSync(join(dir, "latin1"), Uint8Array.from([...enc("caf"), 0xe9, 0x0a]));
  git(["tag", "-a", "latin1", "-F", "latin1"]);
  special.noTagger = writeLiterally(`object ${head}\ntype commit\ntag ancient\n\nfrom before taggers\n`);
  special.extraHeader = writeLiterally(
    new TextDecoder().decode(catTag("v1")).replace("\n\n", "\nx-note first line\n second line\n\n"),
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const gitTags = () => gitText(["for-each-ref", "--format=%(objectname)", "refs/tags"]).split("\n");

describe("decodeTag", () => {
  it("reads object, type, name and tagger as git for-each-ref does", () => {
    const rows = gitText([
      "for-each-ref",
      "--format=%(objectname)|%(*objectname)|%(*objecttype)|%(refname:strip=2)|%(taggername)|%(taggeremail:trim)|%(taggerdate:raw)",
      "refs/tags",
    ]).split("\n");
    expect(rows.length).toBe(6);
    for (const row of rows) {
      const [oid, object, type, name, tname, temail, tdate] = row.split("|");
      const t = decodeTag(catTag(oid!));
      expect([t.object, t.type, t.tag]).toEqual([object, type, name]);
      expect(t.tagger).toEqual({ name: tname, email: temail, timestamp: Number(tdate!.split(" ")[0]), timezone: tdate!.split(" ")[1] });
      expect(t.extraHeaders).toEqual([]);
    }
  });

  it("keeps a signature in the message and a legacy encoding byte for byte", () => {
    expect(decodeTag(catTag("signed")).message).toMatch(/^signed release\n-----BEGIN PGP SIGNATURE-----\n\niQEz\n/);
    expect(decodeTag(catTag("latin1")).message).toBe("caf\udce9\n");
  });

  it("reads a tag without a tagger", () => {
    const t = decodeTag(catTag(special.noTagger!));
    expect(t.tagger).toBeUndefined();
    expect(t.message).toBe("from before taggers\n");
  });

  it("keeps headers after the tagger", () => {
    expect(decodeTag(catTag(special.extraHeader!)).extraHeaders).toEqual([["x-note", "first line\nsecond line"]]);
  });
});

describe("encodeTag", () => {
  it("round-trips every tag byte for byte", () => {
    for (const oid of [...gitTags(), ...Object.values(special)]) {
      const bytes = catTag(oid);
      const again = encodeTag(decodeTag(bytes));
      expect(again).toEqual(bytes);
      expect(hashObject("tag", again)).toBe(oid);
    }
  });

  it("writes what git tag -a writes", () => {
    const t: Tag = {
      object: head,
      type: "commit",
      tag: "fresh",
      tagger: { name: "Tess Tagger", email: "tess@example.com", timestamp: 1700000000, timezone: "+0200" },
      extraHeaders: [],
      message: "fresh tag\n",
    };
    git(["tag", "-a", "fresh", head, "-m", "fresh tag"]);
    expect(hashObject("tag", encodeTag(t))).toBe(gitText(["rev-parse", "refs/tags/fresh"]));
    git(["tag", "-d", "fresh"]);
  });
});

describe("malformed tags", () => {
  const O = `object ${"4b825dc642cb6eb9a060e54bf8d69288fbee4904"}\n`;
  const Y = "type tree\n";
  const N = "tag t\n";
  const W = "tagger T <t@example.com> 1700000000 +0000\n";
  // [name, text, our reason, does git fsck report an error too?]
  const cases: [string, string, string, boolean][] = [
    ["no object", `${Y}${N}${W}\nm\n`, "missing object", true],
    ["bad object id", `object 4b825dc6\n${Y}${N}${W}\nm\n`, "bad object sha1", true],
    ["no type", `${O}${N}${W}\nm\n`, "missing type", true],
    ["unknown type", `${O}type blub\n${N}${W}\nm\n`, "bad type", true],
    ["no tag name", `${O}${Y}${W}\nm\n`, "missing tag", true],
    ["tagger without email", `${O}${Y}${N}tagger T 1700000000 +0000\n\nm\n`, "missing email", true],
    ["tagger with a bad zone", `${O}${Y}${N}tagger T <t@example.com> 1700000000 +00\n\nm\n`, "bad time zone", true],
    ["NUL in header", `${O}${Y}${N}${W}x a\0b\n\nm\n`, "NUL in header", true],
    ["unterminated header", `${O}${Y}${N}${W.trimEnd()}`, "unterminated header", true],
  ];

  it.each(cases)("rejects %s", (_, text, reason) => {
    expect(() => decodeTag(enc(text))).toThrow(
      expect.objectContaining({ code: "object-malformed", data: { type: "tag", reason: expect.stringContaining(reason) } }),
    );
  });

  it("agrees with git fsck on which of them are errors", () => {
    const oids = cases.map(([, text]) => writeLiterally(text));
    const control = writeLiterally(`${O}${Y}${N}${W}\nfine\n`);
    const fsck = spawnSync("git", ["fsck", "--no-dangling", "--no-progress"], { cwd: dir, env: ENV, encoding: "utf8" });
    const flagged = new Set([...(fsck.stdout + fsck.stderr).matchAll(/^error\b.*?([0-9a-f]{40})/gm)].map((m) => m[1]));
    expect(cases.map(([name], i) => [name, flagged.has(oids[i]!)])).toEqual(cases.map(([name, , , gitAgrees]) => [name, gitAgrees]));
    expect(flagged.has(control)).toBe(false);
    expect(flagged.has(special.noTagger)).toBe(false);
  });
});
