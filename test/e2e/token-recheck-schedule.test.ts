/**
 * The token re-check job ends cleanly: a socket opened with a token starts a 5-second interval
 * schedule in its repo's actor; once no token socket is left, the job cancels itself, and the server
 * logs no error about it, then or later.
 * Invariants:
 * - Runs on a `wrangler dev` of its own (its output and persist directory are this file's alone).
 * - The schedule is read where the agents SDK keeps it, the actor's SQLite (`cf_agents_jobs`), read-only.
 * Spec: README "Auth" (a revoked token ends an open subscription within 5 seconds).
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "../../client/index.ts";
import { createToken } from "./admin-api.ts";
import { git, tinyRepo, withToken } from "./git.ts";
import { randomAdminToken, startWrangler, type WranglerServer } from "./wrangler-server.ts";

let server: WranglerServer;
let token: string;

beforeAll(async () => {
  const adminToken = randomAdminToken();
  server = await startWrangler({ adminToken, logLevel: "log" });
  ({ token } = await createToken(server.baseUrl, adminToken, { name: "recheck", scopes: ["write"] }));
  await git(await tinyRepo(1), ["push", "-q", withToken(`${server.baseUrl}/e2e/recheck.git`, token), "main"]);
});

afterAll(async () => {
  await server?.stop();
});

/** Every `recheckTokens` job in any RepoActor's database of this server. */
function recheckJobs(): { fn: string; time: number }[] {
  const dir = join(server.persistDir, "v3/do/edgegit-RepoActor");
  const jobs: { fn: string; time: number }[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".sqlite"))) {
    const db = new DatabaseSync(join(dir, file), { readOnly: true });
    try {
      const hasTable = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'cf_agents_jobs'").get();
      if (hasTable) jobs.push(...(db.prepare("SELECT fn, time FROM cf_agents_jobs WHERE fn = 'recheckTokens'").all() as { fn: string; time: number }[]));
    } finally {
      db.close();
    }
  }
  return jobs;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("the token re-check schedule", () => {
  it("exists while a token socket is open, cancels itself after the last one closes, and logs no error", async () => {
    const client = connect(server.baseUrl, "e2e", "recheck", { token });
    await client.subscribe("refs/heads/", () => {}); // the socket is open once a call has gone through it
    expect(recheckJobs()).toHaveLength(1);
    await sleep(6_000); // one run with the socket open: it stays scheduled
    expect(recheckJobs()).toHaveLength(1);
    client.close();

    const logFrom = server.output().length;
    // Two intervals and a margin: the first run after the close finds no token socket and cancels.
    await sleep(12_000);
    expect(recheckJobs()).toEqual([]);
    await sleep(6_000); // and nothing runs, or fails, after that
    expect(recheckJobs()).toEqual([]);
    const log = server.output().slice(logFrom);
    expect(log).not.toMatch(/is synchronous|recheckTokens|ERROR/);
  });

  it("a socket opened after the cancel schedules it again", async () => {
    const client = connect(server.baseUrl, "e2e", "recheck", { token });
    try {
      await client.subscribe("refs/heads/", () => {});
      expect(recheckJobs()).toHaveLength(1);
    } finally {
      client.close();
    }
  });
});
