/**
 * The ids an object points at, which is what a connectivity check walks.
 * Invariants:
 * - Gitlinks (mode 160000) are not followed: they name a commit in another repository.
 * - Commits and tags are read only as far as their link headers, in fsck's order; names, dates and
 *   messages are not decoded, so a walk costs little per object.
 * Spec: git-fsck(1) (connectivity: every object reachable from a ref exists); git-rev-list(1) `--objects`.
 */
import { isOid, type Oid } from "../oid.ts";
import { bytesToText, isObjectType, headerBytes, malformed, splitHeaders } from "./object-header.ts";
import { decodeTree, entryKind } from "./tree.ts";
import type { ObjectType } from "./types.ts";

export interface Reference {
  oid: Oid;
  /** The type the referrer claims; "unknown" when a tag declares a type git does not know. */
  type: ObjectType | "unknown";
}

export function referencedIds(type: ObjectType, data: Uint8Array): Reference[] {
  switch (type) {
    case "blob":
      return [];
    case "tree":
      return decodeTree(data)
        .filter((e) => entryKind(e.mode) !== "commit")
        .map((e) => ({ oid: e.oid, type: entryKind(e.mode) }));
    case "commit": {
      const headers = splitHeaders(bytesToText(headerBytes(data)), "commit").headers;
      if (headers[0]?.[0] !== "tree") throw malformed("commit", "missing tree line first");
      const refs: Reference[] = [{ oid: linkOid(headers[0][1], "commit", "tree"), type: "tree" }];
      for (let i = 1; headers[i]?.[0] === "parent"; i++) {
        refs.push({ oid: linkOid(headers[i]![1], "commit", "parent"), type: "commit" });
      }
      return refs;
    }
    case "tag": {
      const headers = splitHeaders(bytesToText(headerBytes(data)), "tag").headers;
      if (headers[0]?.[0] !== "object") throw malformed("tag", "missing object line first");
      const oid = linkOid(headers[0][1], "tag", "object");
      const declared = headers[1]?.[0] === "type" ? headers[1][1] : undefined;
      if (declared === undefined) throw malformed("tag", "missing type line after object");
      return [{ oid, type: isObjectType(declared) ? declared : "unknown" }];
    }
  }
}

function linkOid(value: string, what: ObjectType, key: string): Oid {
  if (!isOid(value)) throw malformed(what, `bad ${key} sha1`);
  return value;
}
