/**
 * git-receive-pack for one repository: reads the ref commands, streams the pack into R2 while
 * indexing it, checks it in full, then moves refs by compare-and-swap in one transaction.
 * Invariants:
 * - No ref moves unless the pack's trailer, every object's id, every delta and the connectivity of
 *   every new object have been checked.
 * - A refused or failed push leaves its pack `garbage` (recorded for GC) and no index rows.
 * - Each ref moves only if its current value equals the command's old id; with `atomic`, all move
 *   or none does.
 * Spec: gitprotocol-pack(5), "Pushing Data To a Server"; gitprotocol-capabilities(5).
 */
import {
  ByteReader, GitError, PackIndexer, ZERO_OID, decodeCommit, decodeTag, referencedIds, scanPack, validateTree, decodeTree,
  utf8, concatBytes, writePack, type IndexedEntry, type ObjectType, type Oid, type ObjectReader, type ScannedTrailer,
} from "../../engine/index.ts";
import { checkRefName, parseReceivePackRequest, receivePackCapabilities, unadvertisedCapability, sideBand, writeReportStatus, PKT_FLUSH, type RefStatus, type ReceivePackRequest } from "../../protocol/index.ts";
import { R2_LAYOUT } from "../r2/layout.ts";
import { R2PackReader } from "../r2/r2-pack-reader.ts";
import { R2PackUpload } from "../r2/r2-pack-upload.ts";
import type { RepoLimits } from "./limits.ts";
import type { CommitRow, RepoStore } from "./repo-store.ts";
import { chooseHead } from "./head.ts";

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
      yield say(`Indexed ${ingested.entries.length} objects.\n`);
    } catch (e) {
      unpack = e instanceof GitError ? `${e.code} ${e.message}` : `internal error`;
      if (!(e instanceof GitError)) console.error("receive-pack ingest failed", e);
      await reader.cancel();
    }
  } else if (await reader.fill(1)) {
    unpack = "unexpected data after the commands";
  }

  const statuses = unpack === "ok" ? applyCommands(ctx, req, ingested) : req.commands.map((c) => ({ ref: c.ref, ok: false as const, reason: "unpacker error" }));
  if (!reportStatus) return;
  const report = writeReportStatus({ unpack, refs: statuses });
  if (sideBandData) {
    yield concatBytes(sideBand(1, report));
    yield PKT_FLUSH;
  } else yield report;
}

interface Ingested {
  packId: number;
  entries: IndexedEntry[];
  commits: CommitRow[];
  tags: { oid: Oid; target: Oid; targetType: "commit" | "tree" | "blob" | "tag" }[];
  trailer: ScannedTrailer;
}

