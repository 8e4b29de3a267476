/** Reads byte ranges of stored packs from R2 (the engine's `PackReader`). */
import { GitError } from "../../engine/index.ts";
import type { PackReader } from "../../engine/index.ts";

export class R2PackReader implements PackReader {
  constructor(private readonly bucket: R2Bucket) {}

  async readRange(pack: string, offset: number, length: number): Promise<Uint8Array> {
    if (length === 0) return new Uint8Array(0);
    const obj = await this.bucket.get(pack, { range: { offset, length } });
    if (!obj) throw new GitError("pack-missing", `stored pack ${pack} is missing`);
    const bytes = new Uint8Array(await obj.arrayBuffer());
    if (bytes.length !== length)
      throw new GitError("pack-read-short", `read ${bytes.length} of ${length} bytes at ${offset} of ${pack}`, { retryable: true });
    return bytes;
  }
}
