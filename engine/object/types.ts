/**
 * Git's object kinds and the numeric types a pack entry header carries.
 * Spec: gitformat-pack(5), "Object types".
 */
export type ObjectType = "commit" | "tree" | "blob" | "tag";

export const PACK_TYPE = { commit: 1, tree: 2, blob: 3, tag: 4, ofsDelta: 6, refDelta: 7 } as const;
export type PackEntryType = 1 | 2 | 3 | 4 | 6 | 7;

export const OBJECT_TYPE_BY_CODE: Readonly<Record<number, ObjectType>> = { 1: "commit", 2: "tree", 3: "blob", 4: "tag" };
export const CODE_BY_OBJECT_TYPE: Readonly<Record<ObjectType, 1 | 2 | 3 | 4>> = { commit: 1, tree: 2, blob: 3, tag: 4 };

export function isDeltaType(t: number): t is 6 | 7 {
  return t === 6 || t === 7;
}

/** An object's type and inflated content. */
export interface GitObject {
  type: ObjectType;
  data: Uint8Array;
}
