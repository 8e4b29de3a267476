/**
 * No event is lost across a disconnect: a subscriber whose socket drops during three pushes gets
 * all three when the client reconnects on its own (resuming from its last seq), a new client given
 * `since` replays what it missed, and a resume point the log cannot serve is reported as a gap.
 * Invariants:
 * - Replayed and live events together are exactly the ref_log rows after the resume point, in order.
 * Spec: protocol/rpc/events.ts.
 */
import { afterAll, describe, expect, it } from "vitest";
import { connect, type RefEvent, type RepoClient } from "../../client/index.ts";
import { baseUrl, commitFile, git, tinyRepo, uniqueRepoUrl, writeToken } from "./git.ts";
import { freePort } from "./wrangler-server.ts";

const clients: RepoClient[] = [];
afterAll(() => {
  for (const c of clients) c.close();
});

function names(url: string): [string, string] {
  const [owner, repo] = new URL(url).pathname.slice(1).replace(/\.git$/, "").split("/");
  return [owner!, repo!];
}

async function until(what: string, cond: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A WebSocket whose connections the test can cut, and whose reconnects it can hold off. */
function flakyWebSocket(deadPort: number) {
  const state = { blocked: false, opened: [] as WebSocket[] };
  class Flaky extends WebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      const target = new URL(url);
      if (state.blocked) target.port = String(deadPort); // nothing listens there: the attempt fails
      super(target, protocols);
      this.addEventListener("open", () => state.opened.push(this));
    }
  }
  return { Flaky, state };
}

describe("resume after a disconnect", () => {
  it("a subscriber cut off during three pushes catches up when it reconnects", async () => {
    const src = await tinyRepo(1);
    const url = uniqueRepoUrl("subscribe-resume");
    await git(src, ["push", "-q", url, "main"]);
    const { Flaky, state } = flakyWebSocket(await freePort());
    const client = connect(baseUrl(), ...names(url), { WebSocket: Flaky, reconnect: { minDelay: 100, maxDelay: 400, connectionTimeout: 1000 } });
    clients.push(client);
    const seen: RefEvent[] = [];
    await client.subscribe("refs/heads/", (e) => seen.push(e));
    const before = await commitFile(src, "before.txt", "before\n");
    await git(src, ["push", "-q", url, "main"]);
    await until("the first event", () => seen.length === 1);
    expect(seen[0]!.new).toBe(before);

    state.blocked = true;
    state.opened.at(-1)!.close(); // the client did not ask for this: it will try to reconnect
    const pushed: string[] = [];
    for (const n of [1, 2, 3]) {
      pushed.push(await commitFile(src, `missed-${n}.txt`, `missed ${n}\n`));
      await git(src, ["push", "-q", url, "main"]);
    }
    await new Promise((r) => setTimeout(r, 500));
    expect(seen).toHaveLength(1); // nothing arrives while disconnected

    const opens = state.opened.length;
    state.blocked = false;
    await until("the missed events", () => seen.length >= 4);
    expect(state.opened.length).toBeGreaterThan(opens); // it reconnected by itself
    const after = await commitFile(src, "after.txt", "after\n");
    await git(src, ["push", "-q", url, "main"]);
    await until("a live event after the resume", () => seen.length >= 5);
    await new Promise((r) => setTimeout(r, 200));
    expect(seen.map((e) => e.new)).toEqual([before, ...pushed, after]);
    expect(seen.map((e) => e.old)).toEqual([seen[0]!.old, before, ...pushed]);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.seq).toBe(seen[i - 1]!.seq + 1);
  });

  it("a new client subscribing with `since` replays the events after it, then goes live", async () => {
    const src = await tinyRepo(1);
    const url = uniqueRepoUrl("subscribe-since");
    await git(src, ["push", "-q", url, "main"]);
    const first = connect(baseUrl(), ...names(url), { token: writeToken() });
    clients.push(first);
    const early: RefEvent[] = [];
    const sub = await first.subscribe("refs/heads/", (e) => early.push(e));
    await first.createBranch({ name: "one", from: "main" });
    await until("one event", () => early.length === 1);
    const resumeFrom = sub.lastSeq!;
    first.close();

    const writer = connect(baseUrl(), ...names(url), { token: writeToken() });
    clients.push(writer);
    await writer.createBranch({ name: "two", from: "main" });
    await writer.createTag({ name: "not-a-head", target: "main" });
    await writer.createBranch({ name: "three", from: "main" });

    const later = connect(baseUrl(), ...names(url));
    clients.push(later);
    const replayed: RefEvent[] = [];
    await later.subscribe("refs/heads/", (e) => replayed.push(e), { since: resumeFrom });
    expect(replayed.map((e) => [e.ref, e.source])).toEqual([
      ["refs/heads/two", "create-branch"],
      ["refs/heads/three", "create-branch"],
    ]); // replayed before subscribe resolved; the tag is filtered out
    await writer.createBranch({ name: "four", from: "main" });
    await until("the live event", () => replayed.length === 3);
    expect(replayed[2]!.ref).toBe("refs/heads/four");
  });

  it("a resume point from another life of the repository is reported as a gap", async () => {
    const src = await tinyRepo(1);
    const url = uniqueRepoUrl("subscribe-gap");
    await git(src, ["push", "-q", url, "main"]);
    const c = connect(baseUrl(), ...names(url), { token: writeToken() });
    clients.push(c);
    let gaps = 0;
    const seen: RefEvent[] = [];
    const sub = await c.subscribe("", (e) => seen.push(e), { since: 1_000_000, onGap: () => gaps++ });
    expect(gaps).toBe(1);
    expect(sub.lastSeq).toBe(1); // the push that created the repo
    await c.createBranch({ name: "x", from: "main" });
    await until("an event after the gap", () => seen.length === 1);
    expect(seen[0]!.seq).toBe(2);
  });
});
