/**
 * Stores new objects written server-side (by `commit`, `createTag`) as a small pack of whole
 * objects in R2, and returns its index rows for the caller to write in the transaction that moves
 * the ref.
 * Invariants:
 * - The pack is a valid git pack: header, whole-object entries (type+size header, zlib data), SHA-1
 *   trailer over everything before it; so clones can copy its entries verbatim.
 * - The pack row is `staging` until the caller's transaction makes it `live` (or `garbage`, if the
 *   ref moved first), so a crash leaves nothing reachable and GC can find the R2 object.
 * - Every object first passes the checks a pushed one does (`checkObject`), before anything is
 *   stored: the RPC cannot write what receive-pack, `git fsck` or `transfer.fsckObjects` refuse.
 * Spec: gitformat-pack(5), "pack-*.pack files have the following format".
 */
import {
  CODE_BY_OBJECT_TYPE, GitError, decodeCommit, decodeTag, deflate, encodeEntryHeader, inspectTree, sha1,
  type IndexedEntry, type ObjectType, type Oid,
} from "../../../engine/index.ts";
import { R2_LAYOUT } from "../../r2/layout.ts";
import { R2PackUpload } from "../../r2/r2-pack-upload.ts";
import type { RepoStore } from "../repo-store.ts";

export interface NewObject {
  oid: Oid;
  type: ObjectType;
  data: Uint8Array;
}

export interface WrittenPack {
  packId: number;
  entries: IndexedEntry[];
  bytes: number;
}

/**
 * Runs on a server-built object the same decoders receive-pack runs on a pushed one: a commit's or
 * tag's idents and dates (`object-malformed`: a date before 1970 or past git's range, say) and a
 * tree's fsck rules (`object-invalid`). Encoders write whatever they are given; this is the gate.
 */
export function checkObject(o: NewObject): void {
  if (o.type === "commit") decodeCommit(o.data);
  else if (o.type === "tag") decodeTag(o.data);
  else if (o.type === "tree") {
    const reason = inspectTree(o.data);
    if (reason) throw new GitError("object-invalid", `tree ${o.oid}: ${reason}`, { data: { oid: o.oid, reason } });
  }
}

export async function writeObjectsPack(ctx: { store: RepoStore; bucket: R2Bucket; repoId: string }, objects: readonly NewObject[]): Promise<WrittenPack> {
  for (const o of objects) checkObject(o);
  const key = R2_LAYOUT.pack(ctx.repoId, crypto.randomUUID());
  const packId = ctx.store.addPack(key, "staging", Date.now());
  const upload = new R2PackUpload(ctx.bucket, key, (uploadId) => ctx.store.setPackUpload(packId, uploadId));
  const parts: Uint8Array[] = [];
  const header = new Uint8Array(12);
  header.set([0x50, 0x41, 0x43, 0x4b, 0, 0, 0, 2]); // "PACK", version 2
  new DataView(header.buffer).setUint32(8, objects.length);
  parts.push(header);
  let offset = header.length;
  const entries: IndexedEntry[] = [];
  for (const o of objects) {
    const code = CODE_BY_OBJECT_TYPE[o.type];
    const head = encodeEntryHeader(code, o.data.length);
    const body = deflate(o.data);
    entries.push({ oid: o.oid, offset, headerLen: head.length, packedLen: head.length + body.length, entryType: code, type: o.type, size: o.data.length, depth: 0 });
    parts.push(head, body);
    offset += head.length + body.length;
  }
  parts.push(sha1(...parts));
  try {
    for (const p of parts) await upload.write(p);
    await upload.complete();
  } catch (e) {
    await upload.abort();
    ctx.store.setPackState(packId, "garbage", { reason: "upload-failed" });
    throw e;
  }
  return { packId, entries, bytes: offset + 20 };
}
