// Installs the system packages the tests drive (when missing), runs the strict typecheck and every
// vitest project, then prints the plain `N passed, N failed` line that CI reads. The typecheck
// counts as one test; a failed system install counts as one failure.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };
const node = (args) => spawnSync(process.execPath, args, { stdio: "inherit", env });

let passed = 0;
let failed = 0;
const deps = spawnSync("bash", ["scripts/ensure-system-deps.sh"], { stdio: "inherit", env });
if (deps.status !== 0) failed++;
const types = node(["node_modules/wrangler/bin/wrangler.js", "types", "--include-env=false"]);
const tsc = types.status === 0 ? node(["node_modules/typescript/bin/tsc", "-p", "."]) : types;
if (tsc.status === 0) passed++;
else {
  failed++;
  console.error("typecheck failed");
}

const dir = mkdtempSync(join(tmpdir(), "edgegit-test-"));
const report = join(dir, "report.json");
const run = node(["node_modules/vitest/vitest.mjs", "run", "--reporter=default", "--reporter=json", `--outputFile.json=${report}`, ...process.argv.slice(2)]);
try {
  const r = JSON.parse(readFileSync(report, "utf8"));
  passed += r.numPassedTests;
  failed += r.numFailedTests + (r.numFailedTestSuites ?? 0);
} catch {
  failed += 1; // no report: vitest itself failed
}
rmSync(dir, { recursive: true, force: true });
console.log(`${passed} passed, ${failed} failed`);
process.exit(run.status !== 0 || failed > 0 ? 1 : 0);
