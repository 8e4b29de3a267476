import { cloudflareTest } from "@cloudflare/vitest-plugin";
import agents from "agents/vite";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        // Pure engine and protocol code on bytes; real git is the reference where a test needs one.
        // Timeouts are generous because CI machines are small and shared: a test fails on what it
        // asserts, not on a slow moment.
        test: { name: "unit", include: ["test/engine/**/*.test.ts", "test/protocol/**/*.test.ts"], environment: "node", testTimeout: 30_000 },
      },
      {
        // Inside workerd (Miniflare) with the bindings from wrangler.jsonc.
        plugins: [agents(), cloudflareTest({ wrangler: { configPath: "./wrangler.jsonc" } })],
        test: { name: "workers", include: ["test/workers/**/*.test.ts"], testTimeout: 30_000 },
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
