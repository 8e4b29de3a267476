/**
 * The operations of the model-based history test: ordinary traffic on a repository, generated from
 * a seed. Each operation is made once in a work repository and pushed, with the same arguments, to
 * the model (a local bare repository) and to the server under test.
 * Invariants:
 * - One seed gives the same operations and the same object ids (dates come from the runner's clock).
 * - An operation's description names everything needed to read the log back: refs, ids, edits.
 * - `main` is never deleted, so HEAD always names a branch.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { lines, type GitRunner } from "./git-run.ts";

/** A small seeded generator (mulberry32): the whole run follows from its seed. */
export class Random {
  #s: number;
  constructor(seed: number) {
    this.#s = seed >>> 0;
  }
  next(): number {
    let t = (this.#s = (this.#s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error("pick from nothing");
    return items[this.int(items.length)]!;
  }
}

const WORDS = ["alpha", "beta", "gamma", "delta", "eps", "zeta", "eta", "theta", "iota", "kappa", "lambda", "mu"];
const DIRS = ["src", "src/lib", "src/lib/util", "docs", "assets", "test/unit"];

export type OpKind =
  | "commit"
  | "amend"
  | "branch-old"
  | "delete-branch"
  | "force-older"
  | "tag"
  | "annotated-tag"
  | "delete-tag"
  | "merge"
  | "atomic3";

/** Weights of each kind; a kind that cannot run in the current state falls back to a commit. */
const KINDS: readonly [OpKind, number][] = [
  ["commit", 30],
  ["amend", 5],
  ["branch-old", 10],
  ["delete-branch", 7],
  ["force-older", 8],
  ["tag", 6],
  ["annotated-tag", 6],
  ["delete-tag", 3],
  ["merge", 15],
  ["atomic3", 6],
];

export interface Remotes {
  /** The model: a local bare repository. */
  model: string;
  /** The server under test, with credentials. */
  server: string;
}

/** Drives the work repository. `apply` runs one operation and returns its description. */
export class HistoryOps {
  readonly work: string;
  readonly g: GitRunner;
  readonly rnd: Random;
  readonly remotes: Remotes;
  #n = 0;

  constructor(g: GitRunner, rnd: Random, remotes: Remotes) {
    this.g = g;
    this.rnd = rnd;
    this.remotes = remotes;
    this.work = join(g.root, "work");
  }

  /** The first commit, on main, pushed to both. */
  async init(): Promise<string> {
    await this.g.git(this.g.root, ["init", "-q", "--bare", this.remotes.model]);
    await this.g.git(this.g.root, ["init", "-q", this.work]);
    for (const dir of DIRS)
      for (let i = 0; i < 4 + this.rnd.int(8); i++) this.#write(`${dir}/f${i}.txt`, this.#text(30 + this.rnd.int(60)));
    const oid = await this.#commit("initial");
    await this.#push([`${oid}:refs/heads/main`]);
    return `init main=${oid.slice(0, 10)}`;
  }

