import { describe, expect, it } from "vitest";
import type { Oid } from "../../../engine/index.ts";
import { v2Capabilities } from "../../../protocol/capabilities.ts";
import { pktText, readPktLine } from "../../../protocol/pkt-line.ts";
import { writeRefAdvertisement, writeV2CapabilityAdvertisement } from "../../../protocol/v0/ref-advertisement.ts";
import { asLatin1, readerOf } from "../helpers.ts";

const oid = (s: string) => s as Oid;
const MAIN = oid("00bbb2adccbd892979d7c227e10f604dead36f5a");
const FEATURE = oid("e8c7d272864c8e6fd8e09f7a7bb7e50e719def1b");
const LIGHT = oid("cd5390aa14c02216c088e3c2f343f6fa838a937f");
const V1_TAG = oid("8e38e79854ede627946723e18ae9aa99a827fbc8");

const REFS = [
  { name: "HEAD", oid: MAIN },
  { name: "refs/heads/feature", oid: FEATURE },
  { name: "refs/heads/main", oid: MAIN },
  { name: "refs/tags/light", oid: LIGHT },
  { name: "refs/tags/v1", oid: V1_TAG, peeled: FEATURE },
];

// Captured from git 2.39.5 http-backend: GET info/refs?service=git-upload-pack (protocol v0).
const GIT_UPLOAD_CAPS =
  "multi_ack thin-pack side-band side-band-64k ofs-delta shallow deepen-since deepen-not deepen-relative no-progress include-tag multi_ack_detailed allow-tip-sha1-in-want allow-reachable-sha1-in-want no-done symref=HEAD:refs/heads/main filter object-format=sha1 agent=git/2.39.5";
const GIT_UPLOAD_ADVERTISEMENT =
  "001e# service=git-upload-pack\n0000" +
  `0146${MAIN} HEAD\0${GIT_UPLOAD_CAPS}\n` +
  `0040${FEATURE} refs/heads/feature\n` +
  `003d${MAIN} refs/heads/main\n` +
  `003d${LIGHT} refs/tags/light\n` +
  `003a${V1_TAG} refs/tags/v1\n` +
  `003d${FEATURE} refs/tags/v1^{}\n` +
  "0000";

describe("writeRefAdvertisement", () => {
  it("writes git's upload-pack advertisement byte for byte", () => {
    const out = writeRefAdvertisement({
      service: "git-upload-pack",
      refs: REFS,
      capabilities: GIT_UPLOAD_CAPS.split(" "),
      smartHttp: true,
    });
    expect(asLatin1(out)).toBe(GIT_UPLOAD_ADVERTISEMENT);
  });

  it("writes git's receive-pack advertisement, which has no peeled lines", () => {
    const caps = "report-status report-status-v2 delete-refs side-band-64k quiet atomic ofs-delta push-options object-format=sha1 agent=git/2.39.5";
    const out = writeRefAdvertisement({
      service: "git-receive-pack",
      refs: [
        { name: "refs/heads/feature", oid: FEATURE },
        { name: "refs/heads/main", oid: oid("f693473910f4875e3eb0e7c4c26ea2be6436d2f6") },
        { name: "refs/tags/light", oid: LIGHT },
        { name: "refs/tags/v1", oid: V1_TAG, peeled: FEATURE },
      ],
      capabilities: caps.split(" "),
      smartHttp: true,
    });
    expect(asLatin1(out)).toBe(
      "001f# service=git-receive-pack\n0000" +
        `00c1${FEATURE} refs/heads/feature\0${caps}\n` +
        "003df693473910f4875e3eb0e7c4c26ea2be6436d2f6 refs/heads/main\n" +
        `003d${LIGHT} refs/tags/light\n` +
        `003a${V1_TAG} refs/tags/v1\n` +
        "0000",
    );
  });

  it("writes git's capabilities^{} line for a repository with no refs", () => {
    const caps = "report-status report-status-v2 delete-refs side-band-64k quiet atomic ofs-delta object-format=sha1 agent=git/2.39.5";
    const out = writeRefAdvertisement({ service: "git-receive-pack", refs: [], capabilities: caps.split(" "), smartHttp: true });
    expect(asLatin1(out)).toBe(
      `001f# service=git-receive-pack\n000000b1${"0".repeat(40)} capabilities^{}\0${caps}\n0000`,
    );
  });

  it("omits the service header outside smart HTTP", () => {
    const out = writeRefAdvertisement({ service: "git-upload-pack", refs: REFS, capabilities: ["ofs-delta"], smartHttp: false });
    expect(asLatin1(out).startsWith(`003c${MAIN} HEAD\0ofs-delta\n`)).toBe(true);
    expect(asLatin1(out).endsWith(`003d${FEATURE} refs/tags/v1^{}\n0000`)).toBe(true);
  });
});

describe("writeV2CapabilityAdvertisement", () => {
  it("writes the service header, version 2, our capabilities and a flush", async () => {
    const out = writeV2CapabilityAdvertisement({ smartHttp: true, service: "git-upload-pack" });
    const r = readerOf(asLatin1(out));
    const seen: string[] = [];
    for (let line = await readPktLine(r); line !== null; line = await readPktLine(r))
      seen.push(line.type === "data" ? pktText(line) : line.type);
    expect(seen).toEqual(["# service=git-upload-pack", "flush", "version 2", ...v2Capabilities(), "flush"]);
  });

  it("matches git's framing after the header (each line LF-terminated)", () => {
    const out = asLatin1(writeV2CapabilityAdvertisement({ smartHttp: false, service: "git-upload-pack" }));
    expect(out).toBe("000eversion 2\n0016agent=edgegit/0.1\n0013ls-refs=unborn\n0027fetch=shallow wait-for-done filter\n0012server-option\n0017object-format=sha1\n0000");
  });
});
