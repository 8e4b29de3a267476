// The model-based history test outside vitest: `npm run bench -- --long` runs thousands of
// operations over several seeds, and a failing seed's replay line points here.
// Usage: node scripts/model-test.mjs [--seed N | --seeds N,N,...] [--ops N] [--check-every N] [--server URL]
//        [--protocol 0|2] [--keep] [--quiet]
// --server is a running server's base URL with write credentials (http://x:TOKEN@host:port); each seed
// gets a repo of its own there. Without it the script starts its own `wrangler dev` (auth on, a write
// token made through the admin API).
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { createToken } from "../test/e2e/admin-api.ts";
import { runModel } from "../test/e2e/model/run-model.ts";
import { randomAdminToken, startWrangler } from "../test/e2e/wrangler-server.ts";

const { values } = parseArgs({
  options: {
    seed: { type: "string" },
    seeds: { type: "string", default: "1" },
    ops: { type: "string", default: "1000" },
    "check-every": { type: "string", default: "25" },
    server: { type: "string" },
    quiet: { type: "boolean", default: false },
    keep: { type: "boolean", default: false },
    protocol: { type: "string" },
  },
});
const seeds = (values.seed ?? values.seeds).split(",").map(Number);
const ops = Number(values.ops);
const checkEvery = Number(values["check-every"]);

let server;
let base = values.server;
if (!base) {
  const adminToken = randomAdminToken();
  server = await startWrangler({ adminToken });
  const { token } = await createToken(server.baseUrl, adminToken, { name: "model test", scopes: ["write"] });
  base = `http://x:${token}@${new URL(server.baseUrl).host}`;
}
let failed = 0;
try {
  for (const seed of seeds) {
    const url = `${base.replace(/\/$/, "")}/model/seed-${seed}-${randomBytes(3).toString("hex")}.git`;
    const started = Date.now();
    try {
      const r = await runModel({
        serverUrl: url,
        seed,
        ops,
        checkEvery,
        keep: values.keep,
        protocol: values.protocol === undefined ? undefined : Number(values.protocol),
        log: values.quiet ? undefined : (l) => console.log(l),
      });
      const ours = r.fetches.reduce((n, f) => n + f.ours.objects, 0);
      const git = r.fetches.reduce((n, f) => n + f.git.objects, 0);
      const bytes = r.fetches.reduce((n, f) => n + f.ours.bytes, 0);
      const gitBytes = r.fetches.reduce((n, f) => n + f.git.bytes, 0);
      const worst = Math.max(0, ...r.fetches.map((f) => (f.git.objects ? f.ours.objects / f.git.objects : 0)));
      console.log(
        `seed ${seed}: ${r.ops} operations, ${r.fetches.length} incremental fetches, ${ours} objects sent vs git's ${git} ` +
          `(worst ${worst.toFixed(2)}x), ${bytes} bytes vs ${gitBytes}, ${((Date.now() - started) / 1000).toFixed(0)} s`,
      );
    } catch (e) {
      failed++;
      console.error(`seed ${seed} FAILED\n${e instanceof Error ? e.message : e}`);
    }
  }
} finally {
  await server?.stop();
}
console.log(`${seeds.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
