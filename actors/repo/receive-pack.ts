/**
 * git-receive-pack for one repository: reads the ref commands, streams the pack into R2 while
 * indexing it, checks it in full, then moves refs by compare-and-swap in one transaction.
 * Invariants:
 * - No ref moves unless the pack's trailer, every object's id, every delta and the connectivity of
 *   every new object have been checked.
 * - A refused or failed push leaves its pack `garbage` (recorded for GC) and no index rows.
 * - Per-object state lives in the push's SQLite staging rows (push-staging.ts), not in memory:
 *   memory is the scan's and indexer's budgets and one R2 part, whatever the object count.
 * - Each ref moves only if its current value equals the command's old id; with `atomic`, all move
 *   or none does.
 * Spec: gitprotocol-pack(5), "Pushing Data To a Server"; gitprotocol-capabilities(5).
 */
import {
  ByteReader, GitError, PackIndexer, ZERO_OID, decodeCommit, decodeTag, inspectTree, referencedIds, scanPack,
  utf8, concatBytes, writePack, type Oid, type ObjectReader, type ScannedTrailer,
} from "../../engine/index.ts";
import { checkRefName, parseReceivePackRequest, receivePackCapabilities, unadvertisedCapability, sideBand, writeReportStatus, PKT_FLUSH, type RefStatus, type ReceivePackRequest } from "../../protocol/index.ts";
import { R2_LAYOUT } from "../r2/layout.ts";
import { R2PackReader } from "../r2/r2-pack-reader.ts";
import { R2PackUpload } from "../r2/r2-pack-upload.ts";
import type { RepoLimits } from "./limits.ts";
import { PushStaging } from "./push-staging.ts";
import type { RepoStore } from "./repo-store.ts";
import { chooseHead } from "./head.ts";
import { markStranded } from "./reachability.ts";

export interface ReceivePackContext {
  store: RepoStore;
  objects: ObjectReader;
  bucket: R2Bucket;
  repoId: string;
  limits: RepoLimits;
  /** Told of every ref that moved, after the transaction. */
  onRefUpdates(updates: { ref: string; old: Oid; new: Oid; seq: number }[]): void;
}

/** Parses the commands (errors here are HTTP 4xx), then returns the streamed response. */
export async function receivePack(ctx: ReceivePackContext, body: AsyncIterable<Uint8Array>): Promise<AsyncGenerator<Uint8Array>> {
  const reader = new ByteReader(body);
  const req = await parseReceivePackRequest(reader);
  const unknown = unadvertisedCapability(req.capabilities, receivePackCapabilities());
  if (unknown) throw new GitError("capability-not-advertised", `capability ${JSON.stringify(unknown.slice(0, 40))} was not advertised`);
  if (req.commands.length === 0 && (await reader.fill(1)))
    throw new GitError("receive-pack-request-malformed", "data after an empty command list");
  return respond(ctx, reader, req);
}

async function* respond(ctx: ReceivePackContext, reader: ByteReader, req: ReceivePackRequest): AsyncGenerator<Uint8Array> {
  const sideBandData = req.capabilities.has("side-band-64k");
  const progress = sideBandData && !req.capabilities.has("quiet");
  const say = (msg: string) => (progress ? concatBytes(sideBand(2, utf8(msg))) : new Uint8Array(0));
  const reportStatus = req.capabilities.has("report-status") || req.capabilities.has("report-status-v2");

  let unpack = "ok";
  let ingested: Ingested | undefined;
  if (req.commands.some((c) => c.newOid !== ZERO_OID)) {
    try {
      ingested = await ingest(ctx, reader, req);
      yield say(`Indexed ${ingested.objects} objects.\n`);
    } catch (e) {
      unpack = e instanceof GitError ? `${e.code} ${e.message}` : `internal error`;
      if (!(e instanceof GitError)) console.error("receive-pack ingest failed", e);
      await reader.cancel();
    }
  } else if (await reader.fill(1)) {
    unpack = "unexpected data after the commands";
  }

  let statuses: RefStatus[];
  try {
    statuses = unpack === "ok" ? applyCommands(ctx, req, ingested) : req.commands.map((c) => ({ ref: c.ref, ok: false as const, reason: "unpacker error" }));
  } finally {
    ingested?.staging.drop();
  }
  if (!reportStatus) return;
  const report = writeReportStatus({ unpack, refs: statuses });
  if (sideBandData) {
    yield concatBytes(sideBand(1, report));
    yield PKT_FLUSH;
  } else yield report;
}

