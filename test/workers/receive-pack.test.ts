// Inside workerd: receive-pack over a real actor's SQLite and R2, with packs built here (workerd cannot
// run git; test/e2e pushes with the real client). A push keeps its per-object state in staging tables:
// these tests check what lands in the index, the generation numbers computed from staged commits, that a
// refused or failed push leaves no index rows and no staging rows, and streamed blobs as delta bases.
/// <reference types="@cloudflare/vitest-plugin/types" />
import { env as workerEnv } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { concatBytes, utf8 } from "../../engine/bytes.ts";
import { hashObject, sha1 } from "../../engine/hash.ts";
import type { Oid } from "../../engine/oid.ts";
import { ObjectReader } from "../../engine/object-reader.ts";
import { encodeTree } from "../../engine/object/tree.ts";
import type { ObjectType, PackEntryType } from "../../engine/object/types.ts";
import { encodeEntryHeader } from "../../engine/pack/entry-header.ts";
import { deflate } from "../../engine/zlib.ts";
import type { Env } from "../../actors/env.ts";
import { R2PackReader } from "../../actors/r2/r2-pack-reader.ts";
import { DEFAULT_LIMITS } from "../../actors/repo/limits.ts";
import { PushStaging } from "../../actors/repo/push-staging.ts";
import { reachableObjects } from "../../actors/repo/reachability.ts";
import { RepoStore } from "../../actors/repo/repo-store.ts";
import { push } from "../../actors/repo/rpc/push.ts";
import { PUSH_STAGING_TABLES } from "../../actors/repo/schema.ts";
import type { PushResult } from "../../protocol/rpc/index.ts";

const env = workerEnv as unknown as Env;

interface Obj {
  type: ObjectType;
  data: Uint8Array;
  oid: Oid;
}
const obj = (type: ObjectType, data: Uint8Array | string): Obj => {
  const bytes = typeof data === "string" ? utf8(data) : data;
  return { type, data: bytes, oid: hashObject(type, bytes) };
};
const blob = (text: string) => obj("blob", text);
const tree = (entries: [string, string, Obj | Oid][]) =>
  obj("tree", encodeTree(entries.map(([mode, name, o]) => ({ mode, name, oid: typeof o === "string" ? o : o.oid }))));
const commit = (t: Obj, parents: Obj[], n: number) =>
  obj("commit", `tree ${t.oid}\n${parents.map((p) => `parent ${p.oid}\n`).join("")}author A <a@example.com> ${1_700_000_000 + n} +0000\ncommitter C <c@example.com> ${1_700_000_000 + n} +0000\n\ncommit ${n}\n`);

const CODE = { commit: 1, tree: 2, blob: 3, tag: 4 } as const;

/** Incompressible bytes (xorshift32): getRandomValues gives at most 64 KiB at a time. */
function noise(n: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = 0x9e3779b9;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

function varint(n: number): Uint8Array {
  const out: number[] = [];
  for (; n >= 0x80; n = Math.floor(n / 128)) out.push((n & 0x7f) | 0x80);
  out.push(n);
  return Uint8Array.from(out);
}

/** A pack entry: a whole object, or an OFS_DELTA whose base is `rel` bytes back. */
type Entry = Obj | { delta: Uint8Array; rel: number };

function pack(entries: readonly Entry[]): Uint8Array {
  const header = new Uint8Array(12);
  header.set(utf8("PACK"));
  new DataView(header.buffer).setUint32(4, 2);
  new DataView(header.buffer).setUint32(8, entries.length);
  const parts = entries.map((e) =>
    "delta" in e
      ? concatBytes([encodeEntryHeader(6 as PackEntryType, e.delta.length, { rel: e.rel }), deflate(e.delta)])
      : concatBytes([encodeEntryHeader(CODE[e.type], e.data.length), deflate(e.data)]),
  );
  const body = concatBytes([header, ...parts]);
  return concatBytes([body, sha1(body)]);
}

/** Entry sizes, to compute OFS_DELTA distances. */
const entryBytes = (e: Obj) => encodeEntryHeader(CODE[e.type], e.data.length).length + deflate(e.data).length;

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  // In pieces, as a network delivers them.
  for (let at = 0; at < bytes.length; at += 64 << 10) yield bytes.subarray(at, at + (64 << 10));
}

let repoCount = 0;

/** Runs `fn` inside a fresh RepoActor, with a push function over its own storage. */
interface Repo {
  store: RepoStore;
  storage: DurableObjectStorage;
  push: (commands: { ref: string; old: Oid | null; new: Oid | null }[], bytes: Uint8Array) => Promise<PushResult>;
}

