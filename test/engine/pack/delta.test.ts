import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deflateSync, inflateSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bytesEqual, concatBytes } from "../../../engine/bytes.ts";
import { hashObject, sha1 } from "../../../engine/hash.ts";
import { hexToBytes } from "../../../engine/oid.ts";
import { applyDelta, encodeDelta, readDeltaSizes } from "../../../engine/pack/delta.ts";
import { GIT_ENV as ENV } from "../../fixtures/git-env.ts";

function git(cwd: string, args: string[], input?: Uint8Array): Uint8Array {
  return new Uint8Array(execFileSync("git", args, { cwd, input, env: ENV, maxBuffer: 1 << 28 }));
}
const gitText = (cwd: string, args: string[]) => new TextDecoder().decode(git(cwd, args)).trim();

/** A seeded PRNG (mulberry32), so every run builds the same files. */
function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}
function randomBytes(rand: () => number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(rand() * 256);
  return out;
}
/** A copy of `data` with a few inserts, deletes and overwrites at random places. */
function edit(rand: () => number, data: Uint8Array, edits: number): Uint8Array {
  let out = data;
  for (let k = 0; k < edits; k++) {
    const at = Math.floor(rand() * out.length);
    const n = 1 + Math.floor(rand() * 200);
    const kind = Math.floor(rand() * 3);
    const fresh = randomBytes(rand, n);
    if (kind === 0) out = concatBytes([out.subarray(0, at), fresh, out.subarray(at)]);
    else if (kind === 1) out = concatBytes([out.subarray(0, at), out.subarray(at + n)]);
    else out = concatBytes([out.subarray(0, at), fresh, out.subarray(at + n)]);
  }
  return out;
}
function textFile(rand: () => number, lines: number): string {
  const words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa"];
  let s = "";
  for (let i = 0; i < lines; i++) {
    s += `${i}:`;
    for (let w = 0; w < 8; w++) s += " " + words[Math.floor(rand() * words.length)];
    s += "\n";
  }
  return s;
}

/** The instructions of a delta, for checking their limits. */
function instructions(delta: Uint8Array): { op: "copy" | "insert"; size: number }[] {
  const ops: { op: "copy" | "insert"; size: number }[] = [];
  let i = readDeltaSizes(delta).headerLength;
  while (i < delta.length) {
    const op = delta[i++]!;
    if (op & 0x80) {
      let size = 0;
      for (let bit = 0; bit < 7; bit++) if (op & (1 << bit)) size += bit < 4 ? (i++, 0) : delta[i++]! << (8 * (bit - 4));
      ops.push({ op: "copy", size: size || 0x10000 });
    } else {
      ops.push({ op: "insert", size: op });
      i += op;
    }
  }
  return ops;
}

const expectCode = (f: () => unknown, code: string) => expect(f).toThrow(expect.objectContaining({ code }));

describe("applyDelta on deltas git made", () => {
  let dir: string;
  /** Each delta entry of git's pack: its raw delta, its base's content and its own content. */
  const deltas: { oid: string; delta: Uint8Array; base: Uint8Array; target: Uint8Array }[] = [];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "edgegit-delta-"));
    git(dir, ["init", "-q", "-b", "main"]);
    const rand = prng(7);
    let text = textFile(rand, 6000); // ~360 KB: sparse edits leave copies of a full 0x10000 bytes
    let bin = randomBytes(rand, 150_000);
    for (let v = 0; v < 25; v++) {
      const lines = text.split("\n");
      for (let k = 0; k < 5; k++) lines.splice(Math.floor(rand() * lines.length), Math.floor(rand() * 3), `edit ${v}.${k}`);
      text = lines.join("\n");
      bin = edit(rand, bin, 4);
      writeFileSync(join(dir, "big.txt"), text);
      writeFileSync(join(dir, "data.bin"), bin);
      git(dir, ["add", "-A"]);
      git(dir, ["commit", "-q", "-m", `v${v}`]);
    }
    git(dir, ["repack", "-adfq", "--depth=50", "--window=50"]);
    const packDir = join(dir, ".git", "objects", "pack");
    const idx = readdirSync(packDir).find((f) => f.endsWith(".idx"))!;
    const pack = new Uint8Array(readFileSync(join(packDir, idx.replace(/\.idx$/, ".pack"))));
    // verify-pack -v: "<oid> <type> <size> <packed size> <offset> [<depth> <base oid>]"
    for (const line of gitText(dir, ["verify-pack", "-v", join(packDir, idx)]).split("\n")) {
      const f = line.split(" ").filter(Boolean);
      if (f.length !== 7 || !/^[0-9a-f]{40}$/.test(f[0]!)) continue;
      const [oid, type, , , offset, , baseOid] = f as [string, string, string, string, string, string, string];
      deltas.push({
        oid,
        delta: readEntryData(pack, Number(offset)),
        base: git(dir, ["cat-file", type, baseOid]),
        target: git(dir, ["cat-file", type, oid]),
      });
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("rebuilds every deltified object exactly", () => {
    expect(deltas.length).toBeGreaterThanOrEqual(40);
    for (const d of deltas) {
      const sizes = readDeltaSizes(d.delta);
      expect([sizes.baseSize, sizes.resultSize]).toEqual([d.base.length, d.target.length]);
      expect(hashObject("blob", applyDelta(d.base, d.delta))).toBe(hashObject("blob", d.target));
    }
    // git's deltas use the 0x10000 shorthand copy and inserts, so both paths ran
    const all = deltas.flatMap((d) => instructions(d.delta));
    expect(all.some((op) => op.op === "copy" && op.size === 0x10000)).toBe(true);
    expect(all.some((op) => op.op === "insert")).toBe(true);
  });

  it("enforces maxResultSize before building anything", () => {
    const d = deltas[0]!;
    expect(applyDelta(d.base, d.delta, d.target.length)).toEqual(d.target);
    expectCode(() => applyDelta(d.base, d.delta, d.target.length - 1), "object-too-large");
  });

  it("makes deltas of git's pairs about as small as git's own", () => {
    let ours = 0;
    let gits = 0;
    for (const d of deltas) {
      const mine = encodeDelta(d.base, d.target);
      expect(bytesEqual(applyDelta(d.base, mine), d.target)).toBe(true);
      ours += mine.length;
      gits += d.delta.length;
    }
    expect(ours).toBeLessThan(gits * 1.5);
  });
});

