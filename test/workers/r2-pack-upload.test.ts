// Inside workerd against its R2: a pack streamed into R2PackUpload is stored byte for byte, as one
// `put` below a part or as multipart parts of exactly 5 MiB plus a shorter last one, whatever the
// sizes of the chunks written.
import { env as workerEnv } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { bytesEqual } from "../../engine/bytes.ts";
import type { Env } from "../../actors/env.ts";
import { R2PackUpload } from "../../actors/r2/r2-pack-upload.ts";

const env = workerEnv as unknown as Env;
const PART = 5 << 20;

function bytesOf(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 2654435761) >>> 24;
  return out;
}

async function upload(bytes: Uint8Array, chunk: number): Promise<{ stored: Uint8Array; uploadIds: string[] }> {
  const key = `test/r2-pack-upload/${crypto.randomUUID()}.pack`;
  const uploadIds: string[] = [];
  const up = new R2PackUpload(env.PACKS, key, (id) => uploadIds.push(id));
  for (let at = 0; at < bytes.length; at += chunk) await up.write(bytes.subarray(at, at + chunk));
  await up.complete();
  expect(up.bytes).toBe(bytes.length);
  const obj = await env.PACKS.get(key);
  return { stored: new Uint8Array(await obj!.arrayBuffer()), uploadIds };
}

describe("R2PackUpload", () => {
  it.each([0, 1, 1000, PART - 1])("stores %d bytes with one put", async (n) => {
    const bytes = bytesOf(n);
    const { stored, uploadIds } = await upload(bytes, 65536);
    expect(uploadIds).toEqual([]);
    expect(stored.length).toBe(n);
    expect(bytesEqual(stored, bytes)).toBe(true);
  });

  // A part goes up as soon as it fills, so exactly one part's worth is already a multipart upload.
  it.each([
    [PART, 65536],
    [PART + 1, 65536],
    [2 * PART, 1 << 20],
    [2 * PART + 12345, 999_983],
  ])("stores %d bytes written in %d-byte chunks as a multipart upload", async (n, chunk) => {
    const bytes = bytesOf(n);
    const { stored, uploadIds } = await upload(bytes, chunk);
    expect(uploadIds.length).toBe(1);
    expect(stored.length).toBe(n);
    expect(bytesEqual(stored, bytes)).toBe(true);
  });
});
