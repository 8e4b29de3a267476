/**
 * Headless Chromium with the client library bundled into a page (test/browser/subscribe-page.ts),
 * served from an origin of its own, so the page talks to `wrangler dev` across origins as a web
 * app would.
 * Invariants:
 * - Nothing is mocked: a real browser, the real bundle, the real server.
 */
import { createServer, type Server } from "node:http";
import { resolve } from "node:path";
import { build } from "esbuild";
import { chromium, type Browser, type Page } from "playwright-core";

const CHROMIUM_ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];

export interface BrowserPages {
  /** A new page connected to `owner/repo` on `server`, subscribed to its branches (or failed to). */
  open(server: string, owner: string, repo: string, token?: string): Promise<{ page: Page; errors: string[] }>;
  close(): Promise<void>;
}

export async function startBrowserPages(): Promise<BrowserPages> {
  const bundle = await build({
    entryPoints: [resolve(import.meta.dirname, "../browser/subscribe-page.ts")],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
  });
  const js = bundle.outputFiles[0]!.text;
  const html = `<!doctype html><meta charset="utf-8"><title>edgegit</title><script type="module" src="/page.js"></script>`;
  const pages: Server = createServer((req, res) => {
    const isJs = req.url === "/page.js";
    res.writeHead(200, { "content-type": isJs ? "text/javascript" : "text/html" });
    res.end(isJs ? js : html);
  });
  await new Promise<void>((ok) => pages.listen(0, "127.0.0.1", ok));
  const origin = `http://127.0.0.1:${(pages.address() as { port: number }).port}`;
  const browser: Browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
  return {
    async open(server, owner, repo, token) {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      // The page's own URL (on the page server, not ours) hands it the token, as a web app's login would.
      await page.goto(`${origin}/?${new URLSearchParams({ server, owner, repo, token: token ?? "" })}`);
      await page.waitForFunction(() => window.edgegitPage?.subscribed || window.edgegitPage?.error, undefined, { timeout: 30_000 });
      return { page, errors };
    },
    async close() {
      await browser.close();
      await new Promise((ok) => pages.close(ok));
    },
  };
}
