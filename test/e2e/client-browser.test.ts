/**
 * The client library in a real browser: headless Chromium loads a page with the client bundled by
 * esbuild, subscribes over WebSocket, calls RPCs, and sees a `git push` made from the outside.
 * Invariants:
 * - Nothing is mocked: the page talks to the shared `wrangler dev` across origins, as a web app would.
 * Spec: the client's README example.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { startBrowserPages, type BrowserPages } from "./browser-page.ts";
import { baseUrl, commitFile, git, repoNames, revParse, tinyRepo, uniqueRepoUrl, writeToken } from "./git.ts";

let pages: BrowserPages;

beforeAll(async () => {
  pages = await startBrowserPages();
});

afterAll(async () => {
  await pages?.close();
});

it("a page subscribes, a git push happens, the page sees the event; RPCs work from the page", async () => {
  const src = await tinyRepo(1);
  const url = uniqueRepoUrl("client-browser");
  await git(src, ["push", "-q", url, "main"]);
  const [owner, repo] = repoNames(url);
  // The page commits, so it gets the write token, as a web app would from its user.
  const { page, errors } = await pages.open(baseUrl(), owner, repo, writeToken());
  expect(await page.evaluate(() => window.edgegitPage.error)).toBeNull();

  const old = await revParse(src, "main");
  const next = await commitFile(src, "from-outside.txt", "pushed while the page watches\n");
  await git(src, ["push", "-q", url, "main"]);
  await page.waitForFunction(() => window.edgegitPage.events.length >= 1, undefined, { timeout: 30_000 });
  const events = await page.evaluate(() => window.edgegitPage.events);
  expect(events).toHaveLength(1);
  expect(events[0]).toMatchObject({ ref: "refs/heads/main", old, new: next, source: "git-push" });
  expect(Number.isNaN(Date.parse(events[0]!.at))).toBe(false);

  // RPCs from the page, bytes included: a commit made in the browser lands in git.
  expect(await page.evaluate(() => window.edgegitPage.client.resolve({ rev: "main" }).then((r) => r.oid))).toBe(next);
  const made = await page.evaluate(
    (parent) =>
      window.edgegitPage.client
        .commit({
          branch: "main",
          expectedParent: parent,
          message: "committed from a browser",
          author: { name: "Browser User", email: "browser@example.com" },
          changes: [{ path: "bytes.bin", content: new Uint8Array([0, 128, 255]) }],
        })
        .then((r) => r.commit),
    next,
  );
  await page.waitForFunction(() => window.edgegitPage.events.length >= 2, undefined, { timeout: 30_000 });
  expect((await page.evaluate(() => window.edgegitPage.events))[1]).toMatchObject({ new: made, source: "commit" });
  await git(src, ["pull", "-q", "--ff-only", url, "main"]);
  expect(new Uint8Array((await git(src, ["cat-file", "blob", "HEAD:bytes.bin"])).bytes)).toEqual(new Uint8Array([0, 128, 255]));
  const typed = await page.evaluate(() => window.edgegitPage.client.resolve({ rev: "no-such-branch" }).then(() => null, (e: { code: string }) => e.code));
  expect(typed).toBe("rev-not-found");
  expect(errors).toEqual([]);
  await page.close();
});
