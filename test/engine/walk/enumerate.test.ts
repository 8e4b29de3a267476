import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Oid } from "../../../engine/oid.ts";
import { ObjectReader } from "../../../engine/object-reader.ts";
import type { CommitNode, ObjectIndex, PackReader } from "../../../engine/storage.ts";
import { enumerateObjects, localTreeDiffer, type EnumerateInput, type TreeDiffer } from "../../../engine/walk/enumerate.ts";
import { parseObjectFilter } from "../../../engine/walk/object-filter.ts";
import { GIT_ENV } from "../../fixtures/git-env.ts";
import { makeRepo } from "../../fixtures/pack-repo.ts";
import { MemoryStore } from "../memory-store.ts";

const git = (cwd: string, args: string[]) => execFileSync("git", args, { cwd, env: GIT_ENV, maxBuffer: 1 << 28 }).toString().trim();
const lines = (s: string) => (s ? s.split("\n") : []);
const HISTORY_SH = join(import.meta.dirname, "../../fixtures/history.sh");

interface Repo {
  dir: string;
  store: MemoryStore;
  commits: Map<Oid, CommitNode>;
}

/** A repository built by git, repacked into one pack with deep chains and indexed by the engine. */
async function loadRepo(dir: string): Promise<Repo> {
  git(dir, ["repack", "-adfq", "--depth=50", "--window=50"]);
  const packDir = join(dir, ".git/objects/pack");
  const store = new MemoryStore();
  await store.indexPack("pack", new Uint8Array(readFileSync(join(packDir, readdirSync(packDir).find((f) => f.endsWith(".pack"))!))));
  const commits = new Map<Oid, CommitNode>();
  for (const l of lines(git(dir, ["log", "--all", "--reverse", "--topo-order", "--format=%H %T %ct %P"]))) {
    const [oid, tree, time, ...parents] = l.split(" ").filter(Boolean) as [Oid, Oid, string, ...Oid[]];
    const generation = 1 + Math.max(0, ...parents.map((p) => commits.get(p)!.generation));
    commits.set(oid, { oid, tree, parents, time: Number(time), generation });
  }
  return { dir, store, commits };
}

/** git's own object set: `rev-list --objects` of `revs`, in the repo `dir` (with tree:<depth>, git lists a tree met again nearer the root twice). */
const revList = (dir: string, revs: string[]) => [...new Set(lines(git(dir, ["rev-list", "--objects", ...revs])).map((l) => l.slice(0, 40)))].sort();

const rev = (repo: Repo, name: string) => git(repo.dir, ["rev-parse", name]) as Oid;
/** The commits `rev-list` names, as the graph table would give them. */
const nodes = (repo: Repo, revs: string[]) => lines(git(repo.dir, ["rev-list", ...revs])).map((o) => repo.commits.get(o as Oid)!);
const tags = (repo: Repo) => lines(git(repo.dir, ["for-each-ref", "--format=%(objectname) %(objecttype)", "refs/tags"])).filter((l) => l.endsWith(" tag")).map((l) => l.slice(0, 40) as Oid);

/** Counts the reader's index look-ups and ranged reads. */
function countingReader(store: MemoryStore) {
  const n = { locates: 0, reads: 0 };
  const index: ObjectIndex = { locate: (oids) => (n.locates++, store.locate(oids)) };
  const packs: PackReader = { readRange: (p, o, l) => (n.reads++, store.readRange(p, o, l)) };
  return { n, reader: new ObjectReader(index, packs) };
}

async function enumerate(repo: Repo, input: Partial<EnumerateInput>, differ?: (reader: ObjectReader) => TreeDiffer) {
  const reader = new ObjectReader(repo.store, repo.store);
  const r = await enumerateObjects(reader, { commits: [], boundaryTrees: new Map(), roots: [], ...input }, differ?.(reader));
  expect(new Set(r.oids).size, "each object once").toBe(r.oids.length);
  // The locations handed back are the index's own, for objects the walk returns.
  const sent = new Set(r.oids);
  const indexed = await repo.store.locate([...r.located.keys()]);
  for (const [oid, l] of r.located) {
    expect(sent.has(oid), oid).toBe(true);
    expect(l).toEqual(indexed.get(oid));
  }
  return { oids: [...r.oids].sort(), clientHas: r.clientHas, located: r.located };
}

/**
 * Directories copied, renamed (at depth) and edited then reverted, on two branches: one tree or
 * blob at several paths and in several commits, the shapes a walk can send twice or not at all.
 */
