import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { referencedIds } from "../../../engine/object/references.ts";
import type { ObjectType } from "../../../engine/object/types.ts";
import { GIT_ENV as ENV } from "../../fixtures/git-env.ts";

function git(args: string[], input?: Uint8Array | string): Uint8Array {
  return new Uint8Array(execFileSync("git", args, { cwd: dir, input, env: ENV, maxBuffer: 1 << 28 }));
}
const gitText = (args: string[], input?: Uint8Array | string) => new TextDecoder().decode(git(args, input)).trim();
const enc = (s: string) => new TextEncoder().encode(s);

let dir: string;
let objects: Map<string, { type: ObjectType; data: Uint8Array }>;

/** Every object in the repository, read in one `git cat-file --batch` run. */
function readAllObjects(): Map<string, { type: ObjectType; data: Uint8Array }> {
  const out = git(["cat-file", "--batch-all-objects", "--batch"]);
  const map = new Map<string, { type: ObjectType; data: Uint8Array }>();
  for (let at = 0; at < out.length; ) {
    const nl = out.indexOf(0x0a, at);
    const [oid, type, size] = new TextDecoder().decode(out.subarray(at, nl)).split(" ");
    map.set(oid!, { type: type as ObjectType, data: out.subarray(nl + 1, nl + 1 + Number(size)) });
    at = nl + 1 + Number(size) + 1;
  }
  return map;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "edgegit-refs-"));
  git(["init", "-q", "-b", "main"]);
  mkdirSync(join(dir, "d", "e"), { recursive: true });
  writeFileSync(join(dir, "d", "e", "deep"), "deep\n");
  writeFileSync(join(dir, "top"), "top\n");
  symlinkSync("top", join(dir, "link"));
  git(["add", "-A"]);
  git(["commit", "-q", "-m", "one"]);
  git(["update-index", "--add", "--cacheinfo", `160000,${"5".repeat(40)},sub`]);
  git(["commit", "-q", "-m", "a submodule whose commit is elsewhere"]);
  git(["checkout", "-q", "-b", "side", "HEAD~1"]);
  writeFileSync(join(dir, "top"), "side\n");
  git(["commit", "-q", "-am", "side"]);
  git(["checkout", "-q", "main"]);
  git(["merge", "-q", "--no-edit", "side"]);
  git(["tag", "-a", "t-commit", "-m", "c"]);
  git(["tag", "-a", "t-tree", "HEAD^{tree}", "-m", "t"]);
  git(["tag", "-a", "t-blob", "HEAD:top", "-m", "b"]);
  git(["-c", "advice.nestedTag=false", "tag", "-a", "t-tag", "t-blob", "-m", "tt"]);
  objects = readAllObjects();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("referencedIds", () => {
  it("finds exactly the objects git rev-list --objects --all reaches, with their real types", () => {
    const seen = new Set<string>();
    const queue = gitText(["for-each-ref", "--format=%(objectname)"]).split("\n");
    while (queue.length) {
      const oid = queue.pop()!;
      if (seen.has(oid)) continue;
      seen.add(oid);
      const obj = objects.get(oid)!;
      for (const ref of referencedIds(obj.type, obj.data)) {
        expect([ref.oid, ref.type]).toEqual([ref.oid, objects.get(ref.oid)?.type]);
        queue.push(ref.oid);
      }
    }
    const reachable = gitText(["rev-list", "--objects", "--all"]).split("\n").map((l) => l.slice(0, 40));
    expect([...seen].sort()).toEqual([...new Set(reachable)].sort());
  });

  it("gives a commit's tree, then its parents in order", () => {
    const merge = gitText(["rev-parse", "main"]);
    expect(referencedIds("commit", objects.get(merge)!.data)).toEqual([
      { oid: gitText(["rev-parse", "main^{tree}"]), type: "tree" },
      { oid: gitText(["rev-parse", "main^1"]), type: "commit" },
      { oid: gitText(["rev-parse", "main^2"]), type: "commit" },
    ]);
  });

  it("skips gitlinks and types the rest of a tree's entries by mode", () => {
    const tree = gitText(["rev-parse", "main^{tree}"]);
    const refs = referencedIds("tree", objects.get(tree)!.data);
    expect(refs.map((r) => r.type).sort()).toEqual(["blob", "blob", "tree"]);
    expect(refs.some((r) => r.oid === "5".repeat(40))).toBe(false);
  });

  it("gives a tag's object with the tag's declared type", () => {
    for (const [name, type] of [["t-commit", "commit"], ["t-tree", "tree"], ["t-blob", "blob"], ["t-tag", "tag"]] as const) {
      const oid = gitText(["rev-parse", `refs/tags/${name}`]);
      expect(referencedIds("tag", objects.get(oid)!.data)).toEqual([{ oid: gitText(["cat-file", "-p", oid]).slice(7, 47), type }]);
    }
  });

  it("gives nothing for a blob", () => {
    expect(referencedIds("blob", enc(`tree ${"1".repeat(40)}\n`))).toEqual([]);
  });

  it("marks a declared type git does not know as unknown", () => {
    const tag = enc(`object ${"1".repeat(40)}\ntype blub\ntag x\n\nm\n`);
    expect(referencedIds("tag", tag)).toEqual([{ oid: "1".repeat(40), type: "unknown" }]);
  });

  it.each([
    ["commit", `parent ${"1".repeat(40)}\n\nm\n`, "missing tree"],
    ["commit", `tree 123\n\nm\n`, "bad tree sha1"],
    ["commit", `tree ${"1".repeat(40)}\nparent nope\n\nm\n`, "bad parent sha1"],
    ["tag", `type commit\n\nm\n`, "missing object"],
    ["tag", `object ${"1".repeat(40)}\ntag x\n\nm\n`, "missing type"],
    ["tree", "100644 x", "no NUL"],
  ] as const)("refuses a %s it cannot follow: %j", (type, text, reason) => {
    expect(() => referencedIds(type, enc(text))).toThrow(
      expect.objectContaining({ code: "object-malformed", data: expect.objectContaining({ reason: expect.stringContaining(reason) }) }),
    );
  });
});