  async apply(): Promise<string> {
    this.#n++;
    const total = KINDS.reduce((n, [, w]) => n + w, 0);
    let x = this.rnd.int(total);
    let kind: OpKind = "commit";
    for (const [k, w] of KINDS)
      if ((x -= w) < 0) {
        kind = k;
        break;
      }
    return (await this.#run(kind)) ?? (await this.#run("commit"))!;
  }

  /** Branches and tags of the model: refname -> id. */
  async refs(): Promise<Map<string, string>> {
    const out = await this.g.out(this.remotes.model, ["for-each-ref", "--format=%(objectname) %(refname)"]);
    return new Map(
      lines(out)
        .map((l) => l.split(" "))
        .map(([oid, ref]) => [ref!, oid!]),
    );
  }

  /** Every commit the model's refs reach. */
  async commits(): Promise<string[]> {
    return lines(await this.g.out(this.remotes.model, ["rev-list", "--all"]));
  }

  async #run(kind: OpKind): Promise<string | undefined> {
    const n = this.#n;
    const refs = await this.refs();
    const branches = [...refs.keys()].filter((r) => r.startsWith("refs/heads/"));
    const tags = [...refs.keys()].filter((r) => r.startsWith("refs/tags/"));
    const short = (o: string) => o.slice(0, 10);
    switch (kind) {
      case "commit": {
        const b = this.rnd.pick(branches);
        await this.#checkout(refs.get(b)!);
        const edits = await this.#edit(1 + this.rnd.int(3));
        const oid = await this.#commit(`op ${n}: ${edits.join(", ")}`);
        await this.#push([`${oid}:${b}`]);
        return `commit on ${b}: ${edits.join(", ")} -> ${short(oid)}`;
      }
      case "amend": {
        const b = this.rnd.pick(branches);
        await this.#checkout(refs.get(b)!);
        if (!(await this.g.git(this.work, ["rev-parse", "-q", "--verify", "HEAD^"], { allowFail: true })).stdout)
          return undefined;
        const edits = await this.#edit(1);
        this.g.tick();
        await this.g.git(this.work, ["add", "-A"]);
        await this.g.git(this.work, [
          "commit",
          "-q",
          "--amend",
          "--allow-empty",
          "-m",
          `op ${n}: amended, ${edits.join(", ")}`,
        ]);
        const oid = await this.#head();
        await this.#push([`+${oid}:${b}`]);
        return `amend ${b}: ${edits.join(", ")} -> ${short(oid)}`;
      }
      case "branch-old": {
        const oid = this.rnd.pick(await this.commits());
        await this.#push([`${oid}:refs/heads/b${n}`]);
        return `branch refs/heads/b${n} at old ${short(oid)}`;
      }
      case "delete-branch": {
        const others = branches.filter((b) => b !== "refs/heads/main");
        if (others.length === 0) return undefined;
        const b = this.rnd.pick(others);
        await this.#push([`:${b}`]);
        return `delete ${b}`;
      }
      case "force-older": {
        const b = this.rnd.pick(branches);
        const ancestors = lines(await this.g.out(this.work, ["rev-list", "--skip=1", refs.get(b)!]));
        // Mostly an ancestor (a reset), sometimes any commit (a branch moved elsewhere).
        const pool = ancestors.length && this.rnd.int(4) > 0 ? ancestors : await this.commits();
        const oid = this.rnd.pick(pool);
        if (oid === refs.get(b)) return undefined;
        await this.#push([`+${oid}:${b}`]);
        return `force ${b} to older ${short(oid)}`;
      }
      case "tag":
      case "annotated-tag": {
        const oid = this.rnd.pick(await this.commits());
        const tag = `refs/tags/${kind === "tag" ? "t" : "a"}${n}`;
        if (kind === "tag") await this.#push([`${oid}:${tag}`]);
        else {
          this.g.tick();
          await this.g.git(this.work, ["tag", "-a", "-m", `tag ${n}`, `a${n}`, oid]);
          await this.#push([`${tag}:${tag}`]);
        }
        return `${kind} ${tag} on ${short(oid)}`;
      }
      case "delete-tag": {
        if (tags.length === 0) return undefined;
        const t = this.rnd.pick(tags);
        await this.#push([`:${t}`]);
        return `delete ${t}`;
      }
      case "merge": {
        if (branches.length < 2) return undefined;
        const a = this.rnd.pick(branches);
        const b = this.rnd.pick(branches.filter((x) => x !== a));
        await this.#checkout(refs.get(a)!);
        this.g.tick();
        const r = await this.g.git(
          this.work,
          ["merge", "-q", "--no-ff", "-X", "theirs", "-m", `op ${n}: merge ${b} into ${a}`, refs.get(b)!],
          { allowFail: true },
        );
        if (r.code !== 0) {
          await this.g.git(this.work, ["merge", "--abort"], { allowFail: true });
          return undefined;
        }
        const oid = await this.#head();
        if (oid === refs.get(a)) return undefined; // already up to date
        await this.#push([`${oid}:${a}`]);
        return `merge --no-ff ${b} into ${a} -> ${short(oid)}`;
      }
      case "atomic3": {
        const specs: string[] = [];
        const all = await this.commits();
        for (let i = 0; i < 3; i++) {
          await this.#checkout(this.rnd.pick(all));
          const edits = await this.#edit(1);
          specs.push(`${await this.#commit(`op ${n}.${i}: ${edits.join(", ")}`)}:refs/heads/n${n}-${i}`);
        }
        await this.#push(specs, ["--atomic"]);
        return `atomic push ${specs.map((s) => s.slice(0, 10) + s.slice(40)).join(" ")}`;
      }
    }
  }

