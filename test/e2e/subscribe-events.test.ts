/**
 * Live ref events: every kind of ref move (git push, RPC commit, branch and tag calls, deletes)
 * reaches every subscriber whose prefix matches, once, in commit order, with its source.
 * Invariants:
 * - Seqs strictly increase in arrival order; a prefix filter drops other refs entirely.
 * Spec: protocol/rpc/events.ts.
 */
import { afterAll, describe, expect, it } from "vitest";
import { connect, type RefEvent, type RepoClient } from "../../client/index.ts";
import { baseUrl, commitFile, git, revParse, tinyRepo, uniqueRepoUrl, writeToken, ZERO_OID } from "./git.ts";

const clients: RepoClient[] = [];
afterAll(() => {
  for (const c of clients) c.close();
});

function clientFor(url: string): RepoClient {
  const [owner, repo] = new URL(url).pathname.slice(1).replace(/\.git$/, "").split("/");
  const c = connect(baseUrl(), owner!, repo!, { token: writeToken() });
  clients.push(c);
  return c;
}

const AUTHOR = { name: "Event Maker", email: "events@example.com" };

async function until(what: string, cond: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

type Seen = { ref: string; old: string | null; new: string | null; source: RefEvent["source"] };
const brief = (e: RefEvent): Seen => ({ ref: e.ref, old: e.old, new: e.new, source: e.source });

describe("ref events", () => {
  it("a subscriber sees git pushes and RPC writes, in order, filtered by prefix", async () => {
    const src = await tinyRepo(1);
    const url = uniqueRepoUrl("subscribe-events");
    await git(src, ["push", "-q", url, "main"]);
    const heads: RefEvent[] = [];
    const tags: RefEvent[] = [];
    const everything: RefEvent[] = [];
    const a = clientFor(url);
    const b = clientFor(url);
    await a.subscribe("refs/heads/", (e) => heads.push(e));
    await a.subscribe("refs/tags/", (e) => tags.push(e));
    await b.subscribe("", (e) => everything.push(e));

    const v1 = await revParse(src, "main");
    const v2 = await commitFile(src, "two.txt", "two\n");
    await git(src, ["push", "-q", url, "main"]);
    const v3 = (await a.commit({ branch: "main", expectedParent: v2, message: "rpc", author: AUTHOR, changes: [{ path: "three.txt", content: "3\n" }] })).commit;
    await a.createBranch({ name: "side", from: "main~1" });
    await git(src, ["tag", "pushed-tag", v1]);
    await git(src, ["push", "-q", url, "pushed-tag"]);
    const tagObj = (await b.createTag({ name: "rpc-tag", target: "main", message: "tagged", tagger: AUTHOR })).new;
    await a.deleteBranch({ name: "side" });
    await git(src, ["push", "-q", url, `${v1}:refs/heads/one`, `${v2}:refs/heads/two`]); // one push, two refs
    await git(src, ["push", "-q", url, "--delete", "one"]);

    const expectedHeads: Seen[] = [
      { ref: "refs/heads/main", old: v1, new: v2, source: "git-push" },
      { ref: "refs/heads/main", old: v2, new: v3, source: "commit" },
      { ref: "refs/heads/side", old: null, new: v2, source: "create-branch" },
      { ref: "refs/heads/side", old: v2, new: null, source: "delete-branch" },
      { ref: "refs/heads/one", old: null, new: v1, source: "git-push" },
      { ref: "refs/heads/two", old: null, new: v2, source: "git-push" },
      { ref: "refs/heads/one", old: v1, new: null, source: "git-push" },
    ];
    const expectedTags: Seen[] = [
      { ref: "refs/tags/pushed-tag", old: null, new: v1, source: "git-push" },
      { ref: "refs/tags/rpc-tag", old: null, new: tagObj, source: "create-tag" },
    ];
    await until("all events", () => heads.length >= expectedHeads.length && tags.length >= expectedTags.length && everything.length >= 9);
    await new Promise((r) => setTimeout(r, 200)); // nothing extra trickles in
    expect(heads.map(brief)).toEqual(expectedHeads);
    expect(tags.map(brief)).toEqual(expectedTags);
    const all = [...heads, ...tags].sort((x, y) => x.seq - y.seq);
    expect(everything.map((e) => e.seq)).toEqual(all.map((e) => e.seq));
    expect(everything.map(brief)).toEqual(all.map(brief));
    for (let i = 1; i < everything.length; i++) expect(everything[i]!.seq).toBeGreaterThan(everything[i - 1]!.seq);
    expect(everything.every((e) => e.at instanceof Date && Math.abs(e.at.getTime() - Date.now()) < 600_000)).toBe(true);
    expect(everything.some((e) => e.old === ZERO_OID || e.new === ZERO_OID)).toBe(false);
  });

  it("unsubscribe stops delivery", async () => {
    const src = await tinyRepo(1);
    const url = uniqueRepoUrl("subscribe-unsub");
    await git(src, ["push", "-q", url, "main"]);
    const c = clientFor(url);
    const seen: RefEvent[] = [];
    const sub = await c.subscribe("refs/heads/", (e) => seen.push(e));
    await c.createBranch({ name: "a", from: "main" });
    await until("first event", () => seen.length === 1);
    await sub.unsubscribe();
    await c.createBranch({ name: "b", from: "main" });
    const marker: RefEvent[] = [];
    await c.subscribe("refs/heads/c", (e) => marker.push(e));
    await c.createBranch({ name: "c", from: "main" });
    await until("marker event", () => marker.length === 1); // frames arrive in order: b's would have come first
    expect(seen.map((e) => e.ref)).toEqual(["refs/heads/a"]);
  });
});
