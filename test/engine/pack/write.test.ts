import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ByteReader } from "../../../engine/byte-reader.ts";
import { bytesEqual, concatBytes } from "../../../engine/bytes.ts";
import type { Oid } from "../../../engine/oid.ts";
import { ObjectReader } from "../../../engine/object-reader.ts";
import { scanPack, type ScannedEntry } from "../../../engine/pack/scan.ts";
import { encodeWholeEntry, writePack, writeWholePacks, type WholePack, type WritePackOptions } from "../../../engine/pack/write.ts";
import type { ObjectLocation, PackReader } from "../../../engine/storage.ts";
import { MemoryStore } from "../memory-store.ts";
import { git, gitText, makeRepo, verifyPack } from "../../fixtures/pack-repo.ts";


let dir: string;
let packBytes: Uint8Array;
let store: MemoryStore;
let objects: ObjectReader;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "edgegit-write-"));
  makeRepo(dir, 70);
  git(dir, ["repack", "-adfq", "--depth=50", "--window=50"]);
  const packDir = join(dir, ".git/objects/pack");
  packBytes = new Uint8Array(readFileSync(join(packDir, readdirSync(packDir).find((f) => f.endsWith(".pack"))!)));
  store = new MemoryStore();
  await store.indexPack("repacked", packBytes);
  objects = new ObjectReader(store, store);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function write(items: readonly ObjectLocation[], opts: Partial<WritePackOptions> = {}, packs: PackReader = store): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const options: WritePackOptions = { ofsDelta: true, clientHas: () => false, readObject: (loc) => objects.readAt(loc), ...opts };
  for await (const chunk of writePack(items, packs, options)) chunks.push(chunk);
  return concatBytes(chunks);
}

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

async function scan(pack: Uint8Array): Promise<ScannedEntry[]> {
  const entries: ScannedEntry[] = [];
  for await (const item of scanPack(new ByteReader(once(pack)))) if (item.kind === "entry") entries.push(item);
  return entries;
}

let seq = 0;
/** Runs `git index-pack --strict` on `pack` in `repo` (a fresh empty one by default); returns what verify-pack lists. */
function gitIndex(pack: Uint8Array, repo?: string, fixThin = false) {
  const cwd = repo ?? join(dir, `check-${++seq}`);
  if (!repo) git(dir, ["init", "-q", "--bare", cwd]);
  if (fixThin) {
    const hash = gitText(cwd, ["index-pack", "--strict", "--stdin", "--fix-thin"], pack).replace(/^pack\s+/, "");
    return verifyPack(cwd, join(cwd, "objects/pack", `pack-${hash}.idx`));
  }
  const file = join(dir, `out-${++seq}.pack`);
  writeFileSync(file, pack);
  git(cwd, ["index-pack", "--strict", "-o", file.replace(/\.pack$/, ".idx"), file]);
  return verifyPack(cwd, file.replace(/\.pack$/, ".idx"));
}

const oidsOf = (xs: readonly { oid: Oid }[]) => xs.map((x) => x.oid).sort();

describe("writePack of a whole stored pack", () => {
  /** The store, recording the length of every range read. */
  const recording = (reads: number[]): PackReader => ({ readRange: (pack, offset, length) => (reads.push(length), store.readRange(pack, offset, length)) });

  it("reproduces git's pack byte for byte, in one coalesced read", async () => {
    const all = store.locations;
    const reads: number[] = [];
    let reported = 0;
    const out = await write(all, { onEntry: (n) => expect(n).toBe(++reported) }, recording(reads));
    expect(reads).toEqual([packBytes.length - 32]);
    expect(reported).toBe(all.length);
    expect(out.length).toBe(packBytes.length);
    expect(bytesEqual(out, packBytes)).toBe(true);
  });

  it("reads no more than a window at a time, copying larger entries in pieces", async () => {
    const all = store.locations;
    const largest = Math.max(...all.map((l) => l.packedLen));
    expect(largest).toBeGreaterThan(64 << 10);
    const reads: number[] = [];
    const chunks: Uint8Array[] = [];
    const opts: WritePackOptions = { ofsDelta: true, clientHas: () => false, readObject: (l) => objects.readAt(l), windowBytes: 4096, chunkBytes: 1 };
    for await (const c of writePack(all, recording(reads), opts)) chunks.push(c);
    expect(Math.max(...reads)).toBeLessThanOrEqual(4096);
    expect(reads.length).toBeGreaterThan(Math.ceil(largest / 4096));
    expect(bytesEqual(concatBytes(chunks), packBytes)).toBe(true);
  });

  it("turns every delta into a REF_DELTA for a client without ofs-delta", async () => {
    const all = store.locations;
    const out = await write(all, { ofsDelta: false });
    const entries = await scan(out);
    expect(entries.length).toBe(all.length);
    expect(entries.filter((e) => e.entryType === 6)).toEqual([]);
    expect(entries.filter((e) => e.entryType === 7).length).toBe(all.filter((l) => l.entryType === 6).length);
    expect(oidsOf(gitIndex(out))).toEqual(oidsOf(all));
  });

  it("writes a delta given before its base after the base, as an OFS_DELTA, never a REF_DELTA into the pack", async () => {
    const reversed = [...store.locations].reverse();
    const deltas = reversed.filter((l) => l.entryType === 6).length;
    expect(deltas).toBeGreaterThan(0);
    const out = await write(reversed);
    const entries = await scan(out);
    expect(entries.length).toBe(reversed.length);
    expect(entries.filter((e) => e.entryType === 7)).toEqual([]);
    expect(entries.filter((e) => e.entryType === 6).length).toBe(deltas);
    const order = gitIndex(out).map((r) => r.oid);
    const at = new Map(order.map((oid, i) => [oid, i]));
    for (const l of reversed) if (l.baseOid) expect(at.get(l.baseOid)!).toBeLessThan(at.get(l.oid)!);
    expect(order).not.toEqual(reversed.map((l) => l.oid));
    expect(new Set(order)).toEqual(new Set(reversed.map((l) => l.oid)));
  });
});

