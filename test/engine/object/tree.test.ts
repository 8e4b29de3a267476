import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { concatBytes } from "../../../engine/bytes.ts";
import { hashObject } from "../../../engine/hash.ts";
import { textToBytes } from "../../../engine/object/object-header.ts";
import type { GitError } from "../../../engine/errors.ts";
import { referencedIds } from "../../../engine/object/references.ts";
import { decodeTree, encodeTree, entryKind, inspectTree, validateTree, type TreeEntry } from "../../../engine/object/tree.ts";
import { hexToBytes, type Oid } from "../../../engine/oid.ts";
import { GIT_ENV as ENV } from "../../fixtures/git-env.ts";

function git(args: string[], input?: Uint8Array | string): Uint8Array {
  return new Uint8Array(execFileSync("git", args, { cwd: dir, input, env: ENV, maxBuffer: 1 << 28 }));
}
const gitText = (args: string[], input?: Uint8Array | string) => new TextDecoder().decode(git(args, input)).trim();
const enc = (s: string) => new TextEncoder().encode(s);
const writeTree = (bytes: Uint8Array) => gitText(["hash-object", "-t", "tree", "--literally", "-w", "--stdin"], bytes);
/** One raw tree entry; the name is given as bytes so tests can write any name git would store. */
const rawEntry = (mode: string, name: Uint8Array | string, oid: string) =>
  concatBytes([enc(mode + " "), typeof name === "string" ? enc(name) : name, Uint8Array.of(0), hexToBytes(oid)]);

let dir: string;
let blob: Oid;
let commit: Oid;
/** "né.txt" in latin-1: a name that is not UTF-8. */
const LATIN1_NAME = Uint8Array.from([0x6e, 0xe9, 0x2e, 0x74, 0x78, 0x74]);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "edgegit-tree-"));
  git(["init", "-q", "-b", "main"]);
  git(["config", "core.symlinks", "true"]);
  writeFileSync(join(dir, "plain.txt"), "plain\n");
  writeFileSync(join(dir, "run.sh"), "#!/bin/sh\n", { mode: 0o755 });
  symlinkSync("plain.txt", join(dir, "link"));
  mkdirSync(join(dir, "a"));
  writeFileSync(join(dir, "a", "inner"), "inner\n");
  for (const n of ["a.b", "a-b", "a0"]) writeFileSync(join(dir, n), n);
  writeFileSync(Buffer.concat([Buffer.from(dir + "/"), LATIN1_NAME]), "latin\n"); // a path in raw bytes
  git(["add", "-A"]);
  git(["commit", "-q", "-m", "files"]);
  commit = gitText(["rev-parse", "HEAD"]) as Oid;
  git(["update-index", "--add", "--cacheinfo", `160000,${commit},sub`]);
  git(["commit", "-q", "-m", "with a submodule"]);
  blob = gitText(["hash-object", "-w", "--stdin"], "") as Oid;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function gitTrees(): Oid[] {
  return gitText(["cat-file", "--batch-all-objects", "--batch-check=%(objecttype) %(objectname)"])
    .split("\n")
    .filter((l) => l.startsWith("tree "))
    .map((l) => l.slice(5) as Oid);
}
const rootTree = () => gitText(["rev-parse", "HEAD^{tree}"]) as Oid;

