/**
 * RepoActor: one repository, one SQLite-backed Durable Object on the agents SDK. It owns the refs,
 * HEAD and the object index; packs live in R2. Methods are thin: check, call a plain function, reply.
 * Invariants:
 * - A repository exists once `meta.created` is set (by its first push); reads of a missing one
 *   answer `repo-not-found` and create nothing.
 * - Git replies are byte streams; errors found before streaming are `{ error }` replies.
 */
import { Agent } from "agents";
import { GitError, ObjectReader, fromReadableStream, limitBytes, toReadableStream } from "../../engine/index.ts";
import type { Env } from "../env.ts";
import { R2PackReader } from "../r2/r2-pack-reader.ts";
import { advertiseRefs } from "./advertise.ts";
import { limitsFromEnv, type RepoLimits } from "./limits.ts";
import { receivePack } from "./receive-pack.ts";
import { RepoStore } from "./repo-store.ts";
import { uploadPackV0, uploadPackV2 } from "./upload-pack.ts";
import type { PackContext } from "./pack-response.ts";

export type GitReply = { ok: true; body: ReadableStream<Uint8Array> } | { ok: false; error: { code: string; message: string } };

export class RepoActor extends Agent<Env> {
  #store: RepoStore | undefined;
  #objects: ObjectReader | undefined;

  get store(): RepoStore {
    return (this.#store ??= new RepoStore(this.ctx.storage));
  }

  get objects(): ObjectReader {
    return (this.#objects ??= new ObjectReader(this.store, new R2PackReader(this.env.PACKS)));
  }

  get limits(): RepoLimits {
    return limitsFromEnv(this.env as unknown as Record<string, unknown>);
  }

  #exists(): boolean {
    return this.store.getMeta("created") !== undefined;
  }

  #packContext(): PackContext {
    return { store: this.store, objects: this.objects, packs: new R2PackReader(this.env.PACKS) };
  }

  /** `GET info/refs`. A missing repo advertises nothing to a pusher that may create it. */
  async gitInfoRefs(service: "git-upload-pack" | "git-receive-pack", v2: boolean, mayCreate: boolean): Promise<GitReply> {
    return reply(async () => {
      if (!this.#exists() && !(service === "git-receive-pack" && mayCreate)) throw notFound();
      return (async function* (chunks: Uint8Array[]) {
        yield* chunks;
      })(advertiseRefs(this.store, service, v2));
    });
  }

  async gitUploadPack(body: ReadableStream<Uint8Array>, v2: boolean): Promise<GitReply> {
    return reply(async () => {
      if (!this.#exists()) throw notFound();
      const src = limitBytes(fromReadableStream(body), this.limits.maxNegotiationBytes, "the upload-pack request");
      return v2 ? uploadPackV2(this.#packContext(), src) : uploadPackV0(this.#packContext(), src);
    });
  }

  async gitReceivePack(body: ReadableStream<Uint8Array>, mayCreate: boolean): Promise<GitReply> {
    return reply(async () => {
      if (!this.#exists()) {
        if (!mayCreate) throw notFound();
        this.store.setMeta("created", new Date().toISOString());
      }
      return receivePack(
        {
          store: this.store,
          objects: this.objects,
          bucket: this.env.PACKS,
          repoId: this.ctx.id.toString(),
          limits: this.limits,
          onRefUpdates: () => undefined,
        },
        // The pack has its own limit; this bounds the commands in front of it too.
        limitBytes(fromReadableStream(body), this.limits.maxPackBytes + (16 << 20), "the push"),
      );
    });
  }
}

function notFound() {
  return new GitError("repo-not-found", "repository not found");
}

async function reply(start: () => Promise<AsyncIterable<Uint8Array>>): Promise<GitReply> {
  try {
    return { ok: true, body: toReadableStream(await start()) };
  } catch (e) {
    if (e instanceof GitError) return { ok: false, error: { code: e.code, message: e.message } };
    throw e;
  }
}
