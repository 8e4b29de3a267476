/** One `wrangler dev` for the whole e2e project; each test file uses its own repo names. */
import type { TestProject } from "vitest/node";
import { startWrangler, type WranglerServer } from "./wrangler-server.ts";

let server: WranglerServer | undefined;

export async function setup(project: TestProject) {
  server = await startWrangler();
  project.provide("baseUrl", server.baseUrl);
}

export async function teardown() {
  await server?.stop();
}

declare module "vitest" {
  export interface ProvidedContext {
    baseUrl: string;
  }
}
