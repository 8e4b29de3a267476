import { describe, expect, it } from "vitest";
import { concatBytes } from "../../../engine/index.ts";
import { PKT_DELIM, PKT_FLUSH, pktLine } from "../../../protocol/pkt-line.ts";
import { parseUploadPackRequest } from "../../../protocol/v0/upload-pack-request.ts";
import { asLatin1, expectGitError, readerOf } from "../helpers.ts";

// Request bodies captured from git 2.39.5 (protocol.version=0) POSTing to git http-backend.
const CLIENT_CAPS = "multi_ack_detailed no-done side-band-64k thin-pack no-progress include-tag ofs-delta deepen-since deepen-not agent=git/2.39.5";
const CLONE =
  "00a4want e8c7d272864c8e6fd8e09f7a7bb7e50e719def1b multi_ack_detailed no-done side-band-64k thin-pack no-progress ofs-delta deepen-since deepen-not agent=git/2.39.5\n" +
  "0032want 00bbb2adccbd892979d7c227e10f604dead36f5a\n0032want cd5390aa14c02216c088e3c2f343f6fa838a937f\n" +
  "0032want 8e38e79854ede627946723e18ae9aa99a827fbc8\n00000009done\n";
const FETCH =
  `00b0want f693473910f4875e3eb0e7c4c26ea2be6436d2f6 ${CLIENT_CAPS}\n0000` +
  "0032have e8c7d272864c8e6fd8e09f7a7bb7e50e719def1b\n0032have 00bbb2adccbd892979d7c227e10f604dead36f5a\n0009done\n";
const SHALLOW_FIRST_ROUND = `00b0want f693473910f4875e3eb0e7c4c26ea2be6436d2f6 ${CLIENT_CAPS}\n000cdeepen 10000`;
const DEEPEN_SECOND_ROUND =
  "00c0want f693473910f4875e3eb0e7c4c26ea2be6436d2f6 multi_ack_detailed no-done side-band-64k deepen-relative thin-pack no-progress include-tag ofs-delta deepen-since deepen-not agent=git/2.39.5\n" +
  "0034shallow f693473910f4875e3eb0e7c4c26ea2be6436d2f6000cdeepen 10000" +
  "0032have f693473910f4875e3eb0e7c4c26ea2be6436d2f6\n0009done\n";
const FILTERED =
  "00abwant 00750edc07d6415dcc07ae0351e9397b0222b7ba multi_ack_detailed no-done side-band-64k thin-pack no-progress ofs-delta deepen-since deepen-not agent=git/2.39.5 filter\n" +
  "0032want 0cfbf08886fca9a91cb753ec8734c84fcbe52c9f\n0032want b8626c4cff2849624fb67f87cd0ad72b163671ad\n0032want d00491fd7e5bb6fa28c517a0bb32b8b506539d4d\n" +
  "0034shallow 00bbb2adccbd892979d7c227e10f604dead36f5a0014filter blob:none00000009done\n";
const SINCE_NOT =
  `00b7want f693473910f4875e3eb0e7c4c26ea2be6436d2f6 ${CLIENT_CAPS} filter\n` +
  "001bdeepen-since 15778385770016deepen-not feature0014filter blob:none0000";

const lines = (...texts: (string | Uint8Array)[]) => asLatin1(concatBytes(texts.map((t) => (typeof t === "string" ? pktLine(t) : t))));
const WANT = "want 0767c7d4abca63707e5099f488ac6e117edeaaae";
const HAVE = "have 62990c5a7550bbe4384441687a76af694bfb689f";

describe("parseUploadPackRequest on captured requests", () => {
  it("parses a clone: wants with capabilities, a flush, done", async () => {
    for (const chunk of [Number.POSITIVE_INFINITY, 1, 7]) {
      const req = await parseUploadPackRequest(readerOf(CLONE, chunk));
      expect(req.wants).toEqual([
        "e8c7d272864c8e6fd8e09f7a7bb7e50e719def1b",
        "00bbb2adccbd892979d7c227e10f604dead36f5a",
        "cd5390aa14c02216c088e3c2f343f6fa838a937f",
        "8e38e79854ede627946723e18ae9aa99a827fbc8",
      ]);
      expect(req.haves).toEqual([]);
      expect(req.done).toBe(true);
      expect([...req.capabilities.keys()]).toEqual([
        "multi_ack_detailed",
        "no-done",
        "side-band-64k",
        "thin-pack",
        "no-progress",
        "ofs-delta",
        "deepen-since",
        "deepen-not",
        "agent",
      ]);
      expect(req.capabilities.get("agent")).toBe("git/2.39.5");
      expect(req).toMatchObject({ shallows: [], deepenNot: [] });
      expect([req.deepen, req.deepenSince, req.filter]).toEqual([undefined, undefined, undefined]);
    }
  });

  it("parses an incremental fetch's haves and done", async () => {
    const req = await parseUploadPackRequest(readerOf(FETCH));
    expect(req.wants).toEqual(["f693473910f4875e3eb0e7c4c26ea2be6436d2f6"]);
    expect(req.haves).toEqual(["e8c7d272864c8e6fd8e09f7a7bb7e50e719def1b", "00bbb2adccbd892979d7c227e10f604dead36f5a"]);
    expect(req.done).toBe(true);
    expect(req.capabilities.has("include-tag")).toBe(true);
  });

  it("parses a shallow clone's want-only first round (input ends after the flush)", async () => {
    const req = await parseUploadPackRequest(readerOf(SHALLOW_FIRST_ROUND));
    expect(req).toMatchObject({ wants: ["f693473910f4875e3eb0e7c4c26ea2be6436d2f6"], haves: [], done: false, deepen: 1 });
  });

  it("parses shallow, deepen and have lines of a --deepen fetch", async () => {
    const req = await parseUploadPackRequest(readerOf(DEEPEN_SECOND_ROUND, 3));
    expect(req).toMatchObject({
      shallows: ["f693473910f4875e3eb0e7c4c26ea2be6436d2f6"],
      deepen: 1,
      haves: ["f693473910f4875e3eb0e7c4c26ea2be6436d2f6"],
      done: true,
    });
    expect(req.capabilities.get("deepen-relative")).toBe(true);
  });

  it("parses a partial clone's filter after a shallow line", async () => {
    const req = await parseUploadPackRequest(readerOf(FILTERED));
    expect(req.wants).toHaveLength(4);
    expect(req).toMatchObject({ shallows: ["00bbb2adccbd892979d7c227e10f604dead36f5a"], filter: "blob:none", done: true });
    expect(req.capabilities.get("filter")).toBe(true);
  });

  it("parses deepen-since and deepen-not", async () => {
    const req = await parseUploadPackRequest(readerOf(SINCE_NOT));
    expect(req).toMatchObject({ deepenSince: 1577838577, deepenNot: ["feature"], filter: "blob:none", done: false });
    expect(req.deepen).toBeUndefined();
  });
});

