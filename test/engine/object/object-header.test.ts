import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  bytesToText,
  encodeHeaderLine,
  encodeObjectHeader,
  headerBytes,
  isObjectType,
  splitHeaders,
  textToBytes,
} from "../../../engine/object/object-header.ts";

const enc = (s: string) => new TextEncoder().encode(s);

describe("encodeObjectHeader", () => {
  it("writes `<type> <size>\\0`", () => {
    expect(new TextDecoder().decode(encodeObjectHeader("blob", 12))).toBe("blob 12\0");
    expect(new TextDecoder().decode(encodeObjectHeader("tree", 0))).toBe("tree 0\0");
  });
});

describe("isObjectType", () => {
  it("knows exactly the four object types", () => {
    expect(["commit", "tree", "blob", "tag"].every(isObjectType)).toBe(true);
    expect(["", "Blob", "ofs-delta", "commit "].some(isObjectType)).toBe(false);
  });
});

describe("bytesToText / textToBytes", () => {
  it("decodes valid UTF-8 like TextDecoder, BOM included", () => {
    const b = enc("\ufeffgrüße, 日本, 🎉, \u0000");
    expect(bytesToText(b)).toBe("\ufeffgrüße, 日本, 🎉, \u0000");
    expect(textToBytes(bytesToText(b))).toEqual(b);
  });

  it("maps each byte of an invalid sequence to U+DC00 + byte", () => {
    // latin-1 é, a lone continuation byte, an overlong NUL, an encoded surrogate, a cut-off 3-byte sequence
    const b = Uint8Array.from([0x63, 0xe9, 0x80, 0xc0, 0x80, 0xed, 0xa0, 0x80, 0xe6, 0x97]);
    expect(bytesToText(b)).toBe("c\udce9\udc80\udcc0\udc80\udced\udca0\udc80\udce6\udc97");
    expect(textToBytes(bytesToText(b))).toEqual(b);
  });

  it("keeps valid sequences next to invalid bytes", () => {
    const b = Uint8Array.from([...enc("é"), 0xff, ...enc("🎉"), 0xf5, ...enc("x")]);
    expect(bytesToText(b)).toBe("é\udcff🎉\udcf5x");
    expect(textToBytes(bytesToText(b))).toEqual(b);
  });

  it("round-trips random bytes exactly", () => {
    for (let k = 0; k < 200; k++) {
      const b = new Uint8Array(randomBytes(1 + (k % 64) * 7));
      expect(textToBytes(bytesToText(b))).toEqual(b);
    }
  });

  it("does not take the low half of a surrogate pair for an escaped byte", () => {
    const s = "\u{10080}"; // its low surrogate is U+DC80
    expect(textToBytes(s + "\udc80")).toEqual(Uint8Array.from([...enc(s), 0x80]));
  });
});

describe("splitHeaders", () => {
  it("joins continuation lines and separates the message", () => {
    const text = "tree x\ngpgsig -----BEGIN-----\n \n abc\n -----END-----\nfoo bar baz\n\nmsg\n\nbody\n";
    const { headers, message } = splitHeaders(text, "commit");
    expect(headers).toEqual([
      ["tree", "x"],
      ["gpgsig", "-----BEGIN-----\n\nabc\n-----END-----"],
      ["foo", "bar baz"],
    ]);
    expect(message).toBe("msg\n\nbody\n");
    expect(headers.map(([k, v]) => encodeHeaderLine(k, v)).join("") + "\n" + message).toBe(text);
  });

  it("accepts a header block without a message, as fsck does", () => {
    expect(splitHeaders("tree x\n", "commit")).toEqual({ headers: [["tree", "x"]], message: "" });
  });

  it.each([
    ["", "unterminated header"],
    ["tree x", "unterminated header"],
    ["tree x\0\n\nmsg", "NUL in header"],
    [" lead\n\n", "continuation line before any header"],
    ["tree x\nnovalue\n\n", "header line without a value"],
  ])("rejects %j: %s", (text, reason) => {
    expect(() => splitHeaders(text, "commit")).toThrow(
      expect.objectContaining({ code: "object-malformed", data: expect.objectContaining({ reason: expect.stringContaining(reason) }) }),
    );
  });

  it("lets a NUL stand in the message", () => {
    expect(splitHeaders("tree x\n\na\0b", "commit").message).toBe("a\0b");
  });
});

describe("headerBytes", () => {
  it("stops at the blank line, or takes everything when there is none", () => {
    expect(headerBytes(enc("a b\nc d\n\nmsg\n\nmore"))).toEqual(enc("a b\nc d\n"));
    expect(headerBytes(enc("a b\n"))).toEqual(enc("a b\n"));
    expect(headerBytes(enc("a b"))).toEqual(enc("a b"));
  });
});
