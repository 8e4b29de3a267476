// Builds the repositories of `npm run bench -- --sizes`: the awkward shapes test/e2e/sizes.test.ts
// pushes and clones, at the same sizes, for measuring each one's memory.
// Invariants:
// - Same case, same repository: content is fixed or an AES-128-CTR keystream keyed by a fixed seed,
//   and every commit has a fixed date, so object ids never change between runs.
// - Each repository is made by `git fast-import` (and `git update-ref --stdin` for refs), then
//   repacked into one pack, as a pushing client's repository would be.
//
//   node scripts/bench-sizes.mjs OUTDIR CASE      (CASE: one of the names in CASES below)
import { execFileSync } from "node:child_process";
import { createCipheriv, createHash } from "node:crypto";
import { mkdirSync } from "node:fs";

const WHO = "Bench <bench@example.invalid>";
const T0 = 1_767_225_600;

/** One fast-import commit on main (parented on main's previous commit of the stream); `files` are [path, bytes]. */
function commit(message, files, time = T0) {
  const parts = [Buffer.from(`commit refs/heads/main\ncommitter ${WHO} ${time} +0000\ndata ${Buffer.byteLength(message)}\n${message}\n`)];
  for (const [path, data] of files) parts.push(Buffer.from(`M 100644 inline ${path}\ndata ${data.length}\n`), data, Buffer.from("\n"));
  return Buffer.concat(parts);
}

function keystream(n, seed) {
  const key = createHash("sha256").update(`edgegit-sizes-${seed}`).digest().subarray(0, 16);
  return createCipheriv("aes-128-ctr", key, Buffer.alloc(16)).update(Buffer.alloc(n));
}

/** Each case: a fast-import stream, and optionally extra refs (`update-ref --stdin` lines) made from its commits. */
export const CASES = {
  "blob-30mb": () => ({ stream: commit("30 MB of random bytes", [["random.bin", keystream(30 << 20, "blob")]]) }),
  "wide-20k": () => ({
    stream: commit("20,000 files in one directory", Array.from({ length: 20_000 }, (_, i) => [`wide/file-${String(i).padStart(5, "0")}.txt`, Buffer.from(`file ${i}\n`)])),
  }),
  "deep-200": () => ({
    stream: commit("200 levels deep", [[Array.from({ length: 200 }, (_, i) => `d${i}`).join("/") + "/leaf.txt", Buffer.from("at the bottom\n")]]),
  }),
  "message-1mb": () => {
    const line = "a long commit message line that goes on and on and on\n";
    return { stream: commit(line.repeat(Math.ceil((1 << 20) / line.length)).slice(0, 1 << 20), [["file.txt", Buffer.from("one file\n")]]) };
  },
  "refs-5k": () => ({
    stream: Buffer.concat(Array.from({ length: 10 }, (_, i) => commit(`commit ${i}`, [["n.txt", Buffer.from(`${i}\n`)]], T0 + i))),
    refs: (commits) => Array.from({ length: 4_999 }, (_, i) => `create refs/heads/branch-${String(i).padStart(4, "0")} ${commits[i % commits.length]}\n`).join(""),
  }),
  "history-10k": () => ({
    stream: Buffer.concat(Array.from({ length: 10_000 }, (_, i) => commit(`commit ${i}`, [["counter.txt", Buffer.from(`${i}\n`)]], T0 + i))),
  }),
};

const [outdir, name] = process.argv.slice(2);
if (!outdir || !CASES[name]) {
  console.error(`usage: bench-sizes.mjs OUTDIR CASE (one of: ${Object.keys(CASES).join(", ")})`);
  process.exit(2);
}
const env = { ...process.env, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null", LC_ALL: "C" };
const git = (args, input) => execFileSync("git", args, { cwd: outdir, env, input, maxBuffer: 1 << 30 }).toString().trim();
mkdirSync(outdir, { recursive: true });
git(["init", "-q", "-b", "main"]);
const { stream, refs } = CASES[name]();
git(["fast-import", "--quiet"], stream);
if (refs) git(["update-ref", "--stdin"], refs(git(["rev-list", "main"]).split("\n")));
git(["repack", "-q", "-a", "-d"]);
const inPack = Number(/^in-pack: (\d+)$/m.exec(git(["count-objects", "-v"]))[1]);
console.log(JSON.stringify({ case: name, objects: inPack, refs: git(["for-each-ref"]).split("\n").length }));
