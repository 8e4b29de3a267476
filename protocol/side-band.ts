/**
 * Multiplexes bytes onto side-band channels: each pkt-line carries a band byte, then data.
 * Band 1 is pack data, band 2 progress text, band 3 a fatal error just before the stream ends.
 * Invariants:
 * - No line's payload (band byte included) exceeds `max`; data is split, never truncated.
 * - git's own limits: side-band-64k carries 65515 data bytes a line, side-band 995 (a 1000-byte line).
 * Spec: gitprotocol-capabilities(5), "side-band, side-band-64k"; gitprotocol-pack(5), "Packfile Data".
 */
import { GitError } from "../engine/index.ts";
import type { ProtocolErrorCode } from "./errors.ts";
import { MAX_PKT_PAYLOAD, pktLine } from "./pkt-line.ts";

export type SideBand = 1 | 2 | 3;

export const SIDE_BAND_64K_DATA = MAX_PKT_PAYLOAD - 1;
/** Plain side-band lines are at most 1000 bytes long in total, as git sends them. */
export const SIDE_BAND_DATA = 1000 - 4 - 1;
/** The `max` to pass for plain side-band. */
export const SIDE_BAND_PAYLOAD = SIDE_BAND_DATA + 1;

export function sideBand(band: SideBand, data: Uint8Array, max: number = MAX_PKT_PAYLOAD): Uint8Array[] {
  if (!Number.isInteger(max) || max < 2 || max > MAX_PKT_PAYLOAD)
    throw new GitError<ProtocolErrorCode>("pkt-line-too-long", `side-band payload limit ${max} is not in 2..${MAX_PKT_PAYLOAD}`);
  const chunk = max - 1;
  const lines: Uint8Array[] = [];
  for (let at = 0; at < data.length; at += chunk) {
    const part = data.subarray(at, at + chunk);
    const payload = new Uint8Array(1 + part.length);
    payload[0] = band;
    payload.set(part, 1);
    lines.push(pktLine(payload));
  }
  return lines;
}