function makeRewrites(dir: string): void {
  mkdirSync(dir);
  git(dir, ["init", "-q", "-b", "main"]);
  let clock = 1_700_000_000;
  const write = (path: string, text: string) => {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    writeFileSync(join(dir, path), text);
  };
  const commit = (msg: string) => {
    clock += 60;
    git(dir, ["add", "-A"]);
    execFileSync("git", ["commit", "-q", "--allow-empty", "-m", msg], { cwd: dir, env: { ...GIT_ENV, GIT_AUTHOR_DATE: `@${clock} +0000`, GIT_COMMITTER_DATE: `@${clock} +0000` } });
  };
  for (const d of ["a", "a/sub", "b", "t/unit"]) for (let i = 0; i < 6; i++) write(`${d}/f${i}.txt`, `${d} file ${i}\n`.repeat(20));
  commit("base");
  git(dir, ["branch", "side"]);
  write("a/f0.txt", "edited\n");
  commit("edit a/f0");
  execFileSync("cp", ["-r", join(dir, "a"), join(dir, "a-copy")]);
  git(dir, ["mv", "t/unit", "t/unit-renamed"]);
  commit("copy a, rename t/unit");
  git(dir, ["checkout", "-q", "HEAD~2", "--", "a"]);
  commit("revert a to base");
  write("a/f1.txt", "edited too\n");
  execFileSync("cp", ["-r", join(dir, "b"), join(dir, "a-copy/b")]);
  commit("edit a/f1, copy b into a-copy");
  git(dir, ["checkout", "-q", "side"]);
  git(dir, ["mv", "a/sub", "sub-moved"]);
  write("b/f2.txt", "side edit\n");
  commit("side: move a/sub up, edit b");
  git(dir, ["merge", "-q", "--no-ff", "-m", "merge main into side", "main"]);
  git(dir, ["checkout", "-q", "main"]);
}

