// Turns git-bench.sh's results TSV into the markdown table `npm run bench` prints: one row per
// workload and operation, edgegit's median next to git http-backend's, their ratio and the target.
// Invariants:
// - A row whose runs failed on either side says so instead of a ratio; nothing is averaged away.
// - Exit status 0 always: the table reports, it does not judge (the "meets" column does).
//
//   node scripts/bench-table.mjs RESULTS.tsv EDGEGIT_TARGET [REFERENCE_TARGET]
import { readFileSync } from "node:fs";

const [tsv, ours, ref = "refserver"] = process.argv.slice(2);
if (!tsv || !ours) {
  console.error("usage: bench-table.mjs RESULTS.tsv EDGEGIT_TARGET [REFERENCE_TARGET]");
  process.exit(2);
}

/** Ratio to http-backend that each operation must stay under (the issue's speed targets). */
const TARGETS = {
  push: 1.5,
  clone: 1.2,
  "clone-bare": 1.2,
  "clone-depth1": 1.2,
  "clone-blobless": 1.2,
  "ls-remote": 2,
  "fetch-noop": 2,
  "push-incr": 1.5,
  "fetch-incr": 1.5,
};

const [head, ...lines] = readFileSync(tsv, "utf8").trim().split("\n");
const cols = head.split("\t");
const rows = lines.map((l) => Object.fromEntries(l.split("\t").map((v, i) => [cols[i], v])));
const key = (r) => `${r.workload}\t${r.operation}`;
const byTarget = (t) => new Map(rows.filter((r) => r.target === t).map((r) => [key(r), r]));
const mine = byTarget(ours);
const theirs = byTarget(ref);

const order = [...new Set(rows.map(key))];
const cell = (r) => (!r ? "—" : r.median_ms === "NA" ? `failed ×${r.failed}` : `${r.median_ms}${r.failed !== "0" ? ` (${r.failed} failed)` : ""}`);
console.log("| workload | operation | edgegit ms (median) | http-backend ms (median) | ratio | target | meets |");
console.log("|---|---|---:|---:|---:|---:|:---:|");
for (const k of order) {
  const [workload, op] = k.split("\t");
  const a = mine.get(k);
  const b = theirs.get(k);
  const ok = a && b && a.median_ms !== "NA" && b.median_ms !== "NA" && a.failed === "0";
  const ratio = ok ? Number(a.median_ms) / Math.max(1, Number(b.median_ms)) : undefined;
  const target = TARGETS[op];
  const meets = ratio === undefined ? "✗" : target === undefined ? "" : ratio <= target ? "✓" : "✗";
  console.log(`| ${workload} | ${op} | ${cell(a)} | ${cell(b)} | ${ratio === undefined ? "—" : `${ratio.toFixed(2)}×`} | ${target ? `≤ ${target}×` : ""} | ${meets} |`);
}
