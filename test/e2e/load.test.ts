/**
 * Runs scripts/load-test.mjs small against the shared server: concurrent clones while pushes land,
 * with ls-remote polled throughout.
 * Invariants:
 * - Every clone fscks clean and shows one state the repo passed through, never a mix of two.
 * - Every polled ls-remote shows such a state, and none takes longer than LS_REMOTE_MAX_MS.
 * Spec: git-push(1) "--atomic"; gitprotocol-http(5).
 */
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { baseUrl, withToken } from "./git.ts";

const CLONES = 8;
const PUSHES = 2;
const LS_REMOTE_MAX_MS = 10_000;

interface LoadResult {
  clones: number;
  pushes: number;
  clonesOk: number;
  clonesPerState: number[];
  statesSeenByLsRemote: number[];
  lsRemote: { polls: number; maxMs: number };
  failures: string[];
}

function runLoadTest(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const script = resolve(import.meta.dirname, "../../scripts/load-test.mjs");
  return new Promise((ok) => {
    const child = execFile(process.execPath, [script, ...args], { timeout: 110_000, maxBuffer: 16 << 20 }, (_err, stdout, stderr) =>
      ok({ code: child.exitCode ?? -1, stdout, stderr }),
    );
  });
}

describe("load", () => {
  it(`${CLONES} concurrent clones while ${PUSHES} pushes land`, async () => {
    // The script pushes: its server URL carries the write token, as a user's would.
    const run = await runLoadTest(["--clones", String(CLONES), "--pushes", String(PUSHES), "--url", withToken(baseUrl())]);
    const line = run.stdout.split("\n").find((l) => l.startsWith("RESULT "));
    expect(line, `no RESULT line:\n${run.stdout}\n${run.stderr}`).toBeDefined();
    const result = JSON.parse(line!.slice(7)) as LoadResult;

    expect(result.failures).toEqual([]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(result.clonesOk).toBe(CLONES);
    expect(result.clonesPerState).toHaveLength(PUSHES + 1);
    expect(result.lsRemote.polls).toBeGreaterThan(0);
    expect(result.lsRemote.maxMs).toBeLessThan(LS_REMOTE_MAX_MS);
  });
});