let tmp: string;
let history: Repo;
let linear: Repo;
let rewrites: Repo;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "edgegit-enumerate-"));
  const h = join(tmp, "history");
  execFileSync("bash", [HISTORY_SH, h], { env: GIT_ENV, stdio: "ignore" });
  history = await loadRepo(h);
  const l = join(tmp, "linear");
  mkdirSync(l);
  makeRepo(l, 60);
  linear = await loadRepo(l);
  const r = join(tmp, "rewrites");
  makeRewrites(r);
  rewrites = await loadRepo(r);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("enumerateObjects", () => {
  it.each(["", "blob:none", "tree:0", "tree:1", "tree:2", "tree:3"])("a clone of every branch and tag (filter %j) is git's rev-list --objects", async (spec) => {
    for (const repo of [history, linear, rewrites]) {
      const filter = spec ? parseObjectFilter(spec) : undefined;
      const got = await enumerate(repo, { commits: [...repo.commits.values()], roots: tags(repo), filter });
      expect(got.oids).toEqual(revList(repo.dir, ["--all", ...(spec ? [`--filter=${spec}`] : [])]));
      expect(got.clientHas.size).toBe(0);
      const types = await repo.store.locate(got.oids);
      expect([...got.located.keys()].sort(), "every tree sent was located").toEqual(got.oids.filter((o) => types.get(o)!.type === "tree"));
    }
  });

  it("gives the same objects whoever diffs the trees: groups answered one pair at a time, last group first", async () => {
    // As a PackWorker pool might: each pair read and diffed on its own, groups computed out of order.
    const scattered = (reader: ObjectReader): TreeDiffer => async function* (groups) {
      const here = localTreeDiffer(reader);
      const answers = new Map<number, Awaited<ReturnType<typeof collectGroup>>>();
      const collectGroup = async (i: number) => {
        const out = [];
        for (const pair of groups[i]!.pairs) for await (const [one] of here([{ pairs: [pair], locations: groups[i]!.locations }])) out.push(one!);
        return out;
      };
      for (let i = groups.length - 1; i >= 0; i--) answers.set(i, await collectGroup(i));
      for (let i = 0; i < groups.length; i++) yield answers.get(i)!;
    };
    for (const repo of [history, linear]) {
      const input = { commits: [...repo.commits.values()], roots: tags(repo) };
      expect((await enumerate(repo, input, scattered)).oids).toEqual((await enumerate(repo, input)).oids);
    }
  });

  it("fails loudly when a tree differ answers short", async () => {
    const short = (reader: ObjectReader): TreeDiffer => async function* (groups) {
      let first = true;
      for await (const changes of localTreeDiffer(reader)(groups)) {
        yield first ? changes.slice(1) : changes;
        first = false;
      }
    };
    await expect(enumerate(linear, { commits: [...linear.commits.values()] }, short)).rejects.toThrow(/tree diff of group 0 answered/);
    const fewer = (reader: ObjectReader): TreeDiffer => async function* (groups) {
      yield* localTreeDiffer(reader)(groups.slice(1));
    };
    await expect(enumerate(linear, { commits: [...linear.commits.values()] }, fewer)).rejects.toThrow(/tree diff/);
  });

  it("an incremental fetch sends what git's rev-list sends, and reports the held trees it met", async () => {
    const have = rev(linear, "main~10");
    const got = await enumerate(linear, { commits: nodes(linear, ["main", `^${have}`]), boundaryTrees: new Map([[have, linear.commits.get(have)!.tree]]) });
    expect(got.oids).toEqual(revList(linear.dir, ["main", `^${have}`]));
    const held = new Set(revList(linear.dir, [have]));
    for (const o of got.clientHas) expect(held.has(o), o).toBe(true);
    // The held parent's root tree too, so the new root tree can go out as a thin delta against it.
    expect(got.clientHas.has(linear.commits.get(have)!.tree)).toBe(true);
    expect(got.clientHas.has(git(linear.dir, ["rev-parse", `${have}:log.txt`]) as Oid)).toBe(true);
  });

  it("a fetch across merges from two held commits sends no object those commits have", async () => {
    const haves = [rev(history, "main~3"), rev(history, "topic")];
    const got = await enumerate(history, {
      commits: nodes(history, ["main", ...haves.map((h) => `^${h}`)]),
      boundaryTrees: new Map(haves.map((h) => [h, history.commits.get(h)!.tree])),
    });
    const theirs = revList(history.dir, ["main", ...haves.map((h) => `^${h}`)]);
    // Paths are diffed, not sets: what git sends is the floor, what the sent commits reach the ceiling.
    for (const o of theirs) expect(got.oids).toContain(o);
    const reach = new Set(revList(history.dir, ["main"]));
    for (const o of got.oids) expect(reach.has(o), o).toBe(true);
  });

  it("after copies, renames and reverts, an incremental fetch sends exactly what git's upload-pack (sparse) packs", async () => {
    const tips = ["main", "side", "main~1", "main~2", "main~3", "side~1", "side~2"].map((r) => rev(rewrites, r));
    let compared = 0;
    for (const want of tips)
      for (const have of tips) {
        if (want === have || git(rewrites.dir, ["rev-list", "--count", want, `^${have}`]) === "0") continue;
        const commits = nodes(rewrites, [want, `^${have}`]);
        const boundary = new Set(commits.flatMap((c) => c.parents).filter((p) => !commits.some((c) => c.oid === p)));
        const got = await enumerate(rewrites, { commits, boundaryTrees: new Map([...boundary].map((b) => [b, rewrites.commits.get(b as Oid)!.tree])) });
        // pack-objects as upload-pack runs it: --revs with the haves as ^ lines, sparse tree marking.
        const pack = execFileSync("git", ["-c", "pack.useSparse=true", "pack-objects", "--revs", "--stdout", "-q"], { cwd: rewrites.dir, env: GIT_ENV, input: `${want}\n^${have}\n` });
        const check = join(tmp, `check-${compared}`);
        git(tmp, ["init", "-q", "--bare", check]);
        execFileSync("git", ["index-pack", "--stdin"], { cwd: check, env: GIT_ENV, input: pack });
        const theirs = lines(git(check, ["cat-file", "--batch-all-objects", "--batch-check=%(objectname)"])).sort();
        expect(got.oids, `${want} ^${have}`).toEqual(theirs);
        const held = new Set(revList(rewrites.dir, [have]));
        for (const o of got.clientHas) expect(held.has(o), o).toBe(true);
        compared++;
      }
    expect(compared).toBeGreaterThan(15);
  });

  it("a shallow boundary's tree goes out whole: git's set for a repo cut at that commit", async () => {
    const cut = rev(linear, "main~4");
    const got = await enumerate(linear, { commits: nodes(linear, ["main", `^${cut}~1`]), boundary: new Set([cut]) });
    const shallow = join(tmp, "shallow");
    execFileSync("git", ["clone", "-q", "--bare", "--no-local", linear.dir, shallow], { env: GIT_ENV });
    writeFileSync(join(shallow, "shallow"), `${cut}\n`);
    expect(got.oids).toEqual(revList(shallow, ["main"]));
  });

  it.each(["", "blob:none", "tree:0", "tree:1", "tree:3"])("trees and blobs wanted by id go out as git's rev-list sends them (filter %j)", async (spec) => {
    const tree = rev(history, "main:deep");
    const blob = rev(history, "main:README");
    const filter = spec ? parseObjectFilter(spec) : undefined;
    const got = await enumerate(history, { roots: [tree, blob], filter });
    // git filters inside a wanted tree but always sends the objects wanted themselves.
    expect(got.oids).toEqual([...new Set([...revList(history.dir, [tree, ...(spec ? [`--filter=${spec}`] : [])]), blob])].sort());
  });

  it("reads trees in batches: look-ups and ranged reads grow with the walk's depth, not with its commits", async () => {
    const { n, reader } = countingReader(linear.store);
    const commits = [...linear.commits.values()];
    const r = await enumerateObjects(reader, { commits, boundaryTrees: new Map(), roots: [], filter: parseObjectFilter("blob:none") });
    expect(r.oids.length).toBeGreaterThan(commits.length * 2);
    expect(n.locates).toBeLessThan(commits.length / 2);
    expect(n.reads).toBeLessThan(commits.length / 2);
  });
});