async function ingest(ctx: ReceivePackContext, reader: ByteReader, req: ReceivePackRequest): Promise<Ingested> {
  const { store, limits } = ctx;
  const key = R2_LAYOUT.pack(ctx.repoId, crypto.randomUUID());
  const packId = store.addPack(key, "staging", Date.now());
  const upload = new R2PackUpload(ctx.bucket, key, (uploadId) => store.setPackUpload(packId, uploadId));
  const commits: CommitRow[] = [];
  const tags: Ingested["tags"] = [];
  /** Every id a new object names, with the type the naming object says it has. */
  const referenced = new Map<Oid, ObjectType | "unknown">();
  const indexer = new PackIndexer(
    {
      readExisting: (oid) => ctx.objects.read(oid),
      readPackRange: async (offset, length) => {
        const obj = await ctx.bucket.get(key, { range: { offset, length } });
        if (!obj) throw new GitError("pack-missing", "stored pack vanished while indexing");
        return new Uint8Array(await obj.arrayBuffer());
      },
      onObject(entry, data) {
        if (entry.type === "commit") {
          const c = decodeCommit(data);
          commits.push({ oid: entry.oid, tree: c.tree, parents: c.parents, time: c.committer.timestamp });
        } else if (entry.type === "tag") {
          const t = decodeTag(data);
          tags.push({ oid: entry.oid, target: t.object, targetType: t.type });
        } else if (entry.type === "tree") {
          const reason = validateTree(decodeTree(data));
          if (reason) throw new GitError("object-invalid", `tree ${entry.oid}: ${reason}`);
        }
        for (const r of referencedIds(entry.type, data)) {
          const claimed = referenced.get(r.oid);
          if (claimed !== undefined && claimed !== r.type && claimed !== "unknown" && r.type !== "unknown")
            throw new GitError("object-invalid", `${r.oid} is named as both a ${claimed} and a ${r.type}`);
          referenced.set(r.oid, r.type);
        }
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
        await upload.write(b);
      },
    });
    for await (const item of scan) {
      if (item.kind === "entry") await indexer.add(item);
      else trailer = item;
    }
    await upload.complete();
    const entries = await indexer.finish();
    checkConnectivity(store, entries, referenced, req);
    if (indexer.thinBases.size) await storeCompletion(ctx, packId, [...indexer.thinBases]);
    return { packId, entries, commits, tags, trailer: trailer! };
  } catch (e) {
    await upload.abort();
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

/**
 * Every id a new object names, and every new ref tip, exists in the pack or the repository, with
 * the type its referrer claims (a commit's tree is a tree, a tree entry's mode matches its object).
 */
function checkConnectivity(store: RepoStore, entries: readonly IndexedEntry[], referenced: Map<Oid, ObjectType | "unknown">, req: ReceivePackRequest) {
  const typeInPack = new Map(entries.map((e) => [e.oid, e.type]));
  for (const c of req.commands) if (c.newOid !== ZERO_OID && !referenced.has(c.newOid)) referenced.set(c.newOid, "unknown");
  const outside = [...referenced.keys()].filter((o) => !typeInPack.has(o));
  const located = store.locateSync(outside);
  const missing = outside.filter((o) => !located.has(o));
  if (missing.length)
    throw new GitError("missing-objects", `missing necessary objects: ${missing.slice(0, 3).join(", ")}${missing.length > 3 ? ` and ${missing.length - 3} more` : ""}`);
  for (const [oid, claimed] of referenced) {
    const actual = typeInPack.get(oid) ?? located.get(oid)!.type;
    if (claimed !== "unknown" && claimed !== actual) throw new GitError("object-invalid", `${oid} is a ${actual} but is named as a ${claimed}`);
  }
}

/** One transaction: index rows, pack state and every ref's compare-and-swap. */
function applyCommands(ctx: ReceivePackContext, req: ReceivePackRequest, ingested: Ingested | undefined): RefStatus[] {
  const { store } = ctx;
  const atomic = req.capabilities.has("atomic");
  const moved: { ref: string; old: Oid; new: Oid; seq: number }[] = [];
  const statuses = store.transact(() => {
    const types = ingested ? new Map(ingested.entries.map((e) => [e.oid, e.type])) : new Map();
    const typeOf = (oid: Oid) => types.get(oid) ?? store.locateSync([oid]).get(oid)?.type;
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
        store.insertObjects(ingested.packId, ingested.entries);
        insertGraph(store, ingested);
        store.setPackState(ingested.packId, "live", { bytes: ingested.trailer.bytes, objects: ingested.entries.length });
        store.setPackFamilyState(ingested.packId, "live");
      } else {
        store.setPackState(ingested.packId, "garbage", { reason: "refused" });
        store.setPackFamilyState(ingested.packId, "garbage", "refused");
      }
    }
    let clean = store.getMeta("clean") !== "0";
    if (ingested && anyMoves && statuses.some((s) => !s.ok)) clean = false; // some pushed objects may be unreachable
    const now = Date.now();
    req.commands.forEach((c, i) => {
      if (!statuses[i]!.ok) return;
      if (c.newOid === ZERO_OID || (c.oldOid !== ZERO_OID && !(typeOf(c.oldOid) === "commit" && typeOf(c.newOid) === "commit" && store.isAncestor(c.oldOid, c.newOid))))
        clean = false; // a delete or a forced update may strand objects
      store.setRef(c.ref, c.newOid === ZERO_OID ? null : c.newOid);
      moved.push({ ref: c.ref, old: c.oldOid, new: c.newOid, seq: store.appendRefLog(c.ref, c.oldOid, c.newOid, "git-push", now) });
    });
    store.setMeta("clean", clean ? "1" : "0");
    if (moved.length) chooseHead(store);
    return statuses;
  });
  if (moved.length) ctx.onRefUpdates(moved);
  return statuses;
}

/** Commit rows with generation numbers (parents first), and tag rows. */
function insertGraph(store: RepoStore, ingested: Ingested) {
  const pending = new Map(ingested.commits.map((c) => [c.oid, c]));
  const known = store.generations([...new Set(ingested.commits.flatMap((c) => c.parents))].filter((p) => !pending.has(p)));
  const gen = new Map<Oid, number>(known);
  const rows: { row: CommitRow; generation: number }[] = [];
  for (const start of ingested.commits) {
    const stack: CommitRow[] = [start];
    while (stack.length) {
      const c = stack[stack.length - 1]!;
      if (gen.has(c.oid)) {
        stack.pop();
        continue;
      }
      const todo = c.parents.filter((p) => !gen.has(p) && pending.has(p));
      if (todo.length) {
        for (const p of todo) stack.push(pending.get(p)!);
        continue;
      }
      const g = 1 + Math.max(0, ...c.parents.map((p) => gen.get(p) ?? 0));
      gen.set(c.oid, g);
      rows.push({ row: c, generation: g });
      stack.pop();
    }
  }
  store.insertCommits(rows);
  for (const t of ingested.tags) store.insertTag(t.oid, t.target, t.targetType);
}
