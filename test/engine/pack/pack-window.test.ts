import { describe, expect, it } from "vitest";
import { PackWindow } from "../../../engine/pack/pack-window.ts";

const stream = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + 7) & 0xff);

describe("PackWindow", () => {
  it.each([1, 5, 64, 1000])("answers exactly the ranges within the last 100 bytes, fed in %d-byte pieces", (piece) => {
    const all = stream(1000);
    const w = new PackWindow(100);
    for (let at = 0; at < all.length; at += piece) {
      w.append(all.subarray(at, at + piece));
      const end = Math.min(at + piece, all.length);
      for (const [offset, length] of [[end - 100, 100], [end - 37, 20], [end - 1, 1], [end - 101, 10], [end - 10, 11], [end, 1]] as const) {
        const got = w.read(offset, length);
        const inside = offset >= Math.max(0, end - 100) && offset + length <= end;
        if (inside) expect(got).toEqual(all.slice(offset, offset + length));
        else expect(got).toBeUndefined();
      }
    }
  });

  it("keeps only the tail of a piece longer than itself", () => {
    const w = new PackWindow(8);
    w.append(stream(30));
    expect(w.read(22, 8)).toEqual(stream(30).slice(22));
    expect(w.read(21, 2)).toBeUndefined();
  });

  it("holds nothing with no budget", () => {
    const w = new PackWindow(0);
    w.append(stream(10));
    expect(w.read(9, 1)).toBeUndefined();
  });
});
