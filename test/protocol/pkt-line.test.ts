import { describe, expect, it } from "vitest";
import { utf8 } from "../../engine/index.ts";
import {
  describePktLine,
  MAX_PKT_LENGTH,
  MAX_PKT_PAYLOAD,
  PKT_DELIM,
  PKT_FLUSH,
  PKT_RESPONSE_END,
  pktLine,
  pktText,
  readPktLine,
  type PktLine,
} from "../../protocol/pkt-line.ts";
import { asLatin1, expectGitError, latin1, readerOf } from "./helpers.ts";

async function readAll(input: string | Uint8Array, chunk?: number): Promise<PktLine[]> {
  const r = readerOf(input, chunk);
  const out: PktLine[] = [];
  for (let line = await readPktLine(r); line !== null; line = await readPktLine(r)) out.push(line);
  return out;
}

describe("readPktLine", () => {
  it("reads data, 0004 and the markers, then null at a clean end", async () => {
    const lines = await readAll("0006a\n0005a000bfoobar\n0004000000010002");
    expect(lines.map((l) => (l.type === "data" ? asLatin1(l.payload) : l.type))).toEqual([
      "a\n",
      "a",
      "foobar\n",
      "",
      "flush",
      "delim",
      "response-end",
    ]);
  });

  it("gives the same lines when the input arrives one byte at a time", async () => {
    const input = "0014command=ls-refs\n0014agent=git/2.39.50001000dthin-pack0000";
    expect(await readAll(input, 1)).toEqual(await readAll(input));
  });

  it("accepts upper-case hex lengths, as git does", async () => {
    const [line] = await readAll("000Ahello\n");
    expect(pktText(line!)).toBe("hello");
  });

  it("reads a line of the maximum length", async () => {
    const payload = new Uint8Array(MAX_PKT_PAYLOAD).fill(0x61);
    const [line] = await readAll(pktLine(payload));
    expect(line).toEqual({ type: "data", payload });
    expect(asLatin1(pktLine(payload)).slice(0, 4)).toBe("fff0");
  });

  it("leaves the reader at the first byte after the line", async () => {
    const r = readerOf("0000PACK\x00\x00\x00\x02");
    expect(await readPktLine(r)).toEqual({ type: "flush" });
    expect(r.position).toBe(4);
    await r.fill(4);
    expect(asLatin1(r.peek(4))).toBe("PACK");
  });

  it.each([["0003"], ["fff1"], ["ffff"], ["00g4"], ["-004"], [" 004"], ["0x04"]])("rejects the length %j", async (len) => {
    await expectGitError(() => readAll(`${len}abcdefgh`), "pkt-line-malformed");
  });

  it.each([["0"], ["00"], ["000"], ["0009do"], ["0006a"], ["0006a\n0008NAK"]])("rejects input %j that ends inside a line", async (input) => {
    await expectGitError(() => readAll(input), "pkt-line-truncated");
  });

  it("returns null for empty input", async () => {
    expect(await readPktLine(readerOf(""))).toBeNull();
  });
});

describe("pktLine", () => {
  it("prefixes the total length in 4 lower-case hex digits", () => {
    expect(asLatin1(pktLine("a\n"))).toBe("0006a\n");
    expect(asLatin1(pktLine(""))).toBe("0004");
    expect(asLatin1(pktLine("x".repeat(0xfe - 4)))).toBe(`00fe${"x".repeat(0xfa)}`);
    expect(asLatin1(pktLine(latin1("\x01\x00\xff")))).toBe("0007\x01\x00\xff");
  });

  it("counts UTF-8 bytes, not characters", () => {
    expect(asLatin1(pktLine("é"))).toBe("0006\xc3\xa9");
  });

  it("refuses a payload over 65516 bytes", async () => {
    expect(MAX_PKT_LENGTH).toBe(65520);
    expect(pktLine(new Uint8Array(MAX_PKT_PAYLOAD)).length).toBe(MAX_PKT_LENGTH);
    await expectGitError(() => pktLine(new Uint8Array(MAX_PKT_PAYLOAD + 1)), "pkt-line-too-long");
  });

  it("round-trips through readPktLine for payloads of many sizes", async () => {
    const sizes = [0, 1, 2, 15, 16, 255, 4096, MAX_PKT_PAYLOAD - 1, MAX_PKT_PAYLOAD];
    const payloads = sizes.map((n) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + n) & 0xff));
    const wire = new Uint8Array(payloads.reduce((n, p) => n + 4 + p.length, 0));
    let at = 0;
    for (const p of payloads) {
      wire.set(pktLine(p), at);
      at += 4 + p.length;
    }
    const lines = await readAll(wire, 777);
    expect(lines).toEqual(payloads.map((payload) => ({ type: "data", payload })));
  });

  it("has the marker constants of gitprotocol-v2", () => {
    expect([PKT_FLUSH, PKT_DELIM, PKT_RESPONSE_END].map((b) => asLatin1(b))).toEqual(["0000", "0001", "0002"]);
  });
});

describe("pktText", () => {
  it("strips exactly one trailing LF", () => {
    expect(pktText({ type: "data", payload: utf8("done\n") })).toBe("done");
    expect(pktText({ type: "data", payload: utf8("done") })).toBe("done");
    expect(pktText({ type: "data", payload: utf8("a\n\n") })).toBe("a\n");
  });

  it("refuses a marker", async () => {
    await expectGitError(() => pktText({ type: "flush" }), "pkt-line-unexpected");
    await expectGitError(() => pktText({ type: "delim" }), "pkt-line-unexpected");
  });
});

describe("describePktLine", () => {
  it("names markers and cuts long lines at 100 bytes", () => {
    expect(describePktLine(null)).toBe("end of input");
    expect(describePktLine({ type: "delim" })).toBe("delim-pkt");
    expect(describePktLine({ type: "data", payload: utf8("x".repeat(500)) })).toBe(JSON.stringify("x".repeat(100)));
  });
});
