import { describe, expect, it } from "vitest";
import type { Oid } from "../../../engine/index.ts";
import { parseV2Request } from "../../../protocol/v2/command-request.ts";
import { PACKFILE_SECTION_HEADER, parseFetchArgs, writeAcknowledgments } from "../../../protocol/v2/fetch.ts";
import { asLatin1, expectGitError, readerOf } from "../helpers.ts";

// Fetch requests captured from git 2.39.5 (protocol.version=2) against git http-backend.
const PREFIX = "0011command=fetch0014agent=git/2.39.50016object-format=sha10001000dthin-pack000fno-progress";
const CLONE =
  `${PREFIX}000dofs-delta0032want 00bbb2adccbd892979d7c227e10f604dead36f5a\n0032want e8c7d272864c8e6fd8e09f7a7bb7e50e719def1b\n` +
  "0032want 00bbb2adccbd892979d7c227e10f604dead36f5a\n0009done\n0000";
const DEEPEN =
  `${PREFIX}000finclude-tag000dofs-delta0034shallow f693473910f4875e3eb0e7c4c26ea2be6436d2f6000cdeepen 10014deepen-relative\n` +
  "0032want f693473910f4875e3eb0e7c4c26ea2be6436d2f6\n0032have f693473910f4875e3eb0e7c4c26ea2be6436d2f6\n0000";
const SINCE_FILTER =
  `${PREFIX}000finclude-tag000dofs-delta001bdeepen-since 15778385700014filter blob:none` +
  "0032want f693473910f4875e3eb0e7c4c26ea2be6436d2f6\n0009done\n0000";
const NOT = `${PREFIX}000cdeepen 20016deepen-not feature0032want f693473910f4875e3eb0e7c4c26ea2be6436d2f6\n0009done\n0000`;

async function argsOf(body: string) {
  return parseFetchArgs((await parseV2Request(readerOf(body))).args);
}

describe("parseFetchArgs on captured requests", () => {
  it("parses a clone", async () => {
    const args = await argsOf(CLONE);
    expect(args.wants).toEqual([
      "00bbb2adccbd892979d7c227e10f604dead36f5a",
      "e8c7d272864c8e6fd8e09f7a7bb7e50e719def1b",
      "00bbb2adccbd892979d7c227e10f604dead36f5a",
    ]);
    expect(args).toMatchObject({ haves: [], done: true, thinPack: true, noProgress: true, ofsDelta: true, includeTag: false });
    expect(args).toMatchObject({ waitForDone: false, sidebandAll: false, deepenRelative: false, shallows: [], wantRefs: [] });
  });

  it("parses a --deepen fetch: shallow, deepen, deepen-relative, have, no done", async () => {
    const args = await argsOf(DEEPEN);
    expect(args).toMatchObject({
      shallows: ["f693473910f4875e3eb0e7c4c26ea2be6436d2f6"],
      deepen: 1,
      deepenRelative: true,
      haves: ["f693473910f4875e3eb0e7c4c26ea2be6436d2f6"],
      done: false,
      includeTag: true,
    });
  });

  it("parses deepen-since, filter and deepen-not", async () => {
    expect(await argsOf(SINCE_FILTER)).toMatchObject({ deepenSince: 1577838570, filter: "blob:none", done: true });
    // git clone --depth 2 --shallow-exclude sends this pair; the spec forbids it and git's own upload-pack fails it too.
    await expectGitError(() => argsOf(NOT), "v2-request-malformed");
    expect(parseFetchArgs(["deepen-not feature", "deepen-since 5"])).toMatchObject({ deepenNot: ["feature"], deepenSince: 5 });
  });
});

describe("parseFetchArgs", () => {
  it("parses every flag and want-ref", () => {
    const args = parseFetchArgs(["wait-for-done", "sideband-all", "want-ref refs/heads/main", "deepen 0"]);
    expect(args).toMatchObject({ waitForDone: true, sidebandAll: true, wantRefs: ["refs/heads/main"] });
    expect(args.deepen).toBeUndefined();
  });

  it.each([
    ["packfile-uris https"],
    ["want f69347"],
    ["have"],
    ["shallow zz93473910f4875e3eb0e7c4c26ea2be6436d2f6"],
    ["deepen x"],
    ["deepen-since -1"],
    ["deepen-not "],
    ["filter "],
    ["want-ref "],
    ["done "],
    ["DONE"],
  ])("rejects %j", async (arg) => {
    await expectGitError(() => parseFetchArgs([arg]), "v2-request-malformed");
  });

  it("rejects two filters", async () => {
    await expectGitError(() => parseFetchArgs(["filter blob:none", "filter tree:0"]), "v2-request-malformed");
  });
});

describe("fetch response sections", () => {
  const a = "e8c7d272864c8e6fd8e09f7a7bb7e50e719def1b" as Oid;
  const b = "00bbb2adccbd892979d7c227e10f604dead36f5a" as Oid;

  it("writes git's acknowledgments + packfile header when ready (captured)", () => {
    const out = asLatin1([...writeAcknowledgments({ common: [a, b], ready: true }), PACKFILE_SECTION_HEADER]);
    expect(out).toBe(`0014acknowledgments\n0031ACK ${a}\n0031ACK ${b}\n000aready\n0001000dpackfile\n`);
  });

  it("writes NAK and ends the response with a flush when not ready", () => {
    expect(asLatin1(writeAcknowledgments({ common: [], ready: false }))).toBe("0014acknowledgments\n0008NAK\n0000");
    expect(asLatin1(writeAcknowledgments({ common: [a], ready: false }))).toBe(`0014acknowledgments\n0031ACK ${a}\n0000`);
  });
});
