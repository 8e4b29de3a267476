#!/usr/bin/env node
/**
 * Load test against a running server: N concurrent `git clone`s while M pushes land, with
 * `git ls-remote` polled every 200 ms.
 *   node scripts/load-test.mjs [--clones 32] [--pushes 4] [--url http://127.0.0.1:8787]
 * Invariants:
 * - Every push moves main one commit forward and adds one tag, atomically; so the repo passes through
 *   M+1 known ref states, and any clone or ls-remote that shows anything else saw a mix.
 * - Every clone fscks clean and its refs equal one of those states.
 * Prints a human summary, then one `RESULT {json}` line; exits 1 if any check failed.
 * Spec: gitprotocol-http(5); git-push(1) "--atomic"; git-clone(1) (a clone fetches all tags).
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values: opts } = parseArgs({
  options: {
    clones: { type: "string", default: "32" },
    pushes: { type: "string", default: "4" },
    url: { type: "string", default: "http://127.0.0.1:8787" },
    "poll-ms": { type: "string", default: "200" },
  },
});
const CLONES = Number(opts.clones);
const PUSHES = Number(opts.pushes);
const POLL_MS = Number(opts["poll-ms"]);
const repoUrl = `${opts.url.replace(/\/$/, "")}/load/load-${randomBytes(4).toString("hex")}.git`;

const work = mkdtempSync(join(tmpdir(), "edgegit-load-"));
const home = join(work, "home");
mkdirSync(home);
writeFileSync(join(home, ".gitconfig"), "[user]\n\tname = Load Tester\n\temail = load@example.com\n[init]\n\tdefaultBranch = main\n[gc]\n\tauto = 0\n");
const ENV = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, GIT_CONFIG_NOSYSTEM: "1", GIT_TERMINAL_PROMPT: "0", LC_ALL: "C" };

/** Runs git; resolves with its exit code, output and wall time (never rejects on a git failure). */
function git(cwd, args) {
  const start = performance.now();
  return new Promise((ok) => {
    execFile("git", args, { cwd, env: ENV, maxBuffer: 64 << 20, timeout: 300_000 }, (err, stdout, stderr) => {
      ok({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, stdout, stderr, ms: performance.now() - start });
    });
  });
}

async function mustGit(cwd, args) {
  const r = await git(cwd, args);
  if (r.code !== 0) throw new Error(`git ${args.join(" ")} failed (${r.code}):\n${r.stderr}`);
  return r;
}

/** `git ls-remote` output (no symref lines) as a canonical string "ref oid" per line, sorted. */
function canonical(pairs) {
  return pairs.map(([ref, oid]) => `${ref} ${oid}`).sort().join("\n");
}

function parseLsRemote(out) {
  return out.split("\n").filter(Boolean).map((l) => l.split("\t")).map(([oid, ref]) => [ref, oid]);
}

/** A clone's refs in ls-remote terms: HEAD, origin's branches as refs/heads/*, and tags. */
async function cloneRefs(dir) {
  const out = (await mustGit(dir, ["for-each-ref", "--format=%(objectname) %(refname)"])).stdout;
  const pairs = [["HEAD", (await mustGit(dir, ["rev-parse", "HEAD"])).stdout.trim()]];
  for (const [oid, ref] of out.split("\n").filter(Boolean).map((l) => l.split(" "))) {
    if (ref.startsWith("refs/remotes/origin/") && ref !== "refs/remotes/origin/HEAD") pairs.push([ref.replace("refs/remotes/origin/", "refs/heads/"), oid]);
    else if (ref.startsWith("refs/tags/")) pairs.push([ref, oid]);
  }
  return pairs;
}

function percentile(sorted, p) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : 0;
}