/** Test-only pack entry reader: skips the type/size header and any base reference, then inflates. */
function readEntryData(pack: Uint8Array, offset: number): Uint8Array {
  let i = offset;
  const type = (pack[i]! >> 4) & 7;
  while (pack[i++]! & 0x80);
  if (type === 6) while (pack[i++]! & 0x80);
  else if (type === 7) i += 20;
  const { buffer } = inflateSync(pack.subarray(i), { info: true }) as unknown as { buffer: Uint8Array };
  return new Uint8Array(buffer);
}

describe("applyDelta on hostile deltas", () => {
  const base = new TextEncoder().encode("0123456789");
  const d = (...bytes: number[]) => Uint8Array.from(bytes);

  it("applies a hand-made delta", () => {
    // copy 4 bytes from offset 2, insert "ab", copy 1 byte from offset 9
    expect(new TextDecoder().decode(applyDelta(base, d(10, 7, 0x91, 2, 4, 2, 0x61, 0x62, 0x91, 9, 1)))).toBe("2345ab9");
  });

  it.each([
    ["an empty delta", d(), "delta-malformed"],
    ["a cut-off base size", d(0x8a), "delta-malformed"],
    ["a cut-off result size", d(10), "delta-malformed"],
    ["a size varint too large", d(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 1), "delta-malformed"],
    ["the reserved opcode 0", d(10, 1, 0), "delta-malformed"],
    ["a base size that does not match", d(9, 1, 1, 0x61), "delta-base-size-mismatch"],
    ["a copy past the base's end", d(10, 5, 0x91, 8, 5), "delta-out-of-bounds"],
    ["a copy from a 4 GiB offset", d(10, 1, 0x9f, 0xff, 0xff, 0xff, 0xff, 1), "delta-out-of-bounds"],
    ["a copy from offset 2^31 (no sign wrap-around)", d(10, 1, 0x98, 0x80, 1), "delta-out-of-bounds"],
    ["a copy whose arguments are cut off", d(10, 1, 0x91, 0), "delta-out-of-bounds"],
    ["a copy cut off after some of its arguments", d(10, 1, 0xf7, 1, 0, 0), "delta-out-of-bounds"],
    ["an insert past the delta's end", d(10, 5, 5, 0x61, 0x62, 0x63), "delta-out-of-bounds"],
    ["an insert longer than the result", d(10, 2, 3, 0x61, 0x62, 0x63), "delta-out-of-bounds"],
    ["a copy longer than the result", d(10, 2, 0x90, 3), "delta-out-of-bounds"],
    ["a result shorter than declared", d(10, 5, 2, 0x61, 0x62), "delta-out-of-bounds"],
    ["no instructions for a non-empty result", d(10, 5), "delta-out-of-bounds"],
    ["a result size no instructions could reach", d(10, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x90, 1), "delta-out-of-bounds"],
  ])("rejects %s", (_, delta, code) => {
    expectCode(() => applyDelta(base, delta), code);
  });

  it("checks maxResultSize before allocating a huge result", () => {
    expectCode(() => applyDelta(base, d(10, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0x90, 1), 1 << 20), "object-too-large");
  });

  it("reads sizes above 32 bits", () => {
    expect(readDeltaSizes(d(0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 3))).toEqual({ baseSize: 2 ** 35, resultSize: 3, headerLength: 7 });
  });
});

