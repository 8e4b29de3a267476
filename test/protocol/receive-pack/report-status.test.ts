import { describe, expect, it } from "vitest";
import { writeReportStatus } from "../../../protocol/receive-pack/report-status.ts";
import { asLatin1 } from "../helpers.ts";

describe("writeReportStatus", () => {
  it("writes git's report for a successful push (captured inside band 1)", () => {
    const out = writeReportStatus({
      unpack: "ok",
      refs: [
        { ref: "refs/heads/main", ok: true },
        { ref: "refs/heads/newb", ok: true },
      ],
    });
    expect(asLatin1(out)).toBe("000eunpack ok\n0017ok refs/heads/main\n0017ok refs/heads/newb\n0000");
  });

  it("writes ng lines with their reasons (captured)", () => {
    const out = writeReportStatus({
      unpack: "ok",
      refs: [
        { ref: "refs/heads/feature", ok: false, reason: "deletion prohibited" },
        { ref: "refs/heads/main", ok: false, reason: "non-fast-forward" },
      ],
    });
    expect(asLatin1(out)).toBe("000eunpack ok\n002eng refs/heads/feature deletion prohibited\n0028ng refs/heads/main non-fast-forward\n0000");
  });

  it("reports an unpack failure and keeps every message on one line", () => {
    const out = writeReportStatus({ unpack: "index-pack failed\nok refs/heads/x", refs: [{ ref: "refs/heads/a", ok: false, reason: "a\r\nb" }] });
    expect(asLatin1(out)).toBe("002dunpack index-pack failed ok refs/heads/x\n0018ng refs/heads/a a b\n0000");
  });
});
