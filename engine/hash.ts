/**
 * SHA-1 object ids: an object's id is the SHA-1 of `<type> <size>\0` followed by its content.
 * Invariants:
 * - `ObjectHasher` yields an id only after exactly the declared number of bytes; anything else is an
 *   error, because an id over the wrong length would name some other object.
 * Spec: gitformat-loose(5) "Object format"; object-format=sha1 only (see engine/oid.ts).
 */
import { createHash, type Hash } from "node:crypto";
import { GitError } from "./errors.ts";
import { bytesToHex, type Oid } from "./oid.ts";
import { encodeObjectHeader } from "./object/object-header.ts";
import type { ObjectType } from "./object/types.ts";
import { sha1ObjectId } from "./sha1.ts";

export type HashErrorCode = "object-size-mismatch";

/**
 * Up to this size `hashObject` hashes in TypeScript (sha1.ts). Timed inside workerd, medians of 5:
 * node:crypto costs 5-11 us a call up to 2 KiB, mostly its wrappers (20 us at 16 KiB); TypeScript
 * ~1 us at 100 B, ~4 us at 600 B, ~6 us at 1 KiB, then ~5 us more per KiB (11 us at 2 KiB).
 */
const TS_HASH_MAX_BYTES = 1024;

/** The 20-byte SHA-1 of the concatenated parts. */
export function sha1(...parts: Uint8Array[]): Uint8Array {
  const h = createHash("sha1");
  for (const p of parts) h.update(p);
  const d = h.digest();
  return new Uint8Array(d.buffer, d.byteOffset, d.length); // a plain Uint8Array view, never a Buffer
}

export function hashObject(type: ObjectType, data: Uint8Array): Oid {
  if (data.length <= TS_HASH_MAX_BYTES) return sha1ObjectId(type, data);
  return bytesToHex(sha1(encodeObjectHeader(type, data.length), data)) as Oid;
}

/** Hashes an object whose content arrives in chunks, e.g. while a pack entry inflates. */
export class ObjectHasher {
  readonly #hash: Hash;
  readonly #size: number;
  #seen = 0;

  constructor(type: ObjectType, size: number) {
    this.#size = size;
    this.#hash = createHash("sha1").update(encodeObjectHeader(type, size));
  }

  update(chunk: Uint8Array): void {
    this.#seen += chunk.length;
    if (this.#seen > this.#size) throw this.#mismatch();
    this.#hash.update(chunk);
  }

  digest(): Oid {
    if (this.#seen !== this.#size) throw this.#mismatch();
    return this.#hash.digest("hex") as Oid;
  }

  #mismatch(): GitError<HashErrorCode> {
    return new GitError("object-size-mismatch", `object declared ${this.#size} bytes but got ${this.#seen}`, {
      data: { declared: this.#size, seen: this.#seen },
    });
  }
}