describe("writePack of part of the repository", () => {
  it("sends a thin pack against what the client has, which git completes with --fix-thin", async () => {
    const newOids = new Set(gitText(dir, ["rev-list", "--objects", "main", "^main~30"]).split("\n").map((l) => l.slice(0, 40) as Oid));
    const clientOids = new Set(gitText(dir, ["rev-list", "--objects", "main~30"]).split("\n").map((l) => l.slice(0, 40) as Oid));
    const items = store.locations.filter((l) => newOids.has(l.oid));
    expect(items.length).toBe(newOids.size);

    const out = await write(items, { clientHas: (oid) => clientOids.has(oid) });
    const entries = await scan(out);
    expect(entries.length).toBe(items.length);
    const thinBases = new Set(entries.filter((e) => e.entryType === 7).map((e) => e.baseOid!));
    expect(thinBases.size).toBeGreaterThan(0);
    for (const b of thinBases) expect(clientOids.has(b) && !newOids.has(b)).toBe(true);

    const client = join(dir, "client");
    git(dir, ["init", "-q", "--bare", client]);
    git(client, ["index-pack", "--stdin"], git(dir, ["pack-objects", "-q", "--revs", "--stdout"], "main~30\n"));
    const rows = gitIndex(out, client, true);
    const own = rows.filter((r) => r.offset < out.length - 20);
    expect(own.map((r) => r.oid)).toEqual(items.map((l) => l.oid));
    expect(new Set(oidsOf(rows.filter((r) => r.offset >= out.length - 20)))).toEqual(thinBases);
  });

  it("sends whole objects for deltas whose base is neither sent nor held by the client", async () => {
    // Every other link of the deep blob chains: each delta's base is left out.
    const items = store.locations.filter((l) => l.type === "blob" && l.depth >= 2 && l.depth % 2 === 0);
    expect(items.length).toBeGreaterThan(10);
    expect(items.some((l) => items.some((m) => m.oid === l.baseOid))).toBe(false);

    const out = await write(items);
    const entries = await scan(out);
    expect(entries.map((e) => e.entryType)).toEqual(items.map(() => 3));
    expect(entries.map((e) => e.size)).toEqual(items.map((l) => l.size));
    expect(gitIndex(out).map((r) => r.oid)).toEqual(items.map((l) => l.oid));
  });

  it("mixes copied deltas and resolved ones when only some bases are sent", async () => {
    const items = store.locations.filter((l) => l.type === "blob" && l.depth >= 10 && l.depth <= 20);
    const out = await write(items);
    const entries = await scan(out);
    const sent = new Set(items.map((l) => l.oid));
    const expectedTypes = items.map((l) => (l.baseOid && sent.has(l.baseOid) ? 6 : 3));
    expect(expectedTypes).toContain(6);
    expect(expectedTypes).toContain(3);
    expect(entries.map((e) => e.entryType)).toEqual(expectedTypes);
    expect(gitIndex(out).map((r) => r.oid)).toEqual(items.map((l) => l.oid));
  });

  it("writes a valid empty pack", async () => {
    const out = await write([]);
    expect(out.length).toBe(32);
    expect(await scan(out)).toEqual([]);
    expect(gitIndex(out)).toEqual([]);
  });
});

