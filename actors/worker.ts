/** The Worker entry: wrangler's one default export. Routes live in actors/gateway/. */
export { RepoActor } from "./repo/repo-actor.ts";
export { PackWorker } from "./pack-worker/pack-worker.ts";
export { TokenStore } from "./auth/token-store.ts";
export { RepoDirectory } from "./repo/repo-directory.ts";
import { handle } from "./gateway/router.ts";
import type { Env } from "./env.ts";

export default {
  fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    return handle(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
