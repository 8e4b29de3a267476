/**
 * Runs the real git CLI for the model-based history test, with no test framework attached, so the
 * same code runs inside vitest and from `scripts/model-test.mjs` (the bench's `--long` mode).
 * Invariants:
 * - git sees only the config given here: no system or user file, no prompts, C locale.
 * - Dates come from the caller's clock, so one seed always makes the same object ids.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class GitRunner {
  readonly root = mkdtempSync(join(tmpdir(), "edgegit-model-"));
  /** Seconds since the epoch for the next commit; every commit advances it. */
  clock = 1_700_000_000;
  #env: NodeJS.ProcessEnv;
  #config: string[];

  /** `protocol`: the wire protocol version every git command speaks (git's default when unset). */
  constructor(protocol?: 0 | 2) {
    this.#config = protocol === undefined ? [] : ["-c", `protocol.version=${protocol}`];
    this.#env = {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: this.root,
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_TERMINAL_PROMPT: "0",
      GIT_AUTHOR_NAME: "Model Author",
      GIT_AUTHOR_EMAIL: "author@example.com",
      GIT_COMMITTER_NAME: "Model Committer",
      GIT_COMMITTER_EMAIL: "committer@example.com",
      LC_ALL: "C",
    };
  }

  /** Moves the clock on, so the next commit or tag has a date of its own. */
  tick(): void {
    this.clock += 60;
  }

  async git(
    cwd: string,
    args: string[],
    opts: { env?: Record<string, string>; allowFail?: boolean } = {},
  ): Promise<RunResult> {
    const date = `@${this.clock} +0000`;
    const env = { ...this.#env, GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date, ...opts.env };
    const cfg = [
      "-c",
      "gc.auto=0",
      "-c",
      "advice.detachedHead=false",
      "-c",
      "init.defaultBranch=main",
      "-c",
      "uploadpack.allowFilter=true",
      ...this.#config,
    ];
    return new Promise((ok, fail) => {
      const child = execFile(
        "git",
        [...cfg, ...args],
        { cwd, env, maxBuffer: 256 << 20, timeout: 120_000 },
        (err, stdout, stderr) => {
          const r = { code: child.exitCode ?? -1, stdout: String(stdout), stderr: String(stderr) };
          if (err && !opts.allowFail)
            fail(new Error(`git ${args.join(" ")} (in ${cwd}) failed (${r.code}):\n${r.stdout}\n${r.stderr}`));
          else ok(r);
        },
      );
    });
  }

  async out(cwd: string, args: string[]): Promise<string> {
    return (await this.git(cwd, args)).stdout;
  }

  cleanup(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

export function lines(text: string): string[] {
  return text.split("\n").filter((l) => l !== "");
}
