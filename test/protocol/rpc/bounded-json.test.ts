import { describe, expect, it } from "vitest";
import { GitError } from "../../../engine/errors.ts";
import { MAX_JSON_DEPTH, checkJsonDepth, jsonTextTooDeep, parseBoundedJson } from "../../../protocol/rpc/bounded-json.ts";

const nested = (depth: number, open = "[", close = "]") => open.repeat(depth) + close.repeat(depth);
/** `{"a":{"a":…1…}}`, `depth` objects deep, built without recursion. */
const nestedObjects = (depth: number) => '{"a":'.repeat(depth) + "1" + "}".repeat(depth);

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(GitError);
    return (e as GitError).code;
  }
  throw new Error("expected a refusal");
}

describe("jsonTextTooDeep", () => {
  it("allows exactly MAX_JSON_DEPTH levels and refuses one more, arrays and objects alike", () => {
    expect(jsonTextTooDeep(nested(MAX_JSON_DEPTH))).toBe(false);
    expect(jsonTextTooDeep(nested(MAX_JSON_DEPTH + 1))).toBe(true);
    expect(jsonTextTooDeep(nestedObjects(MAX_JSON_DEPTH))).toBe(false);
    expect(jsonTextTooDeep(nestedObjects(MAX_JSON_DEPTH + 1))).toBe(true);
  });

  it("does not count brackets inside strings, escaped quotes included", () => {
    const s = JSON.stringify({ a: "[".repeat(1000) + '\\"{{{' + "{".repeat(1000) });
    expect(jsonTextTooDeep(s)).toBe(false);
    expect(JSON.parse(s)).toBeTypeOf("object");
  });

  it("counts siblings as one level, not many", () => {
    expect(jsonTextTooDeep(`[${Array.from({ length: 1000 }, () => "[]").join(",")}]`)).toBe(false);
  });
});

describe("parseBoundedJson", () => {
  it("refuses 5,000 levels (a 500 before) and 100,000 without touching the stack", () => {
    expect(codeOf(() => parseBoundedJson(nested(5000), "the body"))).toBe("rpc-bad-input");
    expect(codeOf(() => parseBoundedJson(nestedObjects(100_000), "the body"))).toBe("rpc-bad-input");
  });

  it("refuses text that is not JSON with the caller's code, and parses what is", () => {
    expect(codeOf(() => parseBoundedJson("{", "the body", "bad-settings"))).toBe("bad-settings");
    expect(codeOf(() => parseBoundedJson("\u0000\u00ff", "the body"))).toBe("rpc-bad-input");
    expect(parseBoundedJson('{"a":[1,{"b":"]"}]}', "the body")).toEqual({ a: [1, { b: "]" }] });
  });
});

describe("checkJsonDepth", () => {
  it("allows max levels of a parsed value and refuses one more", () => {
    expect(() => checkJsonDepth(JSON.parse(nested(MAX_JSON_DEPTH)), "x")).not.toThrow();
    expect(codeOf(() => checkJsonDepth(JSON.parse(nested(MAX_JSON_DEPTH + 1)), "x"))).toBe("rpc-bad-input");
    expect(codeOf(() => checkJsonDepth(JSON.parse(nestedObjects(20_000)), "x"))).toBe("rpc-bad-input");
  });

  it("treats bytes and dates as leaves", () => {
    expect(() => checkJsonDepth({ a: new Uint8Array(10_000), d: new Date() }, "x", 1)).not.toThrow();
  });
});
