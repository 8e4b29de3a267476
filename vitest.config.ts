import { cloudflareTest } from "@cloudflare/vitest-plugin";
import agents from "agents/vite";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        // Pure engine and protocol code on bytes; real git is the reference where a test needs one.
        test: { name: "unit", include: ["test/engine/**/*.test.ts", "test/protocol/**/*.test.ts"], environment: "node" },
      },
      {
        // Inside workerd (Miniflare) with the bindings from wrangler.jsonc.
        plugins: [agents(), cloudflareTest({ wrangler: { configPath: "./wrangler.jsonc" } })],
        test: { name: "workers", include: ["test/workers/**/*.test.ts"] },
      },
      {
        // The real git CLI against one shared `wrangler dev` (started by global-setup.ts).
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          environment: "node",
          globalSetup: ["test/e2e/global-setup.ts"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
