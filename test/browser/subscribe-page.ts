/**
 * The page the browser test loads: connects with the client library (bundled by esbuild), subscribes
 * to the repository's branches, and records what arrives on `window.edgegitPage` for the test to read.
 * Invariants:
 * - Everything it exposes is plain data (events with ISO dates), so page.evaluate can return it.
 */
import { connect, type RefEvent, type RepoClient } from "../../client/index.ts";

interface PageState {
  client: RepoClient;
  subscribed: boolean;
  error: string | null;
  events: { seq: number; ref: string; old: string | null; new: string | null; source: string; at: string }[];
}

declare global {
  interface Window {
    edgegitPage: PageState;
  }
}

const params = new URLSearchParams(location.search);
const token = params.get("token");
const client = connect(params.get("server")!, params.get("owner")!, params.get("repo")!, token ? { token } : {});
const state: PageState = { client, subscribed: false, error: null, events: [] };
window.edgegitPage = state;

const record = (e: RefEvent) => state.events.push({ seq: e.seq, ref: e.ref, old: e.old, new: e.new, source: e.source, at: e.at.toISOString() });
client.subscribe("refs/heads/", record).then(
  () => (state.subscribed = true),
  (err: unknown) => (state.error = String(err)),
);
