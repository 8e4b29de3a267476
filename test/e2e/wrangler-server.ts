/**
 * Starts and stops a real `wrangler dev` for tests: a free port, its own persist dir, its own
 * process group (killing `npx` alone would leave workerd running).
 * Invariants:
 * - Secrets come only from the options: each server reads its own env file, never the checkout's
 *   `.dev.vars`, so a developer's admin token can't leak into (or open up) a test server.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = net.createServer();
    s.once("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => ok(port));
    });
  });
}

export interface WranglerServer {
  baseUrl: string;
  port: number;
  /** wrangler's DevTools inspector for the Worker isolate (one client at a time). */
  inspectorPort: number;
  persistDir: string;
  child: ChildProcess;
  /** Everything the server printed so far. */
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface StartOptions {
  persistDir?: string;
  vars?: Record<string, string>;
  /** The bootstrap admin secret (`ADMIN_TOKEN`), passed as a secret; none means writes are disabled. */
  adminToken?: string;
  /** wrangler's log level; "log" shows every line the Worker prints (default "warn"). */
  logLevel?: "warn" | "info" | "log" | "debug";
  port?: number;
}

/** A fresh random admin secret, shaped like the tokens the server issues. */
export function randomAdminToken(): string {
  return `egt_${randomBytes(32).toString("base64url")}`;
}

export async function startWrangler(opts: StartOptions = {}): Promise<WranglerServer> {
  const port = opts.port ?? (await freePort());
  const inspector = await freePort();
  const persistDir = opts.persistDir ?? mkdtempSync(join(tmpdir(), "edgegit-state-"));
  const root = resolve(import.meta.dirname, "../..");
  const vars = Object.entries(opts.vars ?? {}).flatMap(([k, v]) => ["--var", `${k}:${v}`]);
  // An explicit --env-file makes wrangler skip .dev.vars; an empty one means no secrets at all.
  const secretsDir = mkdtempSync(join(tmpdir(), "edgegit-secrets-"));
  const envFile = join(secretsDir, "secrets.env");
  writeFileSync(envFile, opts.adminToken ? `ADMIN_TOKEN=${opts.adminToken}\n` : "", { mode: 0o600 });
  const child = spawn(
    process.execPath,
    [join(root, "node_modules/wrangler/bin/wrangler.js"), "dev", "--ip", "127.0.0.1", "--port", String(port),
      "--inspector-port", String(inspector), "--persist-to", persistDir, "--log-level", opts.logLevel ?? "warn", "--show-interactive-dev-session=false", "--env-file", envFile, ...vars],
    {
      cwd: root,
      // Every wrangler on a machine shares one dev registry (~/.config/.wrangler/registry) by worker
      // name, so two servers named "edgegit" can reach each other's Durable Objects: give each its own.
      env: {
        ...process.env,
        WRANGLER_SEND_METRICS: "false",
        CLOUDFLARE_CF_FETCH_ENABLED: "false",
        CI: "true",
        NO_COLOR: "1",
        WRANGLER_REGISTRY_PATH: mkdtempSync(join(tmpdir(), "edgegit-registry-")),
      },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    },
  );
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const baseUrl = `http://127.0.0.1:${port}`;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited ${child.exitCode}:\n${out}`);
    try {
      const res = await fetch(`${baseUrl}/healthz`);
      await res.arrayBuffer();
      if (res.ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`wrangler dev not ready after 60 s:\n${out}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    baseUrl,
    port,
    inspectorPort: inspector,
    persistDir,
    child,
    output: () => out,
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.pid) {
        try {
          process.kill(-child.pid, signal);
        } catch {
          /* already gone */
        }
        await exited;
      }
      rmSync(secretsDir, { recursive: true, force: true });
      if (!opts.persistDir) rmSync(persistDir, { recursive: true, force: true });
    },
  };
}