interface Ingested {
  packId: number;
  /** The pack's objects, commits and tags, checked and ready to index. */
  staging: PushStaging;
  objects: number;
  trailer: ScannedTrailer;
}

async function ingest(ctx: ReceivePackContext, reader: ByteReader, req: ReceivePackRequest): Promise<Ingested> {
  const { store, limits } = ctx;
  const key = R2_LAYOUT.pack(ctx.repoId, crypto.randomUUID());
  const packId = store.addPack(key, "staging", Date.now());
  const upload = new R2PackUpload(ctx.bucket, key, (uploadId) => store.setPackUpload(packId, uploadId));
  const staging = new PushStaging(store, packId, limits.pushEntriesInMemory);
  const indexer = new PackIndexer<number>(
    {
      staging,
      readExisting: (oid) => ctx.objects.read(oid),
      readPackRange: async (offset, length) => {
        const obj = await ctx.bucket.get(key, { range: { offset, length } });
        if (!obj) throw new GitError("pack-missing", "stored pack vanished while indexing");
        return new Uint8Array(await obj.arrayBuffer());
      },
      onObject(entry, data) {
        if (data === undefined) return; // a blob the scan only hashed: it names nothing
        if (entry.type === "tree") {
          const reason = inspectTree(data, (oid, type) => staging.link(oid, type));
          if (reason) throw new GitError("object-invalid", `tree ${entry.oid}: ${reason}`);
          return;
        }
        if (entry.type === "commit") {
          const c = decodeCommit(data);
          staging.commit(entry.offset, { oid: entry.oid, tree: c.tree, parents: c.parents, time: c.committer.timestamp });
        } else if (entry.type === "tag") {
          const t = decodeTag(data);
          staging.tag(entry.oid, t.object, t.type);
        }
        for (const r of referencedIds(entry.type, data)) staging.link(r.oid, r.type);
      },
    },
    { maxDeltaDepth: limits.maxDeltaDepth, maxObjectSize: limits.maxObjectBytes },
  );
  try {
    let trailer: ScannedTrailer | undefined;
    const scan = scanPack(reader, {
      maxObjects: limits.maxObjects,
      maxObjectSize: limits.maxObjectBytes,
      maxInflatedBytes: limits.maxInflatedBytes,
      onBytes: async (b) => {
        if (upload.bytes + b.length > limits.maxPackBytes)
          throw new GitError("pack-too-large", `pack exceeds the limit of ${limits.maxPackBytes} bytes`);
        indexer.remember(b);
        await upload.write(b);
      },
    });
    for await (const item of scan) {
      if (item.kind === "entry") await indexer.add(item);
      else trailer = item;
    }
    await upload.complete();
    const objects = await indexer.finish();
    // New ref tips must exist too, whatever their type.
    for (const c of req.commands) if (c.newOid !== ZERO_OID) staging.link(c.newOid, "unknown");
    staging.checkConnectivity();
    if (indexer.thinBases.size) await storeCompletion(ctx, packId, [...indexer.thinBases]);
    return { packId, staging, objects, trailer: trailer! };
  } catch (e) {
    await upload.abort();
    staging.drop();
    const reason = e instanceof GitError ? e.code : "internal";
    store.transact(() => {
      store.setPackState(packId, "garbage", { reason });
      store.setPackFamilyState(packId, "garbage", reason);
    });
    throw e;
  }
}

/**
 * Stores the bases a thin pack's deltas need, as whole objects, in a companion pack: the pushed
 * pack stays byte for byte as received, and the pair resolves without the rest of the repository.
 */