describe("decodeTree", () => {
  it("reads every entry as git ls-tree does, all five modes included", () => {
    const tree = rootTree();
    const entries = decodeTree(git(["cat-file", "tree", tree]));
    // ls-tree -z: "<mode> <type> <oid>\t<name>\0", with the mode zero-padded to six digits.
    // Buffer's "latin1" maps each byte to one char, unlike TextDecoder's windows-1252.
    const listed = Buffer.from(git(["ls-tree", "-z", tree])).toString("latin1").split("\0").filter(Boolean);
    expect(entries.map((e) => [parseInt(e.mode, 8), entryKind(e.mode), e.oid, [...textToBytes(e.name)]])).toEqual(
      listed.map((l) => {
        const [meta, name] = l.split("\t") as [string, string];
        const [mode, type, oid] = meta.split(" ");
        return [parseInt(mode!, 8), type, oid, [...name].map((ch) => ch.charCodeAt(0))];
      }),
    );
    expect(new Set(entries.map((e) => e.mode))).toEqual(new Set(["100644", "100755", "120000", "40000", "160000"]));
  });

  it.each([
    ["a mode without a space", enc("100644"), "no space after mode"],
    ["a name without a NUL", enc("100644 name"), "no NUL after name"],
    ["a cut-off id", concatBytes([enc("100644 name\0"), new Uint8Array(19)]), "truncated object id"],
    ["a non-octal mode", rawEntry("100844", "x", "1".repeat(40)), "malformed mode"],
    ["an empty mode", rawEntry("", "x", "1".repeat(40)), "malformed mode"],
  ])("rejects %s", (_, bytes, reason) => {
    expect(() => decodeTree(bytes)).toThrow(expect.objectContaining({ code: "object-malformed", data: expect.objectContaining({ reason: expect.stringContaining(reason) }) }));
  });

  it("reads an empty tree", () => {
    expect(decodeTree(new Uint8Array(0))).toEqual([]);
  });
});

describe("encodeTree", () => {
  it("round-trips every tree git wrote, byte for byte", () => {
    const trees = gitTrees();
    expect(trees.length).toBeGreaterThanOrEqual(3);
    for (const oid of trees) {
      const bytes = git(["cat-file", "tree", oid]);
      const again = encodeTree(decodeTree(bytes));
      expect(again).toEqual(bytes);
      expect(hashObject("tree", again)).toBe(oid);
    }
  });

  it("round-trips a name that is not UTF-8 through decode and encode", () => {
    const bytes = git(["cat-file", "tree", rootTree()]);
    const entry = decodeTree(bytes).find((e) => e.name.startsWith("n") && e.name.endsWith(".txt"))!;
    expect(entry.name).toBe("n\udce9.txt");
    expect(textToBytes(entry.name)).toEqual(LATIN1_NAME);
    expect(hashObject("tree", encodeTree(decodeTree(bytes)))).toBe(rootTree());
  });

  it("sorts in git's order, a subtree as if its name ended in /", () => {
    const entries = decodeTree(git(["cat-file", "tree", rootTree()]));
    expect(entries.map((e) => e.name).slice(0, 4)).toEqual(["a-b", "a.b", "a", "a0"]);
    for (let k = 0; k < 5; k++) {
      const shuffled = [...entries].sort(() => Math.random() - 0.5);
      expect(hashObject("tree", encodeTree(shuffled))).toBe(rootTree());
    }
  });

  it("writes what git mktree writes", () => {
    const entries: TreeEntry[] = [
      { mode: "100644", name: "z", oid: blob },
      { mode: "40000", name: "dir", oid: rootTree() },
      { mode: "100644", name: "dir.txt", oid: blob },
      { mode: "160000", name: "dir0", oid: commit },
      { mode: "120000", name: "l", oid: blob },
    ];
    const input = entries.map((e) => `${e.mode} ${entryKind(e.mode)} ${e.oid}\t${e.name}\n`).join("");
    expect(hashObject("tree", encodeTree(entries))).toBe(gitText(["mktree", "--missing"], input));
  });
});

describe("entryKind", () => {
  it("derives the pointed-at type from the mode", () => {
    expect(["100644", "100755", "100664", "120000", "40000", "040000", "160000"].map(entryKind)).toEqual([
      "blob",
      "blob",
      "blob",
      "blob",
      "tree",
      "tree",
      "commit",
    ]);
  });
});

