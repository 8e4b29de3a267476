import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GitError } from "../../engine/errors.ts";
import { ObjectHasher, hashObject, sha1 } from "../../engine/hash.ts";
import { bytesToHex } from "../../engine/oid.ts";
import type { ObjectType } from "../../engine/object/types.ts";
import { GIT_ENV as ENV } from "../fixtures/git-env.ts";


function git(cwd: string, args: string[], input?: Uint8Array): Uint8Array {
  return new Uint8Array(execFileSync("git", args, { cwd, input, env: ENV, maxBuffer: 1 << 28 }));
}
const gitText = (cwd: string, args: string[], input?: Uint8Array) => new TextDecoder().decode(git(cwd, args, input)).trim();

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "edgegit-hash-"));
  git(dir, ["init", "-q", "-b", "main"]);
  writeFileSync(join(dir, "a.txt"), "one\n");
  writeFileSync(join(dir, "b.bin"), randomBytes(5000));
  git(dir, ["add", "-A"]);
  git(dir, ["commit", "-q", "-m", "first"]);
  writeFileSync(join(dir, "a.txt"), "two\n");
  git(dir, ["commit", "-q", "-am", "second\n\nwith a body"]);
  git(dir, ["tag", "-a", "v1", "-m", "release v1"]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("hashObject", () => {
  it.each([
    ["empty", new Uint8Array(0)],
    ["text", new TextEncoder().encode("hello world\n")],
    ["binary", new Uint8Array(randomBytes(100_000))],
  ])("matches git hash-object for a %s blob", (_, data) => {
    expect(hashObject("blob", data)).toBe(gitText(dir, ["hash-object", "--stdin", "-t", "blob"], data));
  });

  it("matches git for every tree, commit and tag git wrote", () => {
    const listing = gitText(dir, ["cat-file", "--batch-all-objects", "--batch-check"]).split("\n");
    const seen = new Set<string>();
    for (const line of listing) {
      const [oid, type] = line.split(" ") as [string, ObjectType];
      const data = git(dir, ["cat-file", type, oid]);
      expect(hashObject(type, data)).toBe(oid);
      seen.add(type);
    }
    expect([...seen].sort()).toEqual(["blob", "commit", "tag", "tree"]);
  });

  it("hashes any type the way git hash-object --literally does", () => {
    const data = new TextEncoder().encode("not a real commit\n");
    expect(hashObject("commit", data)).toBe(gitText(dir, ["hash-object", "--stdin", "--literally", "-t", "commit"], data));
  });
});

describe("sha1", () => {
  it("hashes the concatenation of its parts", () => {
    const data = new Uint8Array(randomBytes(1000));
    const whole = sha1(data);
    expect(sha1(data.subarray(0, 1), data.subarray(1, 500), new Uint8Array(0), data.subarray(500))).toEqual(whole);
    expect(whole).toBeInstanceOf(Uint8Array);
    expect(whole.length).toBe(20);
    expect(bytesToHex(sha1(new TextEncoder().encode("blob 1000\0"), data))).toBe(
      gitText(dir, ["hash-object", "--stdin", "-t", "blob"], data),
    );
  });
});

describe("ObjectHasher", () => {
  it("gives the same id as hashObject whatever the chunking", () => {
    const data = new Uint8Array(randomBytes(70_000));
    const h = new ObjectHasher("blob", data.length);
    for (let at = 0; at < data.length; ) {
      const n = Math.min(data.length - at, 1 + Math.floor(Math.random() * 9000));
      h.update(data.subarray(at, at + n));
      at += n;
    }
    expect(h.digest()).toBe(hashObject("blob", data));
  });

  it("refuses more bytes than declared", () => {
    const h = new ObjectHasher("blob", 3);
    h.update(new Uint8Array(2));
    expect(() => h.update(new Uint8Array(2))).toThrow(expect.objectContaining({ code: "object-size-mismatch" }));
  });

  it("refuses to digest fewer bytes than declared", () => {
    const h = new ObjectHasher("tree", 10);
    h.update(new Uint8Array(9));
    let err: unknown;
    try {
      h.digest();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GitError);
    expect((err as GitError).code).toBe("object-size-mismatch");
    expect((err as GitError).data).toEqual({ declared: 10, seen: 9 });
  });
});
