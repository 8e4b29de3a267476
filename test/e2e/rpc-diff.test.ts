/**
 * The diff RPC against real git: changed paths with status and renames (`git diff -M
 * --name-status`), unified hunks with several context sizes (`git diff -U<n>`), binary files,
 * pathspecs and the file limit.
 * Invariants:
 * - git is the reference for statuses, paths, rename pairs and hunk text (headers included).
 * Spec: git-diff(1) "--name-status", "-M", "-U<n>".
 */
import { symlinkSync, unlinkSync, writeFileSync, chmodSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type RepoClient } from "../../client/index.ts";
import type { RpcOutput } from "../../protocol/rpc/index.ts";
import { baseUrl, git, historyRepo, lines, tempDir, uniqueRepoUrl } from "./git.ts";

let src: string;
let client: RepoClient;

function clientFor(url: string): RepoClient {
  const [owner, repo] = new URL(url).pathname.slice(1).replace(/\.git$/, "").split("/");
  return connect(baseUrl(), owner!, repo!);
}

beforeAll(async () => {
  src = await historyRepo();
  const url = uniqueRepoUrl("rpc-diff");
  await git(src, ["push", "-q", url, "refs/heads/*:refs/heads/*", "refs/tags/*:refs/tags/*"]);
  client = clientFor(url);
});

afterAll(() => client?.close());

const LETTER: Record<string, string> = { added: "A", deleted: "D", modified: "M", renamed: "R", "type-changed": "T" };

function nameStatus(files: RpcOutput<"diff">["files"]): string[] {
  return files.map((f) => (f.status === "renamed" ? `R${f.similarity}\t${f.oldPath}\t${f.path}` : `${LETTER[f.status]}\t${f.path}`));
}

async function gitNameStatus(dir: string, from: string, to: string, ...paths: string[]): Promise<string[]> {
  return lines((await git(dir, ["diff", "-M", "--name-status", from, to, ...(paths.length ? ["--", ...paths] : [])])).stdout);
}

/** git's patch for one file, from its first hunk header on ("" when git prints no hunks). */
async function gitHunks(dir: string, from: string, to: string, context: number, path: string): Promise<string> {
  const out = (await git(dir, ["diff", "--no-color", "--no-ext-diff", `-U${context}`, from, to, "--", path])).stdout;
  const at = out.indexOf("\n@@");
  return at < 0 ? "" : out.slice(at + 1);
}

function ourHunks(file: RpcOutput<"diff">["files"][number]): string {
  return file.hunks.map((h) => [h.header, ...h.lines].join("\n") + "\n").join("");
}

describe("diff: changed paths", () => {
  it.each([
    ["v0.1", "main"],
    ["main", "topic"],
    ["v0.1", "v1.0"],
    ["feature~3", "feature"],
    ["topic", "v0.1"],
  ])("%s..%s equals git diff -M --name-status", async (from, to) => {
    const d = await client.diff({ from, to });
    expect(nameStatus(d.files)).toEqual(await gitNameStatus(src, from, to));
    expect(d.truncated).toBe(false);
  });

  it("without `from`, diffs against the first parent (or nothing, for a root commit)", async () => {
    for (const to of ["main", "v1.0^{}", "main~3"]) expect(nameStatus((await client.diff({ to })).files)).toEqual(await gitNameStatus(src, `${to}^`, to));
    const root = lines((await git(src, ["rev-list", "--max-parents=0", "main"])).stdout)[0]!;
    const d = await client.diff({ to: root });
    expect(d.from).toBeNull();
    expect(nameStatus(d.files)).toEqual(lines((await git(src, ["show", "--format=", "--name-status", root])).stdout));
  });

  it("limits to pathspecs, plain and wildcard", async () => {
    expect(nameStatus((await client.diff({ from: "v0.1", to: "main", paths: ["src"] })).files)).toEqual(await gitNameStatus(src, "v0.1", "main", "src"));
    expect(nameStatus((await client.diff({ from: "v0.1", to: "main", paths: ["*.c", "docs"] })).files)).toEqual(await gitNameStatus(src, "v0.1", "main", "*.c", "docs"));
  });

  it("stops at maxFiles and says so", async () => {
    const d = await client.diff({ from: "v0.1", to: "main", maxFiles: 2, renames: false });
    expect(d.files).toHaveLength(2);
    expect(d.truncated).toBe(true);
  });

  it("without rename detection, a rename is a delete and an add", async () => {
    const d = await client.diff({ from: "v0.1", to: "topic", renames: false });
    expect(nameStatus(d.files)).toEqual(lines((await git(src, ["diff", "--no-renames", "--name-status", "v0.1", "topic"])).stdout));
  });
});