async function inRepoWith(fn: (repo: Repo) => Promise<void>, limits = DEFAULT_LIMITS) {
  const stub = env.RepoActor.get(env.RepoActor.idFromName(`receive-pack-test-${++repoCount}-${crypto.randomUUID()}`));
  await runInDurableObject(stub, async (_instance, state) => {
    const store = new RepoStore(state.storage);
    const ctx = {
      store,
      objects: new ObjectReader(store, new R2PackReader(env.PACKS)),
      bucket: env.PACKS,
      repoId: state.id.toString(),
      limits,
      onRefUpdates: () => undefined,
    };
    await fn({ store, storage: state.storage, push: (commands, bytes) => push(ctx, { commands, atomic: false }, once(bytes)) });
  });
}

const stagingRows = (store: RepoStore) => PUSH_STAGING_TABLES.map((t) => store.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM ${t}`).one().n).reduce((a, b) => a + b);
const objectRows = (store: RepoStore) => store.objectCount();

/** Every check runs with entries in memory, and spilled to SQLite from the second entry (or second named id). */
const MODES = [
  ["entries in memory", DEFAULT_LIMITS],
  ["entries spilled to SQLite", { ...DEFAULT_LIMITS, pushEntriesInMemory: 1 }],
] as const;

describe.each(MODES)("receive-pack over the actor's SQLite, %s", (_mode, limits) => {
  const inRepo = (fn: (repo: Repo) => Promise<void>) => inRepoWith(fn, limits);

  it("indexes a push, computes generations from staged commits in any pack order, and leaves no staging rows", async () => {
    await inRepo(async ({ store, push }) => {
      const file = blob("one\n");
      const t = tree([["100644", "file.txt", file]]);
      const chain: Obj[] = [];
      for (let n = 0; n < 6; n++) chain.push(commit(t, chain.slice(-1), n));
      // Newest first as git sends them, except two swapped: a parent comes after its child's child.
      const order = [chain[5]!, chain[3]!, chain[4]!, chain[2]!, chain[1]!, chain[0]!];
      const result = await push([{ ref: "refs/heads/main", old: null, new: chain[5]!.oid }], pack([...order, t, file]));
      expect(result).toEqual({ unpack: "ok", refs: [{ ref: "refs/heads/main", ok: true }] });
      expect(store.ref("refs/heads/main")).toBe(chain[5]!.oid);
      expect(objectRows(store)).toBe(8);
      expect(stagingRows(store)).toBe(0);
      const gens = store.generations(chain.map((c) => c.oid));
      expect(chain.map((c) => gens.get(c.oid))).toEqual([1, 2, 3, 4, 5, 6]);
      expect(store.commitsSync([chain[3]!.oid]).get(chain[3]!.oid)?.parents).toEqual([chain[2]!.oid]);

      // A merge on top, whose parents are an old commit and a new one: generations follow the longer side.
      const side = commit(t, [chain[1]!], 10);
      const merge = commit(t, [chain[5]!, side], 11);
      expect((await push([{ ref: "refs/heads/main", old: chain[5]!.oid, new: merge.oid }], pack([merge, side]))).unpack).toBe("ok");
      const more = store.generations([side.oid, merge.oid]);
      expect([more.get(side.oid), more.get(merge.oid)]).toEqual([3, 7]);
      expect(stagingRows(store)).toBe(0);
    });
  });

  it("refuses a push that names a missing object, and indexes nothing of it", async () => {
    await inRepo(async ({ store, push }) => {
      const absent = blob("never sent\n");
      const t = tree([["100644", "a.txt", blob("a\n")], ["100644", "b.txt", absent]]);
      const c = commit(t, [], 0);
      const result = await push([{ ref: "refs/heads/main", old: null, new: c.oid }], pack([c, t, blob("a\n")]));
      expect(result.unpack).toMatch(/^missing-objects missing necessary objects: /);
      expect(result.unpack).toContain(absent.oid);
      expect(result.refs).toEqual([{ ref: "refs/heads/main", ok: false, reason: "unpacker error" }]);
      expect(store.ref("refs/heads/main")).toBeUndefined();
      expect(objectRows(store)).toBe(0);
      expect(stagingRows(store)).toBe(0);
    });
  });

  it("refuses objects named with two types, or with a type they do not have", async () => {
    await inRepo(async ({ store, push }) => {
      const b = blob("b\n");
      const asTree = tree([["40000", "dir", b]]); // names a blob as a tree
      const c1 = commit(asTree, [], 0);
      expect((await push([{ ref: "refs/heads/a", old: null, new: c1.oid }], pack([c1, asTree, b]))).unpack).toBe(`object-invalid ${b.oid} is a blob but is named as a tree`);
      const both = tree([["40000", "dir", b], ["100644", "file", b]]);
      const c2 = commit(both, [], 1);
      expect((await push([{ ref: "refs/heads/b", old: null, new: c2.oid }], pack([c2, both, b]))).unpack).toMatch(new RegExp(`^object-invalid ${b.oid} is named as both a (blob and a tree|tree and a blob)$`));
      expect(objectRows(store)).toBe(0);
      expect(stagingRows(store)).toBe(0);
    });
  });

  it("marks the repo stranded when a pushed pack holds an object nothing names, which then is not reachable", async () => {
    await inRepo(async ({ store, push }) => {
      const f = blob("f\n");
      const t = tree([["100644", "f", f]]);
      const c0 = commit(t, [], 0);
      expect((await push([{ ref: "refs/heads/main", old: null, new: c0.oid }], pack([c0, t, f]))).unpack).toBe("ok");
      expect(store.getMeta("clean")).not.toBe("0");
      const c1 = commit(t, [c0], 1);
      const orphan = blob("nothing names me\n");
      expect((await push([{ ref: "refs/heads/main", old: c0.oid, new: c1.oid }], pack([c1, orphan]))).unpack).toBe("ok");
      expect(store.getMeta("clean")).toBe("0");
      const packs = new R2PackReader(env.PACKS);
      const reach = await reachableObjects({ store, objects: new ObjectReader(store, packs), packs }, [c0.oid, c1.oid, t.oid, f.oid, orphan.oid]);
      expect([...reach.keys()].sort()).toEqual([c0.oid, c1.oid, t.oid, f.oid].sort());
    });
  });

  it("writes no index rows for a push whose every ref is refused", async () => {
    await inRepo(async ({ store, push }) => {
      const t = tree([["100644", "f", blob("f\n")]]);
      const c = commit(t, [], 0);
      const stale = commit(t, [], 1).oid;
      const result = await push([{ ref: "refs/heads/main", old: stale, new: c.oid }], pack([c, t, blob("f\n")]));
      expect(result).toEqual({ unpack: "ok", refs: [{ ref: "refs/heads/main", ok: false, reason: "stale old id (fetch first)" }] });
      expect(objectRows(store)).toBe(0);
      expect(stagingRows(store)).toBe(0);
      expect(store.sql.exec<{ state: string }>(`SELECT state FROM packs`).toArray().map((r) => r.state)).toEqual(["garbage"]);
    });
  });

  it("hashes a large blob as it streams, and resolves a delta on it by reading it back from R2", async () => {
    await inRepo(async ({ store, push }) => {
      // Past the scan's 1 MiB, so hashed as it streams and not kept; past the indexer's 8 MiB window,
      // so the delta after it waits for the stored pack.
      const big = obj("blob", noise(9 << 20));
      // A delta that copies the big blob's first 1000 bytes (opcode with two size bytes) and inserts "!".
      const result = concatBytes([big.data.subarray(0, 1000), utf8("!")]);
      const ops = concatBytes([varint(big.data.length), varint(result.length), Uint8Array.of(0x80 | 0x10 | 0x20, 0xe8, 0x03), Uint8Array.of(1, 0x21)]);
      const small = obj("blob", result);
      const t = tree([["100644", "big.bin", big], ["100644", "small.bin", small]]);
      const c = commit(t, [], 0);
      const bytes = pack([c, t, big, { delta: ops, rel: entryBytes(big) }]);
      expect((await push([{ ref: "refs/heads/main", old: null, new: c.oid }], bytes)).unpack).toBe("ok");
      const located = store.locateSync([big.oid, small.oid]);
      expect(located.get(big.oid)).toMatchObject({ type: "blob", size: 9 << 20, depth: 0, entryType: 3 });
      expect(located.get(small.oid)).toMatchObject({ type: "blob", size: 1001, depth: 1, entryType: 6, baseOid: big.oid });
      expect(stagingRows(store)).toBe(0);
    });
  });

  it("empties the staging tables when the actor starts: a push cut off by a crash leaves nothing behind", async () => {
    await inRepo(async ({ store, storage }) => {
      // Spilled from its first entry, so every kind of row is written.
      const staging = new PushStaging(store, store.addPack("repos/x/packs/cut-off.pack", "staging", Date.now()), 0);
      const b = blob("half-pushed\n");
      staging.put({ offset: 12, headerLen: 2, packedLen: 20, entryType: 3, dataSize: b.data.length, object: { oid: b.oid, type: "blob", size: b.data.length, depth: 0 } });
      staging.link(b.oid, "blob");
      staging.commit(40, { oid: b.oid, tree: b.oid, parents: [], time: 0 });
      staging.tag(b.oid, b.oid, "blob");
      staging.flush();
      expect(stagingRows(store)).toBe(4);
      const restarted = new RepoStore(storage);
      expect(stagingRows(restarted)).toBe(0);
      expect(objectRows(restarted)).toBe(0);
    });
  });
});