describe("parseUploadPackRequest on built requests", () => {
  it("ends a negotiation round at a flush after the haves", async () => {
    const req = await parseUploadPackRequest(readerOf(lines(`${WANT} ofs-delta\n`, PKT_FLUSH, `${HAVE}\n`, HAVE, PKT_FLUSH)));
    expect(req.haves).toEqual(["62990c5a7550bbe4384441687a76af694bfb689f", "62990c5a7550bbe4384441687a76af694bfb689f"]);
    expect(req.done).toBe(false);
    expect([...req.capabilities]).toEqual([["ofs-delta", true]]);
  });

  it("accepts a want without capabilities, upper-case ids, and no wants at all", async () => {
    const req = await parseUploadPackRequest(readerOf(lines(WANT.toUpperCase().replace("WANT", "want"), PKT_FLUSH)));
    expect(req.wants).toEqual(["0767c7d4abca63707e5099f488ac6e117edeaaae"]);
    expect(req.capabilities.size).toBe(0);
    expect(await parseUploadPackRequest(readerOf("0000"))).toMatchObject({ wants: [], haves: [], done: false });
  });

  it("treats deepen 0 as no depth request", async () => {
    expect((await parseUploadPackRequest(readerOf(lines(WANT, "deepen 0", PKT_FLUSH)))).deepen).toBeUndefined();
  });
});

describe("parseUploadPackRequest on malformed requests", () => {
  const CODE = "upload-pack-request-malformed";
  it.each([
    ["an empty body", ""],
    ["a bad want id", lines("want 0767c7d4abca63707e5099f488ac6e117edeaaa", PKT_FLUSH)],
    ["a want with no separator before capabilities", lines(`${WANT}ofs-delta`, PKT_FLUSH)],
    ["capabilities on a second want", lines(WANT, `${WANT} ofs-delta`, PKT_FLUSH)],
    ["an unknown command", lines(WANT, "wants 0767c7d4abca63707e5099f488ac6e117edeaaae", PKT_FLUSH)],
    ["a have before the flush", lines(WANT, HAVE, PKT_FLUSH)],
    ["a bad deepen", lines(WANT, "deepen -1", PKT_FLUSH)],
    ["a bad deepen-since", lines(WANT, "deepen-since soon", PKT_FLUSH)],
    ["deepen with deepen-since", lines(WANT, "deepen 2", "deepen-since 1", PKT_FLUSH)],
    ["deepen with deepen-not", lines(WANT, "deepen 2", "deepen-not main", PKT_FLUSH)],
    ["two filters", lines(WANT, "filter blob:none", "filter tree:0", PKT_FLUSH)],
    ["a delim in the wants", lines(WANT, PKT_DELIM, PKT_FLUSH)],
    ["no flush after the wants", lines(WANT)],
    ["a bad have", lines(WANT, PKT_FLUSH, "have 123")],
    ["a want among the haves", lines(WANT, PKT_FLUSH, WANT, PKT_FLUSH)],
    ["haves with no end", lines(WANT, PKT_FLUSH, HAVE)],
    ["a line after done", lines(WANT, PKT_FLUSH, "done", HAVE)],
    ["a flush after done", lines(WANT, PKT_FLUSH, "done", PKT_FLUSH)],
    ["a line after the final flush", lines(WANT, PKT_FLUSH, HAVE, PKT_FLUSH, "done")],
  ])("rejects %s", async (_, body) => {
    await expectGitError(() => parseUploadPackRequest(readerOf(body)), CODE);
  });

  it("shows the offending line, cut to 100 characters", async () => {
    const long = `want ${"z".repeat(300)}`;
    const err = await expectGitError(() => parseUploadPackRequest(readerOf(lines(long, PKT_FLUSH))), CODE);
    expect(err.message).toContain(JSON.stringify(long.slice(0, 100)));
    expect(err.message).not.toContain("z".repeat(96));
  });

  it("passes pkt-line framing errors through with their own code", async () => {
    await expectGitError(() => parseUploadPackRequest(readerOf("0032want 0767c7d4")), "pkt-line-truncated");
    await expectGitError(() => parseUploadPackRequest(readerOf("zzzz")), "pkt-line-malformed");
  });
});
