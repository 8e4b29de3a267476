/**
 * Diffs a tree against the same path's trees in its parents, on the raw bytes: entries are matched
 * by merging the trees in git's order, and only the ids of entries that differ are decoded, so a
 * commit that changes one file costs one decoded id per tree on its path, not whole trees.
 * Invariants:
 * - An entry is unchanged when some parent has an entry of the same name and kind (tree or not)
 *   with the same id; every other entry is returned, gitlinks excepted, with the ids of the parents'
 *   entries of that name and kind.
 * - Every tree is read front to back once; one whose entries are not strictly in git's order (a
 *   subtree's name sorts as if it ended in "/") is corrupt and throws, since matching relies on it.
 * - The parents named in `expand` (trees the client holds) have every entry's id reported in
 *   `held`, gitlinks excepted: the client has all of them, wherever the new tree puts them.
 * Spec: git's base_name_compare() (tree order); gitformat-index(5) "tree" is not it: see git-mktree(1).
 */
import { GitError } from "../errors.ts";
import { OID_BYTES, oidFromBytes, type Oid } from "../oid.ts";

/** One pair's diff: the new tree's changed entries, and the ids of the expanded parents' entries. */
export interface TreeChanges {
  changed: ChangedEntry[];
  held: Oid[];
}

export interface ChangedEntry {
  oid: Oid;
  isTree: boolean;
  /** The entries of the same name and kind in the parents, by the parent's index. */
  prev: { oid: Oid; parent: number }[];
}

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFGITLINK = 0o160000;

/** A position in a tree's bytes: the current entry's name, type bits and id. */
class TreeCursor {
  nameStart = 0;
  nameEnd = 0;
  type = 0;
  oidAt = 0;
  #next = 0;

  constructor(
    readonly data: Uint8Array,
    readonly tree: Oid,
  ) {}

  get done(): boolean {
    return this.nameEnd === -1;
  }

  /** Moves to the next entry (or to the end, `done`), checking it sorts after the current one. */
  advance(): void {
    const d = this.data;
    const at = this.#next;
    if (at >= d.length) {
      this.nameEnd = -1;
      return;
    }
    let mode = 0;
    let i = at;
    for (; i < d.length && d[i] !== 0x20; i++) {
      const digit = d[i]! - 0x30;
      if (digit < 0 || digit > 7) throw this.#corrupt(`malformed mode at offset ${at}`);
      mode = mode * 8 + digit;
    }
    const nul = d.indexOf(0, i + 1);
    if (i >= d.length || nul === -1 || nul + 1 + OID_BYTES > d.length) throw this.#corrupt(`entry at offset ${at} is cut off`);
    const type = mode & S_IFMT;
    if (at > 0 && compareNames(d, this.nameStart, this.nameEnd, this.type, d, i + 1, nul, type) >= 0)
      throw this.#corrupt(`entries are not in git's order at offset ${at}`);
    this.nameStart = i + 1;
    this.nameEnd = nul;
    this.type = type;
    this.oidAt = nul + 1;
    this.#next = nul + 1 + OID_BYTES;
  }

  /** The current entry against another cursor's, in git's order. */
  compare(o: TreeCursor): number {
    return compareNames(this.data, this.nameStart, this.nameEnd, this.type, o.data, o.nameStart, o.nameEnd, o.type);
  }

  sameOid(o: TreeCursor): boolean {
    for (let k = 0; k < OID_BYTES; k++) if (this.data[this.oidAt + k] !== o.data[o.oidAt + k]) return false;
    return true;
  }

  oid(): Oid {
    return oidFromBytes(this.data, this.oidAt);
  }

  #corrupt(why: string): GitError {
    return new GitError("object-corrupt", `tree ${this.tree}: ${why}`);
  }
}

/** git's base_name_compare: names as bytes, a subtree's name taken to end in "/". */
function compareNames(a: Uint8Array, as: number, ae: number, at: number, b: Uint8Array, bs: number, be: number, bt: number): number {
  const n = Math.min(ae - as, be - bs);
  for (let k = 0; k < n; k++) {
    const d = a[as + k]! - b[bs + k]!;
    if (d !== 0) return d;
  }
  const ca = as + n < ae ? a[as + n]! : at === S_IFDIR ? 0x2f : 0;
  const cb = bs + n < be ? b[bs + n]! : bt === S_IFDIR ? 0x2f : 0;
  return ca - cb;
}

/**
 * The entries of `tree` that differ from every one of `parents` (raw tree bytes with their ids),
 * and every entry id of the parents at the indexes in `expand`.
 */
export function changedEntries(
  tree: { oid: Oid; data: Uint8Array },
  parents: readonly { oid: Oid; data: Uint8Array }[],
  expand: readonly number[] = [],
): TreeChanges {
  const cur = new TreeCursor(tree.data, tree.oid);
  const olds = parents.map((p) => new TreeCursor(p.data, p.oid));
  for (const o of olds) o.advance();
  const out: ChangedEntry[] = [];
  entries: for (cur.advance(); !cur.done; cur.advance()) {
    if (cur.type === S_IFGITLINK) continue; // gitlinks name commits of other repositories
    const prev: { oid: Oid; parent: number }[] = [];
    for (let p = 0; p < olds.length; p++) {
      const o = olds[p]!;
      let c = -1;
      while (!o.done && (c = o.compare(cur)) < 0) o.advance();
      if (o.done || c !== 0) continue;
      if (o.sameOid(cur)) continue entries;
      prev.push({ oid: o.oid(), parent: p });
    }
    out.push({ oid: cur.oid(), isTree: cur.type === S_IFDIR, prev });
  }
  const held: Oid[] = [];
  for (const p of expand) {
    const c = new TreeCursor(parents[p]!.data, parents[p]!.oid);
    for (c.advance(); !c.done; c.advance()) if (c.type !== S_IFGITLINK) held.push(c.oid());
  }
  return { changed: out, held };
}
