/**
 * RepoDirectory: the one Durable Object (named "repos") that knows which repository names may
 * exist, so the gateway can refuse a read of a missing repo without waking its actor: an actor's
 * first wake creates its SQLite database (the agents SDK makes its tables in its constructor), and
 * a database per name asked for would let anyone fill the disk.
 * Invariants:
 * - A name is added before its actor marks the repo created, so every existing repo is listed;
 *   a listed name may still lack a repo (its first push failed), and its actor answers that.
 * - Names are never removed (there is no repo deletion), so a gateway may cache a "yes" for good.
 * - A look-up writes nothing.
 */
import { DurableObject } from "cloudflare:workers";

export class RepoDirectory extends DurableObject {
  #ready = false;

  #sql(): SqlStorage {
    if (!this.#ready) {
      this.ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS repos (name TEXT PRIMARY KEY) WITHOUT ROWID`);
      this.#ready = true;
    }
    return this.ctx.storage.sql;
  }

  async has(name: string): Promise<boolean> {
    return this.#sql().exec(`SELECT 1 FROM repos WHERE name = ?`, name).toArray().length > 0;
  }

  async add(name: string): Promise<void> {
    this.#sql().exec(`INSERT OR IGNORE INTO repos (name) VALUES (?)`, name);
  }
}

/** The directory's stub; every caller addresses the one instance by this name. */
export function repoDirectory(ns: DurableObjectNamespace<RepoDirectory>): DurableObjectStub<RepoDirectory> {
  return ns.get(ns.idFromName("repos"));
}
