/**
 * What the model-based history test checks, with git as the judge: refs equal the model's, fresh
 * and incremental mirror fetches fsck clean, shallow and partial clones work, and an incremental
 * fetch sends about what git's own upload-pack (`file://` on the model) sends for the same client.
 * Invariants:
 * - A check throws an Error whose message says what differed; the caller adds the replay line.
 * - Every pack the server sends to a mirror is decoded: no REF_DELTA names a base the pack holds,
 *   and no object in it is one the client had (counted, then bounded against git's pack).
 */
import { cpSync, existsSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { lines, type GitRunner } from "./git-run.ts";

/** What one incremental fetch received, from the server and from git's upload-pack. */
export interface FetchComparison {
  mirror: string;
  /** A copy of the mirror as it was before the fetch, for replaying it; removed once judged. */
  before: string;
  ours: PackStats;
  git: PackStats;
}

export interface PackStats {
  objects: number;
  bytes: number;
  /** Objects in the pack the client already had (their ids, in `resentIds`, at most 20). */
  resent: number;
  resentIds: string[];
  /** REF_DELTAs whose base the pack itself holds. */
  refToInPack: number;
}

/** Sent objects may exceed git's by this factor, plus `SLACK` objects for tiny packs. */
export const OBJECT_RATIO = 1.1;
export const SLACK = 2;
/**
 * Bytes are looser per fetch: stored deltas go out as they were pushed, while git computes new
 * ones, so a small pack can differ by a few whole objects either way. Over a run they must agree.
 */
export const BYTES_RATIO = 2;
export const BYTES_SLACK = 4096;
export const RUN_BYTES_RATIO = 1.2;

export class Checks {
  readonly g: GitRunner;
  readonly model: string;
  readonly server: string;

  constructor(g: GitRunner, model: string, server: string) {
    this.g = g;
    this.model = model;
    this.server = server;
  }

  async lsRemote(url: string): Promise<Map<string, string>> {
    const out = await this.g.out(this.g.root, ["ls-remote", url]);
    return new Map(
      lines(out)
        .map((l) => l.split("\t"))
        .map(([oid, ref]) => [ref!, oid!]),
    );
  }

  /** The server advertises exactly the model's refs, peeled tags and HEAD included. */
  async refsEqual(): Promise<void> {
    const [ours, model] = [await this.lsRemote(this.server), await this.lsRemote(this.model)];
    expectMapsEqual(ours, model, "server refs vs model refs");
  }

  async fsck(dir: string, extra: string[] = []): Promise<void> {
    const r = await this.g.git(dir, ["fsck", "--full", "--strict", ...extra], { allowFail: true });
    if (r.code !== 0 || (r.stdout + r.stderr).trim() !== "")
      throw new Error(`git fsck in ${dir} failed (${r.code}):\n${r.stdout}${r.stderr}`);
  }

  async refsOf(dir: string): Promise<Map<string, string>> {
    const out = await this.g.out(dir, ["for-each-ref", "--format=%(objectname) %(refname)"]);
    return new Map(
      lines(out)
        .map((l) => l.split(" "))
        .map(([oid, ref]) => [ref!, oid!]),
    );
  }

  /** A fresh `clone --mirror` fscks clean and has the model's refs; returns its path. */
  async freshMirror(name: string): Promise<string> {
    const dir = join(this.g.root, name);
    await this.g.git(this.g.root, ["clone", "-q", "--mirror", this.server, dir]);
    await this.fsck(dir);
    expectMapsEqual(await this.refsOf(dir), await this.refsOf(this.model), `fresh mirror ${name} refs`);
    return dir;
  }

  /**
   * Brings `mirror` up to date from the server and a copy of it from the model (`file://`), with
   * the same command; both must succeed, fsck clean and end with the model's refs. Returns what
   * each pack held.
   */
  async fetchMirror(mirror: string): Promise<FetchComparison> {
    const twin = `${mirror}-git`;
    const saved = `${mirror}-before`;
    for (const copy of [twin, saved]) {
      rmSync(copy, { recursive: true, force: true });
      cpSync(mirror, copy, { recursive: true });
    }
    const before = new Set(
      lines(await this.g.out(mirror, ["cat-file", "--batch-all-objects", "--batch-check=%(objectname)"])),
    );
    const git = await this.#fetch(twin, `file://${this.model}`, before);
    const ours = await this.#fetch(mirror, this.server, before);
    await this.fsck(mirror, ["--no-dangling"]); // a forced update leaves the old commits dangling
    const want = await this.refsOf(this.model);
    expectMapsEqual(await this.refsOf(mirror), want, `mirror ${mirror} after fetch`);
    expectMapsEqual(await this.refsOf(twin), want, `git's twin of ${mirror} after fetch`);
    rmSync(twin, { recursive: true, force: true });
    return { mirror, before: saved, ours, git };
  }

  /** One `fetch --prune --force '+refs/*:refs/*'`, keeping the received pack so it can be decoded. */
  async #fetch(dir: string, url: string, before: ReadonlySet<string>): Promise<PackStats> {
    const trace = join(this.g.root, "trace.pack");
    rmSync(trace, { force: true });
    const packDir = join(dir, "objects/pack");
    const old = new Set(existsSync(packDir) ? readdirSync(packDir) : []);
    await this.g.git(
      dir,
      [
        "-c",
        "fetch.unpackLimit=1",
        "-c",
        "transfer.unpackLimit=1",
        "fetch",
        "-q",
        "--prune",
        "--force",
        url,
        "+refs/*:refs/*",
      ],
      {
        env: { GIT_TRACE_PACKFILE: trace },
      },
    );
    if (!existsSync(trace) || statSync(trace).size === 0)
      return { objects: 0, bytes: 0, resent: 0, resentIds: [], refToInPack: 0 };
    const pack = new Uint8Array(readFileSync(trace));
    const idx = readdirSync(packDir).filter((f) => f.endsWith(".idx") && !old.has(f));
    if (idx.length !== 1) throw new Error(`fetch into ${dir} kept ${idx.length} new packs`);
    return decodePack(pack, showIndex(readFileSync(join(packDir, idx[0]!))), before);
  }

  /** `clone --depth 3 --no-single-branch` from the server and from git agree, and fsck clean. */
  async shallowClone(name: string): Promise<void> {
    const ours = join(this.g.root, `${name}-ours`);
    const theirs = join(this.g.root, `${name}-git`);
    await this.g.git(this.g.root, ["clone", "-q", "--bare", "--depth", "3", "--no-single-branch", this.server, ours]);
    await this.g.git(this.g.root, [
      "clone",
      "-q",
      "--bare",
      "--depth",
      "3",
      "--no-single-branch",
      `file://${this.model}`,
      theirs,
    ]);
    await this.fsck(ours, ["--no-dangling"]);
    const shallow = (d: string) =>
      existsSync(join(d, "shallow")) ? lines(readFileSync(join(d, "shallow"), "utf8")).sort() : [];
    expectArraysEqual(shallow(ours), shallow(theirs), "shallow boundary of a --depth 3 clone");
    const commits = async (d: string) => lines(await this.g.out(d, ["rev-list", "--all"])).sort();
    expectArraysEqual(await commits(ours), await commits(theirs), "commits of a --depth 3 clone");
    for (const d of [ours, theirs]) rmSync(d, { recursive: true, force: true });
  }

  /** A `--filter=blob:none` clone checks out `old` (its blobs come by lazy fetches) exactly as the model has it. */
  async partialCheckout(name: string, old: string): Promise<void> {
    const dir = join(this.g.root, name);
    await this.g.git(this.g.root, ["clone", "-q", "--no-checkout", "--filter=blob:none", this.server, dir]);
    await this.g.git(dir, ["checkout", "-q", "--detach", old]);
    const files = await this.g.out(dir, ["ls-files", "-s"]);
    const want = await this.g.out(this.model, [
      "ls-tree",
      "-r",
      "--format=%(objectmode) %(objectname) 0\t%(path)",
      old,
    ]);
    expectArraysEqual(lines(files), lines(want), `files of ${old} in a blob:none clone`);
    const dirty = await this.g.out(dir, ["status", "--porcelain"]);
    if (dirty.trim() !== "") throw new Error(`checkout of ${old} in a blob:none clone is not clean:\n${dirty}`);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The bytes of every fetch of a run, ours against git's, within `RUN_BYTES_RATIO`. */
export function judgeRun(fetches: readonly FetchComparison[]): void {
  const ours = fetches.reduce((n, f) => n + f.ours.bytes, 0);
  const git = fetches.reduce((n, f) => n + f.git.bytes, 0);
  if (ours > git * RUN_BYTES_RATIO + BYTES_SLACK) throw new Error(`the run's fetches sent ${ours} bytes, git's ${git}`);
}

/** Checks a fetch against git's: consistent, and not much more than git sent. */
export function judgeFetch(c: FetchComparison): void {
  if (c.ours.refToInPack > 0)
    throw new Error(
      `${c.mirror}: ${c.ours.refToInPack} REF_DELTAs name a base in the same pack (client state: ${c.before})`,
    );
  const bytes = c.git.bytes * BYTES_RATIO + BYTES_SLACK;
  if (c.ours.bytes > bytes)
    throw new Error(`${c.mirror}: sent ${c.ours.bytes} bytes, git sent ${c.git.bytes} (client state: ${c.before})`);
  const bound = Math.floor(c.git.objects * OBJECT_RATIO) + SLACK;
  if (c.ours.objects > bound)
    throw new Error(
      `${c.mirror}: sent ${c.ours.objects} objects (${c.ours.resent} the client had: ${c.ours.resentIds.join(" ")}), ` +
        `git sent ${c.git.objects} (${c.git.resent}); bound ${bound} (client state: ${c.before})`,
    );
}

/** offset -> id of every entry of a `.idx` (version 2). */
export function showIndex(idx: Uint8Array): Map<number, string> {
  const v = new DataView(idx.buffer, idx.byteOffset, idx.byteLength);
  if (v.getUint32(0) !== 0xff744f63 || v.getUint32(4) !== 2) throw new Error("not a version 2 pack index");
  const n = v.getUint32(8 + 255 * 4);
  const ids = 8 + 256 * 4;
  const offsets = ids + n * 20 + n * 4;
  const large = offsets + n * 4;
  const out = new Map<number, string>();
  for (let i = 0; i < n; i++) {
    let off = v.getUint32(offsets + i * 4);
    if (off & 0x80000000) off = Number(v.getBigUint64(large + (off & 0x7fffffff) * 8));
    out.set(off, Buffer.from(idx.subarray(ids + i * 20, ids + i * 20 + 20)).toString("hex"));
  }
  return out;
}

/**
 * Reads the entry headers of a received pack, naming each entry by the index git wrote for it
 * (`--fix-thin` appends bases after the received entries, so offsets inside the pack agree).
 */
export function decodePack(
  pack: Uint8Array,
  index: ReadonlyMap<number, string>,
  before: ReadonlySet<string>,
): PackStats {
  const objects = new DataView(pack.buffer, pack.byteOffset).getUint32(8);
  const end = pack.length - 20;
  const inPack = [...index].filter(([off]) => off < end);
  if (inPack.length !== objects)
    throw new Error(`pack says ${objects} objects, the index has ${inPack.length} within it`);
  const ids = new Set(inPack.map(([, id]) => id));
  const resentIds: string[] = [];
  let refToInPack = 0;
  for (const [off, id] of inPack) {
    if (before.has(id)) resentIds.push(id);
    // Read here, not with engine/pack/entry-header.ts: its imports reach TypeScript that Node's type
    // stripping cannot run, and scripts/model-test.mjs runs this module under plain Node.
    let at = off;
    let b = pack[at++]!;
    const type = (b >> 4) & 7;
    while (b & 0x80) b = pack[at++]!;
    if (type === 7 && ids.has(Buffer.from(pack.subarray(at, at + 20)).toString("hex"))) refToInPack++;
  }
  return { objects, bytes: pack.length, resent: resentIds.length, resentIds: resentIds.slice(0, 20), refToInPack };
}

export function expectMapsEqual(
  got: ReadonlyMap<string, string>,
  want: ReadonlyMap<string, string>,
  what: string,
): void {
  const diff: string[] = [];
  for (const [k, v] of want) if (got.get(k) !== v) diff.push(`${k}: got ${got.get(k) ?? "(none)"}, want ${v}`);
  for (const [k, v] of got) if (!want.has(k)) diff.push(`${k}: got ${v}, want (none)`);
  if (diff.length) throw new Error(`${what} differ:\n${diff.join("\n")}`);
}

function expectArraysEqual(got: readonly string[], want: readonly string[], what: string): void {
  const g = new Set(got);
  const w = new Set(want);
  const extra = got.filter((x) => !w.has(x));
  const missing = want.filter((x) => !g.has(x));
  if (extra.length || missing.length || got.length !== want.length)
    throw new Error(
      `${what} differ: extra ${JSON.stringify(extra.slice(0, 10))}, missing ${JSON.stringify(missing.slice(0, 10))}`,
    );
}
