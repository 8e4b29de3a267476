/**
 * Line diff by Myers' O(ND) algorithm in linear space: find the middle snake of the shortest edit
 * script, recurse on both halves. Returns one op per line: keep, delete (old) or insert (new).
 * Invariants:
 * - The ops replay `a` into `b`: keeps and deletes consume `a` in order, keeps and inserts `b`.
 * - Work is bounded by `budget` comparisons; a sub-problem that would exceed it is answered with
 *   "delete all, insert all": still a correct script, just not a minimal one.
 * Spec: E. W. Myers, "An O(ND) Difference Algorithm and Its Variations" (1986), section 4b.
 */
export const KEEP = 0;
export const DEL = 1;
export const INS = 2;
export type DiffOp = typeof KEEP | typeof DEL | typeof INS;

export interface DiffBudget {
  /** Diagonal steps left for the whole request. */
  steps: number;
}

export function diffLines(a: readonly string[], b: readonly string[], budget: DiffBudget): DiffOp[] {
  const ids = new Map<string, number>();
  const intern = (s: string) => {
    let id = ids.get(s);
    if (id === undefined) ids.set(s, (id = ids.size));
    return id;
  };
  const A = Int32Array.from(a, intern);
  const B = Int32Array.from(b, intern);
  const ops: DiffOp[] = [];
  solve(A, 0, A.length, B, 0, B.length, ops, budget);
  return ops;
}

function solve(A: Int32Array, aLo: number, aHi: number, B: Int32Array, bLo: number, bHi: number, ops: DiffOp[], budget: DiffBudget): void {
  let prefix = 0;
  while (aLo + prefix < aHi && bLo + prefix < bHi && A[aLo + prefix] === B[bLo + prefix]) prefix++;
  for (let i = 0; i < prefix; i++) ops.push(KEEP);
  aLo += prefix;
  bLo += prefix;
  let suffix = 0;
  while (aHi - suffix > aLo && bHi - suffix > bLo && A[aHi - 1 - suffix] === B[bHi - 1 - suffix]) suffix++;
  aHi -= suffix;
  bHi -= suffix;

  if (aLo === aHi || bLo === bHi || budget.steps <= 0) {
    for (let i = aLo; i < aHi; i++) ops.push(DEL);
    for (let i = bLo; i < bHi; i++) ops.push(INS);
  } else {
    const snake = middleSnake(A, aLo, aHi, B, bLo, bHi, budget);
    if (!snake) {
      for (let i = aLo; i < aHi; i++) ops.push(DEL);
      for (let i = bLo; i < bHi; i++) ops.push(INS);
    } else {
      const [x, y, u, v] = snake;
      solve(A, aLo, aLo + x, B, bLo, bLo + y, ops, budget);
      for (let i = x; i < u; i++) ops.push(KEEP);
      solve(A, aLo + u, aHi, B, bLo + v, bHi, ops, budget);
    }
  }
  for (let i = 0; i < suffix; i++) ops.push(KEEP);
}

/**
 * The middle snake of the shortest edit script, as [x, y, u, v] relative to (aLo, bLo): the script
 * goes through (x, y), follows the diagonal to (u, v), and continues. Null if the budget ran out.
 */
function middleSnake(A: Int32Array, aLo: number, aHi: number, B: Int32Array, bLo: number, bHi: number, budget: DiffBudget): [number, number, number, number] | null {
  const N = aHi - aLo;
  const M = bHi - bLo;
  const delta = N - M;
  const odd = (delta & 1) !== 0;
  const max = (N + M + 1) >> 1;
  const off = max + 1;
  // vf[k]: furthest x on diagonal k = x - y going forward; vb[c]: furthest distance from the end on
  // reverse diagonal c going backward (c = delta - k).
  const vf = new Int32Array(2 * max + 3);
  const vb = new Int32Array(2 * max + 3);
  for (let d = 0; d <= max; d++) {
    budget.steps -= 2 * d + 1;
    if (budget.steps < 0) return null;
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && vf[off + k - 1]! < vf[off + k + 1]!) ? vf[off + k + 1]! : vf[off + k - 1]! + 1;
      let y = x - k;
      const sx = x;
      const sy = y;
      while (x < N && y < M && A[aLo + x] === B[bLo + y]) {
        x++;
        y++;
      }
      vf[off + k] = x;
      const c = delta - k;
      if (odd && c >= -(d - 1) && c <= d - 1 && x + vb[off + c]! >= N) return [sx, sy, x, y];
    }
    for (let c = -d; c <= d; c += 2) {
      let xr = c === -d || (c !== d && vb[off + c - 1]! < vb[off + c + 1]!) ? vb[off + c + 1]! : vb[off + c - 1]! + 1;
      let yr = xr - c;
      const sxr = xr;
      const syr = yr;
      while (xr < N && yr < M && A[aHi - 1 - xr] === B[bHi - 1 - yr]) {
        xr++;
        yr++;
      }
      vb[off + c] = xr;
      const k = delta - c;
      if (!odd && k >= -d && k <= d && xr + vf[off + k]! >= N) return [N - xr, M - yr, N - sxr, M - syr];
    }
  }
  return null;
}
