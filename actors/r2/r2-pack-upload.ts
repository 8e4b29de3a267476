/**
 * Streams a pack into R2 as it arrives. R2 refuses a plain `put` of a stream of unknown length, so
 * bytes are cut into equal multipart parts; a pack smaller than one part becomes a plain `put`.
 * Invariants:
 * - At most one part (PART_BYTES) is buffered, and it is handed to R2 as is, never copied: the buffer
 *   is refilled only after R2 has taken the part.
 * - All parts but the last have exactly PART_BYTES, as R2 requires (at least 5 MiB).
 * - The first part's buffer starts small and doubles as bytes come: most pushes are a few KB, and
 *   allocating a whole part for them cost several ms each (measured in workerd).
 */
const PART_BYTES = 5 << 20;
const FIRST_BUFFER_BYTES = 64 << 10;

export class R2PackUpload {
  #buf: Uint8Array | undefined;
  #fill = 0;
  #parts: R2UploadedPart[] = [];
  #upload: R2MultipartUpload | undefined;
  #bytes = 0;

  /** `onStart` learns the multipart upload's id, so an interrupted upload can be found and aborted. */
  constructor(
    private readonly bucket: R2Bucket,
    readonly key: string,
    private readonly onStart: (uploadId: string) => void = () => undefined,
  ) {}

  get bytes(): number {
    return this.#bytes;
  }

  async write(chunk: Uint8Array): Promise<void> {
    let off = 0;
    this.#bytes += chunk.length;
    while (off < chunk.length) {
      const buf = this.#room(chunk.length - off);
      const n = Math.min(PART_BYTES - this.#fill, chunk.length - off);
      buf.set(chunk.subarray(off, off + n), this.#fill);
      this.#fill += n;
      off += n;
      if (this.#fill === PART_BYTES) await this.#flushPart();
    }
  }

  async complete(): Promise<void> {
    if (!this.#upload) {
      await this.bucket.put(this.key, this.#filled());
      this.#buf = undefined;
      return;
    }
    if (this.#fill > 0) await this.#flushPart();
    this.#buf = undefined;
    await this.#upload.complete(this.#parts);
  }

  /** Gives up the upload; what was written is left for GC to find by its key. */
  async abort(): Promise<void> {
    this.#buf = undefined;
    await this.#upload?.abort();
  }

  /** The part buffer, grown (up to PART_BYTES) so that `wanted` more bytes fit if a part allows. */
  #room(wanted: number): Uint8Array {
    const need = Math.min(PART_BYTES, this.#fill + wanted);
    if (this.#buf && this.#buf.length >= need) return this.#buf;
    let size = Math.max(this.#buf?.length ?? 0, FIRST_BUFFER_BYTES);
    while (size < need) size *= 2;
    const grown = new Uint8Array(Math.min(size, PART_BYTES));
    if (this.#buf) grown.set(this.#buf.subarray(0, this.#fill));
    this.#buf = grown;
    return grown;
  }

  #filled(): Uint8Array {
    return (this.#buf ?? new Uint8Array(0)).subarray(0, this.#fill);
  }

  async #flushPart() {
    if (!this.#upload) {
      this.#upload = await this.bucket.createMultipartUpload(this.key);
      this.onStart(this.#upload.uploadId);
    }
    this.#parts.push(await this.#upload.uploadPart(this.#parts.length + 1, this.#filled()));
    this.#fill = 0;
  }
}