async function storeCompletion(ctx: ReceivePackContext, thinPackId: number, bases: Oid[]) {
  const key = R2_LAYOUT.pack(ctx.repoId, crypto.randomUUID());
  const id = ctx.store.addPack(key, "staging", Date.now(), thinPackId);
  const locations = [...ctx.store.locateSync(bases).values()];
  const upload = new R2PackUpload(ctx.bucket, key);
  const pack = writePack(locations, new R2PackReader(ctx.bucket), {
    ofsDelta: true,
    clientHas: () => false,
    readObject: (loc) => ctx.objects.readAt(loc),
  });
  for await (const chunk of pack) await upload.write(chunk);
  await upload.complete();
  ctx.store.setPackState(id, "staging", { bytes: upload.bytes, objects: locations.length });
}

/** One transaction: index rows, pack state and every ref's compare-and-swap. */
function applyCommands(ctx: ReceivePackContext, req: ReceivePackRequest, ingested: Ingested | undefined): RefStatus[] {
  const { store } = ctx;
  const atomic = req.capabilities.has("atomic");
  const moved: { ref: string; old: Oid; new: Oid; seq: number }[] = [];
  const statuses = store.transact(() => {
    const typeOf = (oid: Oid) => (ingested ? ingested.staging.typeOf(oid) : store.locateSync([oid]).get(oid)?.type);
    const seen = new Set<string>();
    let statuses: RefStatus[] = req.commands.map((c): RefStatus => {
      const bad = checkRefName(c.ref);
      if (bad) return { ref: c.ref, ok: false, reason: `funny refname: ${bad}` };
      if (seen.has(c.ref)) return { ref: c.ref, ok: false, reason: "duplicate ref in one push" };
      seen.add(c.ref);
      const current = store.ref(c.ref) ?? ZERO_OID;
      if (current !== c.oldOid) return { ref: c.ref, ok: false, reason: c.oldOid === ZERO_OID ? "already exists (fetch first)" : "stale old id (fetch first)" };
      if (c.newOid !== ZERO_OID && c.ref.startsWith("refs/heads/") && typeOf(c.newOid) !== "commit")
        return { ref: c.ref, ok: false, reason: "a branch must point to a commit" };
      return { ref: c.ref, ok: true };
    });
    if (atomic && statuses.some((s) => !s.ok))
      statuses = statuses.map((s) => (s.ok ? { ref: s.ref, ok: false, reason: "atomic push failed" } : s));
    const anyMoves = statuses.some((s) => s.ok);

    if (ingested) {
      if (anyMoves) {
        ingested.staging.index();
        store.setPackState(ingested.packId, "live", { bytes: ingested.trailer.bytes, objects: ingested.objects });
        store.setPackFamilyState(ingested.packId, "live");
      } else {
        store.setPackState(ingested.packId, "garbage", { reason: "refused" });
        store.setPackFamilyState(ingested.packId, "garbage", "refused");
      }
    }
    // Pushed objects no moved ref reaches: those of refused commands, or ones no object names.
    let stranded = !!ingested && anyMoves && (statuses.some((s) => !s.ok) || ingested.staging.hasOrphans());
    const now = Date.now();
    req.commands.forEach((c, i) => {
      if (!statuses[i]!.ok) return;
      if (c.newOid === ZERO_OID || (c.oldOid !== ZERO_OID && !(typeOf(c.oldOid) === "commit" && typeOf(c.newOid) === "commit" && store.isAncestor(c.oldOid, c.newOid))))
        stranded = true; // a delete or a forced update may strand objects
      store.setRef(c.ref, c.newOid === ZERO_OID ? null : c.newOid);
      moved.push({ ref: c.ref, old: c.oldOid, new: c.newOid, seq: store.appendRefLog(c.ref, c.oldOid, c.newOid, "git-push", now) });
    });
    if (stranded) markStranded(store);
    if (moved.length) chooseHead(store);
    return statuses;
  });
  if (moved.length) ctx.onRefUpdates(moved);
  return statuses;
}
