/**
 * One `wrangler dev` for the whole e2e project; each test file uses its own repo names. Auth is on,
 * as in production: a random admin secret, and a write token over every repo made with it through
 * the admin API, the way a user would get one.
 */
import type { TestProject } from "vitest/node";
import { createToken } from "./admin-api.ts";
import { randomAdminToken, startWrangler, type WranglerServer } from "./wrangler-server.ts";

let server: WranglerServer | undefined;

export async function setup(project: TestProject) {
  const adminToken = randomAdminToken();
  // Every file shares this server and one write token, so the suite is one very busy caller: its
  // budgets are raised far past the defaults (rate-limits.test.ts checks the limits on a server of its own).
  const vars = { CHEAP_READS_LIMIT: "100000", EXPENSIVE_READS_LIMIT: "100000", WRITES_LIMIT: "100000" };
  server = await startWrangler({ adminToken, vars });
  const { token } = await createToken(server.baseUrl, adminToken, { name: "e2e suite", scopes: ["write"] });
  project.provide("baseUrl", server.baseUrl);
  project.provide("adminToken", adminToken);
  project.provide("token", token);
}

export async function teardown() {
  await server?.stop();
}

declare module "vitest" {
  export interface ProvidedContext {
    baseUrl: string;
    /** The server's bootstrap admin secret. */
    adminToken: string;
    /** A `write` token over every repo. */
    token: string;
  }
}
