import { describe, expect, it } from "vitest";
import {
  AGENT,
  parseCapabilityList,
  receivePackCapabilities,
  uploadPackV0Capabilities,
  v2Capabilities,
} from "../../protocol/capabilities.ts";

// What git 2.39.5's http-backend advertised (captured), to check we never invent a capability name.
const GIT_UPLOAD_PACK =
  "multi_ack thin-pack side-band side-band-64k ofs-delta shallow deepen-since deepen-not deepen-relative no-progress include-tag multi_ack_detailed allow-tip-sha1-in-want allow-reachable-sha1-in-want no-done symref=HEAD:refs/heads/main filter object-format=sha1 agent=git/2.39.5";
const GIT_RECEIVE_PACK =
  "report-status report-status-v2 delete-refs side-band-64k quiet atomic ofs-delta push-options object-format=sha1 agent=git/2.39.5";
const GIT_V2 = ["agent=git/2.39.5", "ls-refs=unborn", "fetch=shallow wait-for-done filter", "server-option", "object-format=sha1", "object-info"];

const keys = (caps: string[]) => caps.map((c) => c.split("=")[0]);

describe("advertised capabilities", () => {
  it("lists upload-pack v0 capabilities, with symref only when HEAD resolves", () => {
    const caps = uploadPackV0Capabilities({ headSymref: "refs/heads/main" });
    expect(caps).toContain("symref=HEAD:refs/heads/main");
    expect(caps).toEqual(expect.arrayContaining(["multi_ack_detailed", "no-done", "side-band-64k", "side-band", "ofs-delta"]));
    expect(caps).toEqual(expect.arrayContaining(["thin-pack", "include-tag", "allow-reachable-sha1-in-want", "allow-tip-sha1-in-want"]));
    expect(caps.at(-2)).toBe("object-format=sha1");
    expect(caps.at(-1)).toBe(`agent=${AGENT}`);
    expect(keys(uploadPackV0Capabilities({}))).not.toContain("symref");
  });

  it("uses only names git itself advertises", () => {
    const gitUpload = new Set(parseCapabilityList(GIT_UPLOAD_PACK).keys());
    for (const k of keys(uploadPackV0Capabilities({ headSymref: "refs/heads/x" }))) expect(gitUpload).toContain(k);
    expect(receivePackCapabilities().map((c) => c.split("=")[0])).toEqual([...parseCapabilityList(GIT_RECEIVE_PACK).keys()]);
    const gitV2 = new Set(keys(GIT_V2));
    for (const k of keys(v2Capabilities())) expect(gitV2).toContain(k);
  });

  it("lists the v2 capabilities in git's order, fetch with shallow, wait-for-done and filter", () => {
    expect(v2Capabilities()).toEqual([`agent=${AGENT}`, "ls-refs=unborn", "fetch=shallow wait-for-done filter", "server-option", "object-format=sha1"]);
  });

  it("offers shallow and partial clone in v0", () => {
    expect(uploadPackV0Capabilities({})).toEqual(expect.arrayContaining(["shallow", "deepen-since", "deepen-not", "deepen-relative", "filter"]));
  });

  it("has an agent value git accepts: printable ASCII, no spaces", () => {
    expect(AGENT).toMatch(/^[\x21-\x7e]+$/);
  });
});

describe("parseCapabilityList", () => {
  it("parses a client's list, including send-pack's space after the NUL", () => {
    // The capability part of git send-pack's first command line (captured).
    const caps = parseCapabilityList(" report-status-v2 side-band-64k quiet atomic push-options object-format=sha1 agent=git/2.39.5");
    expect([...caps]).toEqual([
      ["report-status-v2", true],
      ["side-band-64k", true],
      ["quiet", true],
      ["atomic", true],
      ["push-options", true],
      ["object-format", "sha1"],
      ["agent", "git/2.39.5"],
    ]);
  });

  it("splits at the first = only and keeps the last of a repeated key", () => {
    const caps = parseCapabilityList("symref=HEAD:refs/heads/a=b symref=HEAD:refs/heads/c");
    expect(caps.get("symref")).toBe("HEAD:refs/heads/c");
    expect(parseCapabilityList("").size).toBe(0);
  });
});
