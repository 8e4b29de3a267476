import { describe, expect, it } from "vitest";
import { concatBytes, utf8 } from "../../../engine/bytes.ts";
import { hashObject } from "../../../engine/hash.ts";
import { hexToBytes, type Oid } from "../../../engine/oid.ts";
import { encodeTree, entryKind, type TreeEntry } from "../../../engine/object/tree.ts";
import { changedEntries } from "../../../engine/walk/tree-diff.ts";

const id = (s: string) => hashObject("blob", utf8(s)) as Oid;
const BLOB = "100644";
const DIR = "40000";
const tree = (entries: [string, string, string][]) => {
  const list: TreeEntry[] = entries.map(([mode, name, content]) => ({ mode, name, oid: id(content) }));
  return { oid: hashObject("tree", encodeTree(list)) as Oid, data: encodeTree(list), list };
};

/** What the diff must find, by name and kind: each entry no parent has with the same id. */
function expected(t: ReturnType<typeof tree>, parents: ReturnType<typeof tree>[]) {
  const isTree = (e: TreeEntry) => entryKind(e.mode) === "tree";
  return t.list
    .filter((e) => entryKind(e.mode) !== "commit")
    .flatMap((e) => {
      const prev = parents.flatMap((p, parent) => p.list.filter((o) => o.name === e.name && isTree(o) === isTree(e)).map((o) => ({ oid: o.oid, parent })));
      return prev.some((p) => p.oid === e.oid) ? [] : [{ oid: e.oid, isTree: isTree(e), prev }];
    })
    .sort((a, b) => (a.oid < b.oid ? -1 : 1));
}
const sorted = (r: ReturnType<typeof changedEntries>) => [...r.changed].sort((a, b) => (a.oid < b.oid ? -1 : 1));

describe("changedEntries", () => {
  // Names whose order depends on the "/" a subtree's name sorts with: "a" (dir) after "a-b" and "a.c".
  const base = tree([
    [BLOB, "a-b", "1"],
    [BLOB, "a.c", "2"],
    [DIR, "a", "tree a"],
    [BLOB, "a0", "3"],
    ["120000", "link", "target"],
    ["160000", "sub", "a commit"],
    ["100755", "run.sh", "script"],
  ]);

  it("finds nothing in a tree equal to its parent", () => {
    expect(changedEntries(base, [base])).toEqual({ changed: [], held: [] });
  });

  it("sends every entry but gitlinks when there is no parent", () => {
    expect(sorted(changedEntries(base, []))).toEqual(expected(base, []));
    expect(changedEntries(base, []).changed.length).toBe(6);
  });

  it("matches names in git's order: edits, additions, removals, mode-only and kind changes", () => {
    const next = tree([
      [BLOB, "a-b", "1 edited"],
      [DIR, "a.c", "now a dir"], // was a blob: a new entry, not an edit
      [DIR, "a", "tree a edited"],
      ["120000", "link", "target"],
      ["160000", "sub", "another commit"],
      [BLOB, "run.sh", "script"], // mode change only: same id, unchanged
      [BLOB, "z", "new"],
    ]);
    const got = sorted(changedEntries(next, [base]));
    expect(got).toEqual(expected(next, [base]));
    expect(got.map((e) => e.oid)).toEqual(expect.arrayContaining([id("1 edited"), id("now a dir"), id("tree a edited"), id("new")]));
    expect(got.find((e) => e.oid === id("tree a edited"))).toEqual({ oid: id("tree a edited"), isTree: true, prev: [{ oid: id("tree a"), parent: 0 }] });
    expect(got.find((e) => e.oid === id("now a dir"))!.prev).toEqual([]);
  });

  it("skips an entry any parent has, and names each parent's entry otherwise", () => {
    const left = tree([[BLOB, "f", "left"], [BLOB, "g", "same"], [BLOB, "h", "h1"]]);
    const right = tree([[BLOB, "f", "right"], [BLOB, "g", "other"]]);
    const merge = tree([[BLOB, "f", "merged"], [BLOB, "g", "same"], [BLOB, "h", "h2"], [BLOB, "i", "new"]]);
    const got = sorted(changedEntries(merge, [left, right]));
    expect(got).toEqual(expected(merge, [left, right]));
    expect(got.find((e) => e.oid === id("merged"))!.prev).toEqual([{ oid: id("left"), parent: 0 }, { oid: id("right"), parent: 1 }]);
  });

  it("reports every entry id of the parents it is asked to expand, gitlinks excepted, unchanged ones too", () => {
    const left = tree([[BLOB, "f", "left"], [BLOB, "g", "same"], ["160000", "sub", "a commit"]]);
    const right = tree([[BLOB, "f", "right"], [DIR, "d", "a dir"]]);
    const merge = tree([[BLOB, "f", "merged"], [BLOB, "g", "same"]]);
    expect(changedEntries(merge, [left, right]).held).toEqual([]);
    expect(changedEntries(merge, [left, right], [0]).held).toEqual([id("left"), id("same")]);
    expect(changedEntries(merge, [left, right], [1, 0]).held).toEqual([id("a dir"), id("right"), id("left"), id("same")]);
    expect(changedEntries(merge, [left, right], [1]).changed).toEqual(changedEntries(merge, [left, right]).changed);
  });

  it("throws object-corrupt on a tree out of git's order or cut off", () => {
    const row = (mode: string, name: string, content: string) => concatBytes([utf8(`${mode} ${name}\0`), hexToBytes(id(content))]);
    const unsorted = { oid: id("x"), data: concatBytes([row(BLOB, "b", "1"), row(BLOB, "a", "2")]) };
    expect(() => changedEntries(unsorted, [])).toThrow(expect.objectContaining({ code: "object-corrupt" }));
    expect(() => changedEntries(base, [unsorted])).toThrow(expect.objectContaining({ code: "object-corrupt" }));
    const cut = { oid: id("y"), data: base.data.subarray(0, base.data.length - 3) };
    expect(() => changedEntries(cut, [])).toThrow(expect.objectContaining({ code: "object-corrupt" }));
    const badMode = { oid: id("z"), data: row("10x644", "a", "1") };
    expect(() => changedEntries(badMode, [])).toThrow(expect.objectContaining({ code: "object-corrupt" }));
  });
});