async function main() {
  const failures = [];

  // The base repo: some files across a few commits. Then the M commits and tags the pushes will carry.
  const src = join(work, "src");
  await mustGit(work, ["init", "-q", src]);
  for (let c = 0; c < 5; c++) {
    for (let f = 0; f < 20; f++) writeFileSync(join(src, `file-${f}.txt`), `commit ${c}, file ${f}\n${randomBytes(2048).toString("base64")}\n`);
    await mustGit(src, ["add", "-A"]);
    await mustGit(src, ["commit", "-q", "-m", `base ${c}`]);
  }
  await mustGit(src, ["push", "-q", repoUrl, "main"]);
  const base = (await mustGit(src, ["rev-parse", "HEAD"])).stdout.trim();
  const states = [canonical([["HEAD", base], ["refs/heads/main", base]])];
  const commits = [];
  for (let i = 1; i <= PUSHES; i++) {
    writeFileSync(join(src, `push-${i}.txt`), `push ${i}\n`);
    await mustGit(src, ["add", "-A"]);
    await mustGit(src, ["commit", "-q", "-m", `push ${i}`]);
    await mustGit(src, ["tag", `load-${i}`]);
    const tip = (await mustGit(src, ["rev-parse", "HEAD"])).stdout.trim();
    commits.push(tip);
    const tags = commits.map((oid, k) => [`refs/tags/load-${k + 1}`, oid]);
    states.push(canonical([["HEAD", tip], ["refs/heads/main", tip], ...tags]));
  }
  const stateOf = (s) => states.indexOf(s);

  // ls-remote every POLL_MS (start to start) until the clones and pushes are done.
  let running = true;
  const latencies = [];
  const polled = new Set();
  const poller = (async () => {
    while (running) {
      const r = await git(work, ["-c", "protocol.version=2", "ls-remote", repoUrl]);
      latencies.push(r.ms);
      if (r.code !== 0) failures.push(`ls-remote failed: ${r.stderr.trim()}`);
      else {
        const i = stateOf(canonical(parseLsRemote(r.stdout)));
        if (i < 0) failures.push(`ls-remote showed a state the repo never had:\n${r.stdout}`);
        else polled.add(i);
      }
      await new Promise((d) => setTimeout(d, Math.max(0, POLL_MS - r.ms)));
    }
  })();

  const pushTimes = [];
  const pusher = (async () => {
    for (let i = 1; i <= PUSHES; i++) {
      const r = await git(src, ["push", "-q", "--atomic", repoUrl, `${commits[i - 1]}:refs/heads/main`, `refs/tags/load-${i}`]);
      pushTimes.push(r.ms);
      if (r.code !== 0) failures.push(`push ${i} failed: ${r.stderr.trim()}`);
    }
  })();

  const cloneTimes = [];
  const seen = new Array(states.length).fill(0);
  const clones = Array.from({ length: CLONES }, async (_, k) => {
    const dir = join(work, `clone-${k}`);
    const r = await git(work, ["clone", "-q", repoUrl, dir]);
    cloneTimes.push(r.ms);
    if (r.code !== 0) {
      failures.push(`clone ${k} failed: ${r.stderr.trim()}`);
      return;
    }
    const fsck = await git(dir, ["fsck", "--full"]);
    if (fsck.code !== 0 || fsck.stderr.trim() !== "") failures.push(`clone ${k} does not fsck clean:\n${fsck.stderr}`);
    const refs = canonical(await cloneRefs(dir));
    const i = stateOf(refs);
    if (i < 0) failures.push(`clone ${k} has refs the repo never had at once:\n${refs}`);
    else seen[i]++;
  });

  await Promise.all([...clones, pusher]);
  running = false;
  await poller;

  const final = await git(work, ["-c", "protocol.version=2", "ls-remote", repoUrl]);
  if (stateOf(canonical(parseLsRemote(final.stdout))) !== PUSHES) failures.push(`after all pushes ls-remote shows:\n${final.stdout}`);

  const sorted = [...latencies].sort((a, b) => a - b);
  const result = {
    url: repoUrl.replace(/\/\/[^/@]*@/, "//"), // the write token stays out of the output
    clones: CLONES,
    pushes: PUSHES,
    clonesOk: seen.reduce((a, b) => a + b, 0),
    clonesPerState: seen,
    statesSeenByLsRemote: [...polled].sort((a, b) => a - b),
    lsRemote: { polls: latencies.length, maxMs: Math.round(sorted.at(-1) ?? 0), p50Ms: Math.round(percentile(sorted, 50)), p95Ms: Math.round(percentile(sorted, 95)) },
    cloneMaxMs: Math.round(Math.max(0, ...cloneTimes)),
    pushMaxMs: Math.round(Math.max(0, ...pushTimes)),
    failures,
  };
  console.log(`${result.clonesOk}/${CLONES} clones consistent (per state: ${seen.join(", ")}); ${PUSHES} pushes, slowest ${result.pushMaxMs} ms`);
  console.log(`ls-remote: ${result.lsRemote.polls} polls, max ${result.lsRemote.maxMs} ms, p95 ${result.lsRemote.p95Ms} ms, p50 ${result.lsRemote.p50Ms} ms`);
  for (const f of failures) console.log(`FAIL: ${f}`);
  console.log(`RESULT ${JSON.stringify(result)}`);
  return failures.length === 0;
}

try {
  process.exitCode = (await main()) ? 0 : 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
