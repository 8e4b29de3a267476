import { describe, expect, it } from "vitest";
import { concatBytes, utf8 } from "../../engine/index.ts";
import { MAX_PKT_LENGTH, readPktLine } from "../../protocol/pkt-line.ts";
import { writeReportStatus } from "../../protocol/receive-pack/report-status.ts";
import { SIDE_BAND_64K_DATA, SIDE_BAND_DATA, SIDE_BAND_PAYLOAD, sideBand } from "../../protocol/side-band.ts";
import { asLatin1, expectGitError, readerOf } from "./helpers.ts";

function pattern(n: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 7 + 3) & 0xff);
}

/** Reads the lines back: checks each band byte and returns the data, joined. */
async function unband(lines: Uint8Array[], band: number): Promise<Uint8Array> {
  const r = readerOf(concatBytes(lines));
  const parts: Uint8Array[] = [];
  for (let line = await readPktLine(r); line !== null; line = await readPktLine(r)) {
    if (line.type !== "data") throw new Error("marker in side-band output");
    expect(line.payload[0]).toBe(band);
    parts.push(line.payload.subarray(1));
  }
  return concatBytes(parts);
}

describe("sideBand", () => {
  it("has git's per-line data limits", () => {
    expect(SIDE_BAND_64K_DATA).toBe(65515);
    expect(SIDE_BAND_DATA).toBe(995);
  });

  it("fills side-band-64k lines to 65520 bytes and puts the rest in a last short line", async () => {
    const data = pattern(2 * SIDE_BAND_64K_DATA + 1);
    const lines = sideBand(1, data);
    expect(lines.map((l) => l.length)).toEqual([MAX_PKT_LENGTH, MAX_PKT_LENGTH, 6]);
    expect(await unband(lines, 1)).toEqual(data);
  });

  it("keeps plain side-band lines to 1000 bytes", async () => {
    const data = pattern(3 * SIDE_BAND_DATA);
    const lines = sideBand(2, data, SIDE_BAND_PAYLOAD);
    expect(lines.map((l) => l.length)).toEqual([1000, 1000, 1000]);
    expect(await unband(lines, 2)).toEqual(data);
  });

  it("honours a small max and writes nothing for no data", async () => {
    expect(sideBand(3, utf8("abcde"), 3).map((l) => asLatin1(l))).toEqual(["0007\x03ab", "0007\x03cd", "0006\x03e"]);
    expect(sideBand(1, new Uint8Array(0))).toEqual([]);
  });

  it("refuses a max that leaves no room for data or exceeds a pkt-line", async () => {
    await expectGitError(() => sideBand(1, utf8("x"), 1), "pkt-line-too-long");
    await expectGitError(() => sideBand(1, utf8("x"), 65517), "pkt-line-too-long");
  });

  it("matches git receive-pack's side-band bytes for a refused push", () => {
    // Captured from git http-backend (2.39.5): band-2 messages, then the report-status in band 1, then a flush.
    const captured =
      "0038\x02error: denying ref deletion for refs/heads/feature\n" +
      "004d\x02error: denying non-fast-forward refs/heads/main (you should pull first)\n" +
      "006d\x01000eunpack ok\n002eng refs/heads/feature deletion prohibited\n0028ng refs/heads/main non-fast-forward\n0000" +
      "0000";
    const report = writeReportStatus({
      unpack: "ok",
      refs: [
        { ref: "refs/heads/feature", ok: false, reason: "deletion prohibited" },
        { ref: "refs/heads/main", ok: false, reason: "non-fast-forward" },
      ],
    });
    const ours = [
      ...sideBand(2, utf8("error: denying ref deletion for refs/heads/feature\n")),
      ...sideBand(2, utf8("error: denying non-fast-forward refs/heads/main (you should pull first)\n")),
      ...sideBand(1, report),
      utf8("0000"),
    ];
    expect(asLatin1(ours)).toBe(captured);
  });
});