describe("validateTree", () => {
  it("accepts every tree git wrote", () => {
    for (const oid of gitTrees()) expect(validateTree(decodeTree(git(["cat-file", "tree", oid])))).toBeNull();
  });

  it.each([
    ["legacy 100664", "100664"],
    ["zero-padded 040000", "040000"],
  ])("accepts %s, which fsck only warns about", (_, mode) => {
    const oid = mode.endsWith("40000") ? rootTree() : blob;
    expect(validateTree(decodeTree(rawEntry(mode, "x", oid)))).toBeNull();
  });

  it("rejects a NUL in a hand-made entry's name", () => {
    expect(validateTree([{ mode: "100644", name: "a\0b", oid: blob }])).toMatch(/NUL/);
  });

  // [name, raw tree, our reason, does git fsck flag it (as error or warning) too?]
  const cases: () => [string, Uint8Array, string, boolean][] = () => {
    const b = (mode: string, name: Uint8Array | string) => rawEntry(mode, name, mode === "40000" ? rootTree() : blob);
    return [
      ["mode 100600", b("100600", "x"), "bad mode", true],
      ["mode 100777", b("100777", "x"), "bad mode", true],
      ["mode 0", b("0", "x"), "bad mode", true],
      ["an empty name", b("100644", ""), "empty filename", true],
      [".", b("40000", "."), "contains '.'", true],
      ["..", b("40000", ".."), "contains '..'", true],
      [".git", b("40000", ".git"), "contains '.git'", true],
      [".GIT", b("40000", ".GIT"), "contains '.git'", true],
      [".git as a file", b("100644", ".git"), "contains '.git'", true],
      ["NTFS .git. ", b("40000", ".git. "), "contains '.git'", true],
      ["NTFS git~1", b("40000", "GIT~1"), "contains '.git'", true],
      ["NTFS .git::$INDEX_ALLOCATION", b("40000", ".git::$INDEX_ALLOCATION"), "contains '.git'", true],
      ["NTFS a\\.git", b("40000", "a\\.git"), "contains '.git'", true],
      ["HFS .g\u200cit", b("40000", ".g\u200cit"), "contains '.git'", true],
      ["HFS .GI\ufeffT", b("40000", ".GI\ufeffT"), "contains '.git'", true],
      ["a slash", b("100644", "a/b"), "contains full pathnames", true],
      ["a duplicate", concatBytes([b("100644", "x"), b("100644", "x")]), "duplicate entries", true],
      ["a blob and a tree of one name", concatBytes([b("100644", "a"), b("100644", "a-b"), b("40000", "a")]), "duplicate entries", true],
      ["reversed names", concatBytes([b("100644", "b"), b("100644", "a")]), "not properly sorted", true],
      ["a tree sorted as a blob", concatBytes([b("40000", "a"), b("100644", "a-b")]), "not properly sorted", true],
    ];
  };

  it("rejects each bad tree with fsck's reason", () => {
    for (const [name, bytes, reason] of cases()) {
      expect([name, validateTree(decodeTree(bytes))]).toEqual([name, expect.stringContaining(reason)]);
    }
  });

  it("agrees with git fsck on each bad tree", () => {
    const all = cases();
    const oids = all.map(([, bytes]) => writeTree(bytes));
    const control = writeTree(rawEntry("100644", "fine", blob));
    const fsck = spawnSync("git", ["fsck", "--no-dangling", "--no-progress"], { cwd: dir, env: ENV, encoding: "utf8" });
    const flagged = new Set([...(fsck.stdout + fsck.stderr).matchAll(/^(?:error|warning)\b.*?([0-9a-f]{40})/gm)].map((m) => m[1]));
    expect(all.map(([name], i) => [name, flagged.has(oids[i]!)])).toEqual(all.map(([name, , , gitAgrees]) => [name, gitAgrees]));
    expect(flagged.has(control)).toBe(false);
  });
});