describe("writePack with a producer of whole entries", () => {
  const resolveHere = (calls: ObjectLocation[][]) => (locs: readonly ObjectLocation[]) => {
    calls.push([...locs]);
    return (async function* () {
      for (const l of locs) yield concatBytes(encodeWholeEntry(await objects.readAt(l)));
    })();
  };

  it("asks once, up front, for exactly the deltas whose base is neither sent nor held, and writes what it gets", async () => {
    // Every other link of the deep chains, and a third of the missing bases held by the client.
    const items = store.locations.filter((l) => l.type === "blob" && l.depth >= 1 && l.depth <= 30 && l.depth % 2 === 1);
    const sent = new Set(items.map((l) => l.oid));
    const held = new Set(items.filter((_, i) => i % 3 === 0).map((l) => l.baseOid).filter((b): b is Oid => !!b && !sent.has(b)));
    expect(held.size).toBeGreaterThan(3);
    const calls: ObjectLocation[][] = [];
    const out = await write(items, { clientHas: (oid) => held.has(oid), wholeEntries: resolveHere(calls) });
    expect(calls.length).toBe(1);
    expect(calls[0]!.map((l) => l.oid)).toEqual(items.filter((l) => l.baseOid && !sent.has(l.baseOid) && !held.has(l.baseOid)).map((l) => l.oid));
    expect(calls[0]!.length).toBeGreaterThan(0);
    expect(bytesEqual(out, await write(items, { clientHas: (oid) => held.has(oid) }))).toBe(true);
  });

  it("never asks when every delta can go out as stored", async () => {
    const calls: ObjectLocation[][] = [];
    const out = await write(store.locations, { wholeEntries: resolveHere(calls) });
    expect(calls).toEqual([]);
    expect(bytesEqual(out, packBytes)).toBe(true);
  });

  it("refuses to write a short or padded pack, or an entry that is not the object asked for", async () => {
    const items = store.locations.filter((l) => l.type === "blob" && l.depth >= 2 && l.depth % 2 === 0);
    const entries = async (locs: readonly ObjectLocation[]) => Promise.all(locs.map(async (l) => concatBytes(encodeWholeEntry(await objects.readAt(l)))));
    const from = (list: Uint8Array[]) => (async function* () {
      yield* list;
    })();
    const short = write(items, { wholeEntries: () => from([]) });
    await expect(short).rejects.toMatchObject({ code: "pack-entries-mismatch" });
    const all = await entries(items);
    await expect(write(items, { wholeEntries: () => from([...all, all[0]!]) })).rejects.toMatchObject({ code: "pack-entries-mismatch" });
    await expect(write(items, { wholeEntries: () => from([all[1]!, all[0]!, ...all.slice(2)]) })).rejects.toMatchObject({ code: "pack-entries-mismatch" });
    expect(bytesEqual(await write(items, { wholeEntries: () => from(all) }), await write(items))).toBe(true);
  });
});

describe("writeWholePacks", () => {
  async function copy(packs: WholePack[], windowBytes?: number): Promise<Uint8Array> {
    const chunks: Uint8Array[] = [];
    for await (const c of writeWholePacks(packs, store, { windowBytes })) chunks.push(c);
    return concatBytes(chunks);
  }

  it("sends one stored pack as it is, byte for byte, whatever the window", async () => {
    const one = { key: "repacked", bytes: packBytes.length, objects: store.locations.length };
    expect(bytesEqual(await copy([one]), packBytes)).toBe(true);
    expect(bytesEqual(await copy([one], 1000), packBytes)).toBe(true);
  });

  it("joins several packs into one that git indexes, every object once, OFS deltas intact", async () => {
    // An older pack and the pack of what came after it (not thin: its deltas' bases are inside it).
    const older = git(dir, ["pack-objects", "-q", "--revs", "--stdout", "--delta-base-offset"], "main~40\n");
    const newer = git(dir, ["pack-objects", "-q", "--revs", "--stdout", "--delta-base-offset"], "main\n^main~40\n");
    const parts = new MemoryStore();
    const a = await parts.indexPack("older", older);
    const b = await parts.indexPack("newer", newer);
    expect(b.some((e) => e.entryType === 6)).toBe(true);
    const chunks: Uint8Array[] = [];
    const packs = [{ key: "older", bytes: older.length, objects: a.length }, { key: "newer", bytes: newer.length, objects: b.length }];
    for await (const c of writeWholePacks(packs, parts, { windowBytes: 4096 })) chunks.push(c);
    const out = concatBytes(chunks);
    expect(out.length).toBe(older.length + newer.length - 32);
    expect(oidsOf(gitIndex(out))).toEqual(oidsOf([...a, ...b]));
  });

  it("refuses a stored pack whose header does not hold the entries it is indexed with", async () => {
    const wrong = { key: "repacked", bytes: packBytes.length, objects: store.locations.length - 1 };
    await expect(copy([wrong])).rejects.toMatchObject({ code: "pack-entries-mismatch" });
  });
});
