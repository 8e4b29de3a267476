import { describe, expect, it } from "vitest";
import type { Oid } from "../../../engine/index.ts";
import { parseLsRefsArgs, writeLsRefsResponse, type LsRefsRef } from "../../../protocol/v2/ls-refs.ts";
import { asLatin1, expectGitError } from "../helpers.ts";

const oid = (s: string) => s as Oid;
const MAIN = oid("00bbb2adccbd892979d7c227e10f604dead36f5a");
const FEATURE = oid("e8c7d272864c8e6fd8e09f7a7bb7e50e719def1b");
const LIGHT = oid("cd5390aa14c02216c088e3c2f343f6fa838a937f");
const V1_TAG = oid("8e38e79854ede627946723e18ae9aa99a827fbc8");

const REFS: LsRefsRef[] = [
  { name: "HEAD", oid: MAIN, symrefTarget: "refs/heads/main" },
  { name: "refs/heads/feature", oid: FEATURE },
  { name: "refs/heads/main", oid: MAIN },
  { name: "refs/tags/light", oid: LIGHT },
  { name: "refs/tags/v1", oid: V1_TAG, peeled: FEATURE },
];

// git clone's ls-refs arguments and git http-backend's answer (2.39.5, captured).
const CLONE_ARGS = ["peel", "symrefs", "unborn", "ref-prefix HEAD", "ref-prefix refs/heads/", "ref-prefix refs/tags/"];
const GIT_RESPONSE =
  `0050${MAIN} HEAD symref-target:refs/heads/main\n` +
  `0040${FEATURE} refs/heads/feature\n` +
  `003d${MAIN} refs/heads/main\n` +
  `003d${LIGHT} refs/tags/light\n` +
  `006a${V1_TAG} refs/tags/v1 peeled:${FEATURE}\n` +
  "0000";

describe("parseLsRefsArgs", () => {
  it("parses git clone's arguments", () => {
    expect(parseLsRefsArgs(CLONE_ARGS)).toEqual({
      symrefs: true,
      peel: true,
      unborn: true,
      refPrefixes: ["HEAD", "refs/heads/", "refs/tags/"],
    });
    expect(parseLsRefsArgs([])).toEqual({ symrefs: false, peel: false, unborn: false, refPrefixes: [] });
  });

  it.each([["symref"], ["peel "], ["ref-prefix"], ["want-ref refs/heads/main"], [""]])("rejects the argument %j", async (arg) => {
    await expectGitError(() => parseLsRefsArgs([arg]), "v2-request-malformed");
  });
});

describe("writeLsRefsResponse", () => {
  it("writes git's response to a clone byte for byte", () => {
    expect(asLatin1(writeLsRefsResponse(REFS, parseLsRefsArgs(CLONE_ARGS)))).toBe(GIT_RESPONSE);
  });

  it("leaves out attributes the client did not ask for", () => {
    const out = asLatin1(writeLsRefsResponse(REFS, parseLsRefsArgs([])));
    expect(out).not.toContain("symref-target:");
    expect(out).not.toContain("peeled:");
    expect(out.startsWith(`0032${MAIN} HEAD\n`)).toBe(true);
  });

  it("lists only refs matching a ref-prefix", () => {
    const out = asLatin1(writeLsRefsResponse(REFS, parseLsRefsArgs(["ref-prefix refs/tags/"])));
    expect(out).toBe(`003d${LIGHT} refs/tags/light\n003a${V1_TAG} refs/tags/v1\n0000`);
  });

  it("writes git's unborn HEAD line (captured from an empty repository)", () => {
    const unborn: LsRefsRef[] = [{ name: "HEAD", oid: "unborn", symrefTarget: "refs/heads/trunk" }];
    expect(asLatin1(writeLsRefsResponse(unborn, parseLsRefsArgs(CLONE_ARGS)))).toBe(
      "002funborn HEAD symref-target:refs/heads/trunk\n0000",
    );
  });

  it("leaves an unborn HEAD out unless both unborn and symrefs were asked for, as git does", () => {
    const unborn: LsRefsRef[] = [{ name: "HEAD", oid: "unborn", symrefTarget: "refs/heads/trunk" }];
    expect(asLatin1(writeLsRefsResponse(unborn, parseLsRefsArgs(["symrefs"])))).toBe("0000");
    expect(asLatin1(writeLsRefsResponse(unborn, parseLsRefsArgs(["unborn"])))).toBe("0000");
  });
});
