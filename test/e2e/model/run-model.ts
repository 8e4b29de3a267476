/**
 * The model-based history test: a seeded run of ordinary repository traffic against a server, with
 * a local bare repository as the model of truth and git's own upload-pack as the judge.
 * After each operation the server's refs must equal the model's; every `checkEvery` operations a
 * fresh mirror clone, incremental fetches of older mirrors (compared with git's), a shallow clone
 * and a partial clone's checkout of an old commit must all work.
 * A failure throws a `ModelFailure` whose message holds the seed, the operation log and the
 * command that replays it.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { Checks, judgeFetch, judgeRun, type FetchComparison } from "./checks.ts";
import { GitRunner } from "./git-run.ts";
import { HistoryOps, Random } from "./history-ops.ts";

export interface ModelOptions {
  /** The repo's URL on the server under test, with write credentials. */
  serverUrl: string;
  seed: number;
  ops: number;
  /** Operations between full checks. */
  checkEvery: number;
  /** Older mirrors kept; mirror i is brought up to date every i+1 rounds. */
  mirrors?: number;
  log?: (line: string) => void;
  /** The git wire protocol for every command (git's default, v2, when unset). */
  protocol?: 0 | 2;
  /** Leave the work, model and mirror repositories on disk (their folder is logged). */
  keep?: boolean;
}

export interface ModelReport {
  seed: number;
  ops: number;
  fetches: FetchComparison[];
}

export class ModelFailure extends Error {}

export async function runModel(opts: ModelOptions): Promise<ModelReport> {
  const g = new GitRunner(opts.protocol);
  const rnd = new Random(opts.seed);
  // Checks draw from their own generator, so where they fall never changes the operations.
  const pickRnd = new Random(opts.seed ^ 0x5bd1e995);
  const model = join(g.root, "model.git");
  const history = new HistoryOps(g, rnd, { model, server: opts.serverUrl });
  const checks = new Checks(g, model, opts.serverUrl);
  const log: string[] = [];
  const fetches: FetchComparison[] = [];
  const say = (line: string) => {
    log.push(line);
    opts.log?.(line);
  };
  let step = 0;
  try {
    say(await history.init());
    const mirrors: string[] = [];
    for (let i = 0; i < (opts.mirrors ?? 3); i++) mirrors.push(await checks.freshMirror(`mirror-${i}`));
    for (let round = 1; step < opts.ops; round++) {
      for (let i = 0; i < opts.checkEvery && step < opts.ops; i++) {
        step++;
        say(`#${step} ${await history.apply()}`);
        await checks.refsEqual();
      }
      say(`check round ${round} after #${step}`);
      const fresh = await checks.freshMirror(`fresh-${round}`);
      for (let i = 0; i < mirrors.length; i++) {
        if (round % (i + 1) !== 0) continue;
        const c = await checks.fetchMirror(mirrors[i]!);
        fetches.push(c);
        say(
          `  mirror-${i}: ours ${c.ours.objects} objects ${c.ours.bytes} B (${c.ours.resent} resent), git ${c.git.objects} objects ${c.git.bytes} B (${c.git.resent} resent)`,
        );
        judgeFetch(c);
        rmSync(c.before, { recursive: true, force: true });
      }
      rmSync(fresh, { recursive: true, force: true });
      await checks.shallowClone(`shallow-${round}`);
      await checks.partialCheckout(`partial-${round}`, pickRnd.pick(await history.commits()));
    }
    judgeRun(fetches);
    return { seed: opts.seed, ops: step, fetches };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    throw new ModelFailure(
      [
        `model run failed at operation ${step} of seed ${opts.seed}: ${message}`,
        `replay: node scripts/model-test.mjs --seed ${opts.seed} --ops ${step} --check-every ${opts.checkEvery}` +
          (opts.protocol === undefined ? "" : ` --protocol ${opts.protocol}`) +
          " --keep",
        "operations:",
        ...log,
      ].join("\n"),
    );
  } finally {
    if (opts.keep) opts.log?.(`repositories kept in ${g.root}`);
    else g.cleanup();
  }
}
