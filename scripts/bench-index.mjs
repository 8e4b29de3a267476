// Times the engine's CPU for indexing a push, phase by phase, under Node: the pack git would push of the
// history workload (scripts/gen-history.sh), scanned, resolved, hashed and inspected as
// actors/repo/receive-pack.ts does it. No server, no storage: the pack is read from memory.
// Invariants:
// - Each phase runs the same engine functions the push runs, over the same objects, ROUNDS times;
//   the median is printed, so JIT warm-up and GC noise are not counted as the code's cost.
// - The pack is `git pack-objects --revs --thin` of main, as `git push` to an empty repo sends it.
//
//   node_modules/.bin/node --experimental-transform-types --no-warnings scripts/bench-index.mjs
//   env BENCH_WORK (/tmp/git-bench), BENCH_HISTORY (repo path), ROUNDS (7)
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const engine = await import(join(ROOT, "engine/index.ts"));
const { ByteReader, PackIndexer, scanPack, applyDelta, hashObject, decodeCommit, decodeTag, decodeTree, validateTree, referencedIds } = engine;

const work = process.env.BENCH_WORK ?? "/tmp/git-bench";
const repo = process.env.BENCH_HISTORY ?? join(work, "sources/edgegit-history-2000");
const rounds = Number(process.env.ROUNDS ?? 7);
if (!existsSync(join(repo, ".git"))) execFileSync(join(ROOT, "scripts/gen-history.sh"), [repo, "2000"], { stdio: "inherit" });
const packPath = join(work, `bench-index-${repo.split("/").at(-1)}.pack`);
if (!existsSync(packPath)) {
  const env = { ...process.env, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" };
  const args = ["pack-objects", "--revs", "--thin", "--stdout", "--delta-base-offset", "-q"];
  writeFileSync(packPath, execFileSync("git", args, { cwd: repo, env, input: "main\n", maxBuffer: 1 << 30 }));
}
const pack = new Uint8Array(readFileSync(packPath));

async function* chunks() {
  for (let at = 0; at < pack.length; at += 65536) yield pack.subarray(at, at + 65536);
}

async function scanAll() {
  const entries = [];
  for await (const item of scanPack(new ByteReader(chunks()))) if (item.kind === "entry") entries.push(item);
  return entries;
}

function indexer(onObject) {
  return new PackIndexer({
    readExisting: async () => null,
    readPackRange: async (offset, length) => pack.slice(offset, offset + length),
    onObject,
  });
}

/** receive-pack.ts's onObject, as of this engine: the fused tree check when the engine has one. */
function receivePackOnObject() {
  const referenced = new Map();
  const note = (oid, type) => {
    const claimed = referenced.get(oid);
    if (claimed !== undefined && claimed !== type && claimed !== "unknown" && type !== "unknown") throw new Error(`${oid} named as ${claimed} and ${type}`);
    referenced.set(oid, type);
  };
  return (entry, data) => {
    if (entry.type === "tree" && engine.inspectTree) {
      const reason = engine.inspectTree(data, note);
      if (reason) throw new Error(reason);
      return;
    }
    if (entry.type === "commit") decodeCommit(data);
    else if (entry.type === "tag") decodeTag(data);
    else if (entry.type === "tree" && validateTree(decodeTree(data))) throw new Error("bad tree");
    for (const r of referencedIds(entry.type, data)) note(r.oid, r.type);
  };
}

// One untimed pass collects what the phases replay: entries, and every object's content by offset
// (bases come first in the pack; an entry the scan streamed without keeping its data is left out).
const scanned = await scanAll();
const objects = new Map();
const offsetByOid = new Map();
for (const e of scanned) {
  if (e.data === undefined) continue;
  const base = e.entryType >= 6 ? objects.get(e.baseOffset ?? offsetByOid.get(e.baseOid)) : undefined;
  const obj = e.entryType < 6 ? { type: ["", "commit", "tree", "blob", "tag"][e.entryType], data: e.data } : base && { type: base.type, data: applyDelta(base.data, e.data) };
  if (!obj) continue;
  objects.set(e.offset, obj);
  offsetByOid.set(hashObject(obj.type, obj.data), e.offset);
}
const deltas = scanned.filter((e) => e.entryType >= 6 && objects.has(e.offset)).map((e) => ({ base: objects.get(e.baseOffset ?? offsetByOid.get(e.baseOid)).data, delta: e.data }));
const all = [...objects.values()];
const trees = all.filter((o) => o.type === "tree").map((o) => o.data);
const commits = all.filter((o) => o.type === "commit").map((o) => o.data);

const phases = {
  "scan (inflate, pack SHA-1)": async () => void (await scanAll()),
  "resolve deltas (applyDelta)": () => {
    for (const d of deltas) applyDelta(d.base, d.delta);
  },
  "hash objects (hashObject)": () => {
    for (const o of all) hashObject(o.type, o.data);
  },
  "trees: validateTree(decodeTree) + referencedIds": () => {
    const ids = new Set();
    for (const t of trees) {
      if (validateTree(decodeTree(t))) throw new Error("bad tree");
      for (const r of referencedIds("tree", t)) ids.add(r.oid);
    }
  },
  ...(engine.inspectTree && {
    "trees: inspectTree": () => {
      const ids = new Set();
      for (const t of trees) if (engine.inspectTree(t, (oid) => ids.add(oid))) throw new Error("bad tree");
    },
  }),
  "commits: decodeCommit + referencedIds": () => {
    for (const c of commits) {
      decodeCommit(c);
      referencedIds("commit", c);
    }
  },
  "index, no onObject (PackIndexer.add/finish)": async () => {
    const ix = indexer(() => {});
    for (const e of scanned) await ix.add(e);
    await ix.finish();
  },
  "push total (scan + index + receive-pack onObject)": async () => {
    const ix = indexer(receivePackOnObject());
    for await (const item of scanPack(new ByteReader(chunks()))) if (item.kind === "entry") await ix.add(item);
    await ix.finish();
  },
};

console.log(`pack ${packPath}: ${pack.length} bytes, ${scanned.length} entries (${deltas.length} deltas, ${trees.length} trees, ${commits.length} commits); median of ${rounds}`);
for (const [name, run] of Object.entries(phases)) {
  const times = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    await run();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  console.log(`${name.padEnd(52)} ${times[times.length >> 1].toFixed(1).padStart(8)} ms`);
}
