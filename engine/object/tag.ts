/**
 * Annotated tag objects: object, type, tag, an optional tagger, other headers, then the message.
 * Invariants:
 * - `encodeTag(decodeTag(b))` equals `b` for every tag this accepts that has a blank line before its
 *   message. A SHA-1 tag's signature is part of its message, so it round-trips untouched.
 * - The declared type is one of the four object types; whether the object has that type is a
 *   connectivity question, not a codec one.
 * Spec: git-mktag(1); fsck.c's tag checks (git-fsck(1) "FSCK MESSAGES").
 */
import { isOid, type Oid } from "../oid.ts";
import { decodeSignature, encodeSignature, type Signature } from "./commit.ts";
import { bytesToText, isObjectType, encodeHeaderLine, malformed, splitHeaders, textToBytes } from "./object-header.ts";
import type { ObjectType } from "./types.ts";

export interface Tag {
  object: Oid;
  type: ObjectType;
  tag: string;
  /** Absent in some very old tags; fsck only notes it. */
  tagger?: Signature;
  /** Headers after tagger (or after tag, if there is no tagger), in order. */
  extraHeaders: [string, string][];
  message: string;
}

export function decodeTag(data: Uint8Array): Tag {
  const { headers, message } = splitHeaders(bytesToText(data), "tag");
  let i = 0;
  const take = (key: string) => (headers[i]?.[0] === key ? headers[i++]![1] : undefined);

  const object = take("object");
  if (object === undefined) throw malformed("tag", "missing object line first");
  if (!isOid(object)) throw malformed("tag", "bad object sha1");
  const type = take("type");
  if (type === undefined) throw malformed("tag", "missing type line after object");
  if (!isObjectType(type)) throw malformed("tag", `bad type ${JSON.stringify(type)}`);
  const tag = take("tag");
  if (tag === undefined) throw malformed("tag", "missing tag line after type");
  const tagger = take("tagger");
  return {
    object,
    type,
    tag,
    ...(tagger === undefined ? {} : { tagger: decodeSignature(tagger, "tag", "tagger") }),
    extraHeaders: headers.slice(i),
    message,
  };
}

export function encodeTag(t: Tag): Uint8Array {
  let s = encodeHeaderLine("object", t.object) + encodeHeaderLine("type", t.type) + encodeHeaderLine("tag", t.tag);
  if (t.tagger) s += encodeHeaderLine("tagger", encodeSignature(t.tagger));
  for (const [k, v] of t.extraHeaders) s += encodeHeaderLine(k, v);
  return textToBytes(s + "\n" + t.message);
}