  /** The same push to the model and to the server; either failing fails the run. */
  async #push(specs: string[], flags: string[] = []): Promise<void> {
    for (const remote of [this.remotes.model, this.remotes.server])
      await this.g.git(this.work, ["push", "-q", ...flags, remote, ...specs]);
  }

  async #checkout(oid: string): Promise<void> {
    await this.g.git(this.work, ["checkout", "-q", "-f", "--detach", oid]);
    await this.g.git(this.work, ["clean", "-q", "-f", "-d"]);
  }

  async #head(): Promise<string> {
    return (await this.g.out(this.work, ["rev-parse", "HEAD"])).trim();
  }

  async #commit(message: string): Promise<string> {
    this.g.tick();
    await this.g.git(this.work, ["add", "-A"]);
    await this.g.git(this.work, ["commit", "-q", "--allow-empty", "-m", message]);
    return this.#head();
  }

  /**
   * `count` edits of the checked-out tree, each named in the result. Besides edits, adds and
   * deletes, directories are copied and renamed and old contents come back, so one tree or blob
   * often appears at several paths and in several commits: the shapes a pack writer can get wrong.
   */
  async #edit(count: number): Promise<string[]> {
    const done: string[] = [];
    for (let i = 0; i < count; i++) {
      await this.g.git(this.work, ["add", "-A"]); // the index lists what the last edit left
      const files = lines(await this.g.out(this.work, ["ls-files"]));
      const dirs = [...new Set(files.map((f) => dirname(f)).filter((d) => d !== "."))];
      const k = this.rnd.int(10);
      if (k < 4 && files.length) {
        const f = this.rnd.pick(files);
        this.#write(f, this.#mutate(readFileSync(join(this.work, f), "utf8")));
        done.push(`modify ${f}`);
      } else if (k < 5) {
        const f = `${this.rnd.pick(dirs.length ? dirs : DIRS)}/n${this.#n}-${i}.txt`;
        this.#write(f, this.#text(20 + this.rnd.int(40)));
        done.push(`add ${f}`);
      } else if (k < 6 && files.length > 8) {
        const f = this.rnd.pick(files);
        rmSync(join(this.work, f));
        done.push(`delete ${f}`);
      } else if (k < 7 && dirs.length) {
        const d = this.rnd.pick(dirs);
        const to = `${d}-c${this.#n}-${i}`;
        if (existsSync(join(this.work, to))) continue;
        cpSync(join(this.work, d), join(this.work, to), { recursive: true });
        done.push(`copy ${d} to ${to}`);
      } else if (k < 8 && dirs.length > 2) {
        const d = this.rnd.pick(dirs);
        const to = `${d}-r${this.#n}-${i}`;
        if (existsSync(join(this.work, to))) continue;
        await this.g.git(this.work, ["mv", d, to]);
        done.push(`rename ${d} to ${to}`);
      } else {
        // Old content comes back: a path as some earlier commit had it.
        const old = this.rnd.pick(lines(await this.g.out(this.work, ["rev-list", "--all", "-n", "200"])));
        const oldFiles = lines(await this.g.out(this.work, ["ls-tree", "-r", "--name-only", old]));
        const f = this.rnd.pick(oldFiles);
        await this.g.git(this.work, ["checkout", "-q", old, "--", f]);
        done.push(`restore ${f} from ${old.slice(0, 10)}`);
      }
    }
    return done;
  }

  #write(path: string, content: string): void {
    const full = join(this.work, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
  }

  #text(n: number): string {
    const out: string[] = [];
    for (let i = 0; i < n; i++)
      out.push(`line ${i} ${this.rnd.pick(WORDS)} ${this.rnd.pick(WORDS)} ${this.rnd.int(1000)}`);
    return out.join("\n") + "\n";
  }

  /** A few lines changed, inserted or dropped: the file stays a good delta of its old self. */
  #mutate(text: string): string {
    const ls = text.split("\n");
    for (let j = 0; j < 1 + this.rnd.int(4); j++) {
      const at = this.rnd.int(ls.length);
      const r = this.rnd.int(3);
      if (r === 0) ls[at] = `changed ${this.#n} ${this.rnd.pick(WORDS)}`;
      else if (r === 1) ls.splice(at, 0, `inserted ${this.#n} ${this.rnd.pick(WORDS)}`);
      else if (ls.length > 5) ls.splice(at, 1);
    }
    return ls.join("\n");
  }
}
