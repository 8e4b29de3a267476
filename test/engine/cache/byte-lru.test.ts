import { describe, expect, it } from "vitest";
import { ByteLru } from "../../../engine/cache/byte-lru.ts";

const lru = (budget: number) => new ByteLru<string, Uint8Array>(budget, (v) => v.length);
const bytes = (n: number) => new Uint8Array(n);

describe("ByteLru", () => {
  it("evicts the least recently used items first, until the budget holds", () => {
    const c = lru(100);
    c.set("a", bytes(25));
    c.set("b", bytes(25));
    c.set("c", bytes(25));
    c.get("a"); // b is now the oldest
    c.set("d", bytes(25));
    c.set("e", bytes(20));
    expect(["a", "b", "c", "d", "e"].filter((k) => c.has(k))).toEqual(["a", "c", "d", "e"]);
    expect(c.bytes).toBe(95);
    c.set("f", bytes(25));
    expect(["a", "c", "d", "e", "f"].filter((k) => c.has(k))).toEqual(["a", "d", "e", "f"]);
  });

  it("never keeps an item over a quarter of the budget, and replacing a key frees the old value", () => {
    const c = lru(100);
    c.set("a", bytes(20));
    c.set("a", bytes(26));
    expect(c.has("a")).toBe(false);
    expect(c.bytes).toBe(0);
    c.set("a", bytes(25));
    c.set("a", bytes(10));
    expect(c.bytes).toBe(10);
    c.delete("a");
    c.delete("a");
    expect(c.bytes).toBe(0);
    expect(c.get("a")).toBeUndefined();
  });

  it("stays within budget through heavy churn, holding the newest items", () => {
    const c = lru(1000);
    for (let i = 0; i < 100_000; i++) {
      c.set(`k${i}`, bytes(1 + (i % 50)));
      if (i % 3 === 0) c.get(`k${i - 7}`);
      expect(c.bytes).toBeLessThanOrEqual(1000);
    }
    expect(c.has("k99999")).toBe(true);
    expect(c.has("k0")).toBe(false);
  });
});