describe("diff: hunks", () => {
  it.each([0, 1, 3, 10])("with %i lines of context, equal git diff -U", async (context) => {
    const d = await client.diff({ from: "v0.1", to: "main", context });
    for (const path of ["README", "log.txt", "src/app.c", "scripts/other.sh"]) {
      const f = d.files.find((x) => x.path === path)!;
      expect(f.binary).toBe(false);
      expect(ourHunks(f), `${path} -U${context}`).toBe(await gitHunks(src, "v0.1", "main", context, path));
    }
  });

  it("marks binary files and gives them no hunks", async () => {
    const f = (await client.diff({ from: "v0.1", to: "main" })).files.find((x) => x.path === "assets/blob.bin")!;
    expect(f).toMatchObject({ status: "modified", binary: true, hunks: [] });
    expect((await git(src, ["diff", "v0.1", "main", "--", "assets/blob.bin"])).stdout).toMatch(/^Binary files .* differ$/m);
  });
});

describe("diff: renames, type and mode changes", () => {
  let dir: string;
  let other: RepoClient;

  beforeAll(async () => {
    dir = tempDir();
    await git(dir, ["init", "-q"]);
    const body = Array.from({ length: 40 }, (_, i) => `line ${i + 1} of a file that will move\n`);
    writeFileSync(join(dir, "a.txt"), body.join(""));
    writeFileSync(join(dir, "gone.txt"), "this file is deleted\n");
    writeFileSync(join(dir, "same.txt"), "unchanged\n");
    writeFileSync(join(dir, "tool.sh"), "echo tool\n");
    symlinkSync("same.txt", join(dir, "link"));
    await git(dir, ["add", "-A"]);
    await git(dir, ["commit", "-q", "-m", "one"]);
    await git(dir, ["mv", "a.txt", "moved.txt"]);
    body[3] = "line 4 changed after the move\n";
    body[30] = "line 31 changed too\n";
    writeFileSync(join(dir, "moved.txt"), body.join(""));
    unlinkSync(join(dir, "gone.txt"));
    unlinkSync(join(dir, "link"));
    writeFileSync(join(dir, "link"), "now a regular file\n");
    writeFileSync(join(dir, "new.txt"), "brand new\n");
    chmodSync(join(dir, "tool.sh"), 0o755);
    await git(dir, ["add", "-A"]);
    await git(dir, ["commit", "-q", "-m", "two"]);
    const url = uniqueRepoUrl("rpc-diff-renames");
    await git(dir, ["push", "-q", url, "main"]);
    other = clientFor(url);
  });

  afterAll(() => other?.close());

  it("finds an edited rename, a type change, a mode change", async () => {
    const d = await other.diff({ from: "main~1", to: "main" });
    const ours = nameStatus(d.files).map((l) => l.replace(/^R\d+/, "R"));
    const theirs = (await gitNameStatus(dir, "main~1", "main")).map((l) => l.replace(/^R\d+/, "R"));
    expect(ours).toEqual(theirs);
    const moved = d.files.find((f) => f.status === "renamed")!;
    expect(moved).toMatchObject({ oldPath: "a.txt", path: "moved.txt" });
    expect(moved.similarity).toBeGreaterThanOrEqual(50);
    expect(moved.similarity).toBeLessThan(100);
    expect(ourHunks(moved)).toBe(await gitRenameHunks(dir));
    expect(d.files.find((f) => f.path === "link")).toMatchObject({ status: "type-changed", oldMode: "120000", newMode: "100644" });
    expect(d.files.find((f) => f.path === "tool.sh")).toMatchObject({ status: "modified", oldMode: "100644", newMode: "100755", hunks: [] });
  });
});

/** The hunks git prints for the rename in the second fixture (its patch names both paths). */
async function gitRenameHunks(dir: string): Promise<string> {
  const out = (await git(dir, ["diff", "--no-color", "-M", "main~1", "main", "--", "a.txt", "moved.txt"])).stdout;
  const at = out.indexOf("\n@@");
  return out.slice(at + 1);
}