describe("inspectTree", () => {
  /** What the two-step path concludes: the error it throws, or the reason and the references. */
  function twoStep(bytes: Uint8Array) {
    try {
      const reason = validateTree(decodeTree(bytes));
      return { reason, refs: reason ? [] : referencedIds("tree", bytes).map((r) => [r.oid, r.type]) };
    } catch (e) {
      return { thrown: (e as GitError).message };
    }
  }
  function oneStep(bytes: Uint8Array) {
    const refs: [string, string][] = [];
    try {
      const reason = inspectTree(bytes, (oid, type) => refs.push([oid, type]));
      return { reason, refs };
    } catch (e) {
      return { thrown: (e as GitError).message };
    }
  }

  it("gives every tree git wrote the verdict and references of validateTree, decodeTree and referencedIds", () => {
    let refs = 0;
    for (const oid of gitTrees()) {
      const bytes = git(["cat-file", "tree", oid]);
      const verdict = oneStep(bytes);
      expect(verdict).toEqual(twoStep(bytes));
      refs += verdict.refs?.length ?? 0;
    }
    expect(refs).toBeGreaterThan(5);
  });

  it("skips gitlinks and reports nothing for an empty tree", () => {
    const refs: string[] = [];
    expect(inspectTree(rawEntry("160000", "sub", commit), (o) => refs.push(o))).toBeNull();
    expect(inspectTree(new Uint8Array(0), (o) => refs.push(o))).toBeNull();
    expect(refs).toEqual([]);
  });

  it("reports no reference of a tree it refuses, even those before the bad entry", () => {
    const refs: string[] = [];
    const bytes = concatBytes([rawEntry("100644", "a", blob), rawEntry("100644", ".git", blob)]);
    expect(inspectTree(bytes, (o) => refs.push(o))).toBe(`contains '.git': ".git"`);
    expect(refs).toEqual([]);
  });

  it("throws a structural error even when an earlier entry already fails fsck's rules", () => {
    const bytes = concatBytes([rawEntry("100644", "..", blob), enc("100644 cut\0"), new Uint8Array(5)]);
    expect(() => inspectTree(bytes)).toThrow(expect.objectContaining({ code: "object-malformed", data: expect.objectContaining({ reason: expect.stringContaining("truncated object id") }) }));
  });

  // Random trees over names chosen to collide, sort near each other and spell .git oddly: each must get the same
  // outcome both ways, whether that is a thrown error, a reason or a list of references.
  it("agrees with the two-step path on 20,000 random hostile trees", () => {
    const names: (string | Uint8Array)[] = ["a", "a-b", "a.b", "a0", "a/b", "b", "A", "", ".", "..", ".git", ".GIT", "git~1", ".git. ", "x\\.git", "g",
      ".gitignore", ".g\u200cit", "é", LATIN1_NAME, Uint8Array.of(0xff, 0x2e), "ab", "a!", "a-", "a-/"];
    const modes = ["100644", "100755", "100664", "120000", "40000", "040000", "160000", "100600", "0", "100844", "", "1e"];
    let seed = 42;
    const rand = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % n;
    const pick = <T>(xs: readonly T[]) => xs[rand(xs.length)]!;
    const tree = rootTree();
    const verdicts = new Set<string>();
    for (let t = 0; t < 20_000; t++) {
      const entries = Array.from({ length: 1 + rand(5) }, () => {
        const mode = rand(4) ? pick(modes.slice(0, 7)) : pick(modes);
        return { mode, name: pick(names), oid: mode.endsWith("40000") ? tree : rand(2) ? blob : commit };
      });
      // Mostly git's order, so the checks past the first entry are reached; sometimes as drawn.
      const rows = rand(4) ? [...entries].sort((x, y) => compareSortKeys(x, y)) : entries;
      let bytes = concatBytes(rows.map((e) => rawEntry(e.mode, e.name, e.oid)));
      if (rand(10) === 0) bytes = bytes.subarray(0, rand(bytes.length + 1));
      const want = twoStep(bytes);
      expect(oneStep(bytes)).toEqual(want);
      verdicts.add(want.thrown?.replace(/ at offset \d+/, "").replace(/"[^"]*"/, "") ?? want.reason?.replace(/:.*/, "") ?? "valid");
    }
    // The sample reached every verdict, so the agreement above covers each of them.
    expect([...verdicts].sort()).toEqual([
      "bad mode", "contains '.'", "contains '..'", "contains '.git'", "contains full pathnames", "duplicate entries", "empty filename",
      "malformed tree: malformed mode ", "malformed tree: no NUL after name", "malformed tree: no space after mode", "malformed tree: truncated object id",
      "not properly sorted", "valid",
    ]);
  });
});

/** git's tree order for test entries, as `encodeTree` sorts them. */
function compareSortKeys(a: { mode: string; name: string | Uint8Array }, b: { mode: string; name: string | Uint8Array }): number {
  const key = (e: typeof a) => concatBytes([typeof e.name === "string" ? enc(e.name) : e.name, enc(e.mode.endsWith("40000") ? "/" : "")]);
  const [x, y] = [key(a), key(b)];
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}
