/**
 * grep: the linear-time matcher against JavaScript's RegExp (same leftmost-first semantics), the
 * grep RPC against `git grep`, its bounds, and a catastrophic pattern that must not freeze the actor.
 * Invariants:
 * - `git grep -n -I` is the reference for which lines match, in which order; RegExp for match ranges.
 * Spec: git-grep(1); engine/grep/pike-vm.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type RepoClient } from "../../client/index.ts";
import { compileGrepPattern } from "../../engine/grep/index.ts";
import { baseUrl, git, historyRepo, lines, revParse, uniqueRepoUrl, writeToken } from "./git.ts";

describe("the Pike VM matches like RegExp", () => {
  const fixed: [string, string][] = [
    ["a+b", "xxaaab"], ["(a|ab)(c|bcd)(d*)", "abcd"], ["^abc$", "abc"], ["a{2,3}", "aaaa"], ["a{2,3}?", "aaaa"], ["x*", "abc"],
    ["[a-c]+", "zzabcabd"], ["[^a-c]+", "abcxyz"], ["\\d+", "ab123c"], ["\\bfoo\\b", "a foo b"], ["\\bfoo\\b", "afoob"], ["\\Bo\\B", "foo"],
    ["colou?r", "the color"], ["(a*)*b", "aaab"], ["a.c", "abc"], ["(?:ab)+", "ababab"], ["a|b|c", "xxc"], ["a*?b", "aaab"],
    ["\\w+@\\w+\\.\\w{2,}", "mail ann@example.org now"], ["[\\d-]+", "a1-2b"], ["\\s+", "a \t b"], ["[^\\s]+", "  word  "], ["\\x41+", "zAAz"],
    ["é+", "caféé!"], ["a{0}b", "ab"], ["(a|b)*c", "ababc"], ["a{3,}", "aaaaa"], ["[a-]+", "a-a"], ["\\.\\*", "x.*y"],
  ];
  it.each(fixed)("%s on %s", (pattern, text) => {
    const js = new RegExp(pattern).exec(text);
    expect(compileGrepPattern(pattern, { ignoreCase: false, fixed: false }).firstMatch(text, { steps: 1e7 })).toEqual(js ? [js.index, js.index + js[0].length] : null);
  });

  it("reads a leading ] in a class as a member, as POSIX does (RegExp reads [] as empty)", () => {
    expect(compileGrepPattern("[]a]+", { ignoreCase: false, fixed: false }).firstMatch("x]a]", { steps: 1e6 })).toEqual([1, 4]);
  });

  it("agrees with RegExp on 3000 random patterns and texts", () => {
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const atom = (depth: number): string => {
      const r = rnd(depth > 2 ? 4 : 7);
      if (r === 0) return "a";
      if (r === 1) return "b";
      if (r === 2) return ".";
      if (r === 3) return ["[ab]", "[^a]", "\\w", "c"][rnd(4)]!;
      if (r === 4) return `(${seq(depth + 1)}|${seq(depth + 1)})`;
      return `(?:${seq(depth + 1)})`;
    };
    const quant = () => ["", "", "", "*", "+", "?", "{1,2}", "*?", "+?", "{2}"][rnd(10)]!;
    const item = (depth: number) => (rnd(8) === 0 ? ["\\b", "\\B"][rnd(2)]! : atom(depth) + quant());
    const seq = (depth: number): string => Array.from({ length: 1 + rnd(3) }, () => item(depth)).join("");
    for (let i = 0; i < 3000; i++) {
      const pattern = (rnd(5) === 0 ? "^" : "") + seq(0) + (rnd(5) === 0 ? "$" : "");
      const text = Array.from({ length: rnd(12) }, () => "abc "[rnd(4)]).join("");
      const js = new RegExp(pattern).exec(text);
      const ours = compileGrepPattern(pattern, { ignoreCase: false, fixed: false }).firstMatch(text, { steps: 1e7 });
      expect(ours, `${pattern} on ${JSON.stringify(text)}`).toEqual(js ? [js.index, js.index + js[0].length] : null);
    }
  });

  it("is linear on patterns that make backtracking explode", () => {
    const line = "a".repeat(200_000) + "!";
    for (const p of ["(a+)+$", "(a|a)+$", "(a*)*b", "(a|aa)+$", "((a+)+)+$"]) {
      const budget = { steps: 1e9 };
      const t0 = performance.now();
      expect(compileGrepPattern(p, { ignoreCase: false, fixed: false }).firstMatch(line, budget)).toBeNull();
      expect(performance.now() - t0).toBeLessThan(3000);
      expect(1e9 - budget.steps).toBeLessThan(200_000 * 40); // steps grow with the line, not exponentially
    }
  });
});

describe("grep RPC", () => {
  let src: string;
  let client: RepoClient;

  beforeAll(async () => {
    src = await historyRepo();
    const url = uniqueRepoUrl("rpc-grep");
    await git(src, ["push", "-q", url, "main", "topic"]);
    const [owner, repo] = new URL(url).pathname.slice(1).replace(/\.git$/, "").split("/");
    client = connect(baseUrl(), owner!, repo!, { token: writeToken() }); // one test commits
  });

  afterAll(() => client?.close());

  /** `git grep -n -I` as {path, line, text}. */
  async function gitGrep(rev: string, flags: string[], pattern: string, paths: string[] = []) {
    const r = await git(src, ["grep", "-n", "-I", ...flags, "-e", pattern, rev, ...(paths.length ? ["--", ...paths] : [])], { allowFail: true });
    return lines(r.stdout).map((l) => {
      const m = /^[^:]+:([^:]+):(\d+):(.*)$/.exec(l)!;
      return { path: m[1], line: Number(m[2]), text: m[3] };
    });
  }

  it.each([
    ["feature_[0-9]", []],
    ["^line", []],
    ["entry 1[0-9]:", ["log.txt"]],
    ["t(wo|hree)", []],
    ["return [0-9]+;", ["*.c"]],
    ["(main|topic)", ["README", "docs"]],
    ["x{2,}|q", []],
    ["leaf|mid", ["deep"]],
  ] as [string, string[]][])("%s (paths %j) equals git grep -E", async (pattern, paths) => {
    const r = await client.grep({ rev: "main", pattern, paths, maxResults: 1000 });
    const expected = await gitGrep("main", ["-E"], pattern, paths);
    expect(r.matches.map(({ path, line, text }) => ({ path, line, text }))).toEqual(expected);
    expect(r.truncated).toBe(false);
    for (const m of r.matches) expect(new RegExp(pattern).exec(m.text)!.index).toBe(m.match[0]);
  });

  it("ignores case like -i and matches literally like -F", async () => {
    const i = await client.grep({ rev: "main", pattern: "EDGEGIT|GUIDE", ignoreCase: true });
    expect(i.matches.map(({ path, line }) => ({ path, line }))).toEqual((await gitGrep("main", ["-E", "-i"], "EDGEGIT|GUIDE")).map(({ path, line }) => ({ path, line })));
    expect(i.matches.length).toBeGreaterThan(0);
    const f = await client.grep({ rev: "topic", pattern: "(topic)", fixed: true });
    expect(f.matches.map(({ path, line, text }) => ({ path, line, text }))).toEqual(await gitGrep("topic", ["-F"], "(topic)"));
    expect(f.matches.length).toBe(1);
  });

  it("stops at maxResults and says so; skips binary files", async () => {
    const r = await client.grep({ rev: "main", pattern: "e", maxResults: 5 });
    expect(r.matches).toHaveLength(5);
    expect(r).toMatchObject({ truncated: true, stoppedBy: "max-results" });
    const all = await client.grep({ rev: "main", pattern: ".", maxResults: 1000 });
    expect(all.binarySkipped).toBe(1); // assets/blob.bin
    expect(all.matches.some((m) => m.path === "assets/blob.bin")).toBe(false);
  });

  it("refuses bad and oversized patterns with typed errors", async () => {
    for (const [pattern, code] of [
      ["(unclosed", "grep-pattern-invalid"],
      ["a{2000}", "grep-pattern-invalid"],
      ["\\k", "grep-pattern-invalid"],
      ["*a", "grep-pattern-invalid"],
      ["(a{1000}){1000}", "grep-pattern-too-complex"],
    ]) {
      const e = await client.grep({ rev: "main", pattern: pattern! }).then(
        () => null,
        (err: { code: string }) => err,
      );
      expect(e?.code, pattern).toBe(code);
    }
  });

  it("answers a catastrophic pattern over a long line quickly, and stays responsive", async () => {
    const main = await revParse(src, "main");
    await client.commit({
      branch: "main",
      expectedParent: main,
      message: "add a long line",
      author: { name: "Grep Tester", email: "grep@example.com" },
      changes: [{ path: "long/aaaa.txt", content: `${"a".repeat(50_000)}!\n${"a".repeat(50_000)}\nshort line\n` }],
    });
    const t0 = Date.now();
    const r = await client.grep({ rev: "main", pattern: "(a+)+$", paths: ["long"] });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(r.matches.map((m) => m.line)).toEqual([2]);
    expect(r.matches[0]!.text.length).toBeLessThanOrEqual(500); // long lines are cut
    const t1 = Date.now();
    const nested = await client.grep({ rev: "main", pattern: "((a|aa)+)+!$|(x+x+)+y" });
    expect(Date.now() - t1).toBeLessThan(5000);
    expect(nested.matches.map((m) => [m.path, m.line])).toEqual([["long/aaaa.txt", 1]]);
    expect((await client.refs({})).refs.length).toBeGreaterThan(0);
  });
});
