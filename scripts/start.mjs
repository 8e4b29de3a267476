// Starts edgegit on 127.0.0.1:8787 with local storage (SQLite and R2 under .wrangler/state).
// On first run it writes .dev.vars with a fresh random admin token (wrangler's local secrets file)
// and prints how to use it; it never falls back to a default secret.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";

const port = process.env.PORT ?? "8787";
const vars = existsSync(".dev.vars") ? readFileSync(".dev.vars", "utf8") : "";
if (!/^ADMIN_TOKEN=/m.test(vars)) {
  const token = `egt_${randomBytes(32).toString("base64url")}`;
  writeFileSync(".dev.vars", `${vars}${vars && !vars.endsWith("\n") ? "\n" : ""}ADMIN_TOKEN=${token}\n`, { mode: 0o600 });
  console.log(`Wrote a new admin token to .dev.vars. Create a push token with it:
  curl -s -X POST http://127.0.0.1:${port}/admin/tokens -H "Authorization: Bearer $(sed -n 's/^ADMIN_TOKEN=//p' .dev.vars)" \\
       -d '{"name":"me","scopes":["write"]}'
then push with it: git push http://me:<token>@127.0.0.1:${port}/alice/demo.git main
`);
}

const child = spawn(process.execPath, ["node_modules/wrangler/bin/wrangler.js", "dev", "--ip", "127.0.0.1", "--port", port, ...process.argv.slice(2)], {
  stdio: "inherit",
  env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
});
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig));
child.on("exit", (code) => process.exit(code ?? 0));