describe("encodeDelta", () => {
  const rand = prng(42);

  it("round-trips random and degenerate inputs", () => {
    const sizes = [0, 1, 15, 16, 17, 100, 1000, 70_000];
    for (const a of sizes) {
      for (const b of sizes) {
        const base = randomBytes(rand, a);
        const target = randomBytes(rand, b);
        expect(applyDelta(base, encodeDelta(base, target))).toEqual(target);
      }
    }
  });

  it("is much smaller than the target for similar inputs", () => {
    for (const size of [5_000, 200_000, 2_000_000]) {
      const base = randomBytes(rand, size);
      const target = edit(rand, base, 20);
      const delta = encodeDelta(base, target);
      expect(applyDelta(base, delta)).toEqual(target);
      // 20 edits of at most 200 bytes, each costing a few instructions around it
      expect(delta.length).toBeLessThan(20 * 200 + 20 * 30 + Math.ceil(size / 0x10000) * 8);
    }
  });

  it("finds moved and repeated blocks", () => {
    const a = randomBytes(rand, 30_000);
    const b = randomBytes(rand, 30_000);
    const base = concatBytes([a, b]);
    const target = concatBytes([b, a, b.subarray(100, 5000)]);
    const delta = encodeDelta(base, target);
    expect(applyDelta(base, delta)).toEqual(target);
    expect(delta.length).toBeLessThan(60);
  });

  it("stays small and fast on repetitive input", () => {
    const zeros = new Uint8Array(4_000_000);
    const delta = encodeDelta(zeros, zeros.subarray(7));
    expect(applyDelta(zeros, delta)).toEqual(zeros.subarray(7));
    expect(delta.length).toBeLessThan(500);
    const pattern = new Uint8Array(1_000_000).map((_, i) => (i % 3 === 0 ? 1 : 2));
    const shifted = concatBytes([Uint8Array.of(9), pattern.subarray(1)]);
    expect(applyDelta(pattern, encodeDelta(pattern, shifted))).toEqual(shifted);
  });

  it("keeps copies within 0x10000 bytes and inserts within 127", () => {
    const base = randomBytes(rand, 300_000);
    const target = concatBytes([randomBytes(rand, 1000), base, randomBytes(rand, 300)]);
    const ops = instructions(encodeDelta(base, target));
    expect(ops.every((op) => op.size >= 1 && op.size <= (op.op === "copy" ? 0x10000 : 127))).toBe(true);
    expect(ops.filter((op) => op.op === "copy").map((op) => op.size)).toEqual([0x10000, 0x10000, 0x10000, 0x10000, 300_000 - 4 * 0x10000]);
  });

  it("writes deltas that git index-pack accepts and resolves", () => {
    const dir = mkdtempSync(join(tmpdir(), "edgegit-delta-pack-"));
    try {
      git(dir, ["init", "-q", "--bare"]);
      const base = randomBytes(rand, 100_000);
      const target = edit(rand, base, 10);
      const baseOid = hashObject("blob", base);
      const pack = buildPack([
        { type: 3, size: base.length, body: base },
        { type: 7, size: encodeDelta(base, target).length, body: encodeDelta(base, target), baseOid },
      ]);
      git(dir, ["index-pack", "--stdin"], pack);
      expect(git(dir, ["cat-file", "blob", hashObject("blob", target)])).toEqual(target);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Test-only pack writer: whole blobs and REF_DELTA entries, version 2, with the SHA-1 trailer. */
function buildPack(entries: { type: number; size: number; body: Uint8Array; baseOid?: string }[]): Uint8Array {
  const parts: Uint8Array[] = [new TextEncoder().encode("PACK"), Uint8Array.of(0, 0, 0, 2, 0, 0, 0, entries.length)];
  for (const e of entries) {
    const head = [(e.type << 4) | (e.size & 15)];
    for (let n = Math.floor(e.size / 16); n > 0; n = Math.floor(n / 128)) {
      head[head.length - 1]! |= 0x80;
      head.push(n & 0x7f);
    }
    parts.push(Uint8Array.from(head));
    if (e.baseOid) parts.push(hexToBytes(e.baseOid));
    parts.push(new Uint8Array(deflateSync(e.body)));
  }
  const body = concatBytes(parts);
  return concatBytes([body, sha1(body)]);
}
