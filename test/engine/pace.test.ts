/**
 * Pacer: long grep and diff batches let queued timers (standing in for other requests on the same
 * thread) run between slices, and a batch without a pacer keeps the thread to itself.
 */
import { describe, expect, it } from "vitest";
import { Pacer, utf8, type Oid } from "../../engine/index.ts";
import { DIFF_SLICE_UNITS, diffBatch } from "../../engine/diff/index.ts";
import { GREP_SLICE_UNITS, compileGrepPattern, grepBatch } from "../../engine/grep/index.ts";

const A = "a".repeat(40) as Oid;
const B = "b".repeat(40) as Oid;
const text = (seed: number) => utf8(Array.from({ length: 20_000 }, (_, i) => `line ${i * seed} of some ordinary source text\n`).join(""));

/** How many 0 ms timers fired while `work` ran. */
async function timersDuring(work: () => Promise<unknown>): Promise<number> {
  let fired = 0;
  let running = true;
  const tick = () => {
    if (!running) return;
    fired++;
    setTimeout(tick, 0);
  };
  setTimeout(tick, 0);
  await work();
  running = false;
  return fired;
}

describe("Pacer", () => {
  it("yields once per slice of counted work", async () => {
    const pace = new Pacer(10);
    expect(pace.tick(4)).toBeUndefined();
    expect(pace.tick(5)).toBeUndefined();
    await expect(pace.tick(1)).resolves.toBeUndefined();
    expect(pace.tick(9)).toBeUndefined();
  });

  it("lets timers run during a paced grep, and none during an unpaced one", async () => {
    const vm = compileGrepPattern("(o|r|d)*[0-9]{3}x", { ignoreCase: false, fixed: false });
    const run = (pace?: Pacer) => grepBatch(new Map([[A, text(7)]]), [{ path: "f", oid: A }], vm,
      { maxMatches: 10, maxLineChars: 100, budget: { steps: 1e9 }, ...(pace ? { pace } : {}) });
    expect(await timersDuring(() => run())).toBe(0);
    expect(await timersDuring(() => run(new Pacer(GREP_SLICE_UNITS)))).toBeGreaterThan(10);
  });

  it("lets timers run between the files of a paced diff", async () => {
    const lines = Array.from({ length: 20_000 }, (_, i) => `line ${i} of some ordinary source text\n`);
    const edited = lines.map((l, i) => (i % 50 === 0 ? `changed ${l}` : l));
    const objects = new Map([[A, utf8(lines.join(""))], [B, utf8(edited.join(""))]]);
    const pairs = Array.from({ length: 8 }, () => ({ oldOid: A, newOid: B }));
    const run = (pace?: Pacer) => diffBatch(objects, pairs, { context: 3, maxFileBytes: 1 << 22, budget: { steps: 1e9 }, ...(pace ? { pace } : {}) });
    expect(await timersDuring(() => run())).toBe(0);
    expect(await timersDuring(() => run(new Pacer(DIFF_SLICE_UNITS)))).toBeGreaterThan(2);
  });
});
