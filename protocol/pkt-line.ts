/**
 * Reads and writes git's pkt-line framing: a 4-hex-digit length, then payload; 0000-0002 are markers.
 * Invariants:
 * - `readPktLine` consumes exactly one line, so a caller can hand the same reader on (e.g. to a pack parser).
 * - null means a clean end of input between lines; an end inside a line is `pkt-line-truncated`.
 * - No line longer than MAX_PKT_LENGTH is read or written; 0004 is an empty data line, not a flush.
 * Spec: gitprotocol-common(5), "pkt-line Format"; gitprotocol-v2(5), "Packet-Line Framing".
 */
import { type ByteReader, fromUtf8, GitError, utf8 } from "../engine/index.ts";
import type { ProtocolErrorCode } from "./errors.ts";

export type PktLine =
  | { type: "data"; payload: Uint8Array }
  | { type: "flush" }
  | { type: "delim" }
  | { type: "response-end" };

export const MAX_PKT_LENGTH = 65520;
export const MAX_PKT_PAYLOAD = MAX_PKT_LENGTH - 4;

export const PKT_FLUSH = utf8("0000");
export const PKT_DELIM = utf8("0001");
export const PKT_RESPONSE_END = utf8("0002");

const MARKERS: readonly PktLine[] = [{ type: "flush" }, { type: "delim" }, { type: "response-end" }];

export async function readPktLine(r: ByteReader): Promise<PktLine | null> {
  if (!(await r.fill(4))) {
    if (r.available === 0) return null;
    throw new GitError<ProtocolErrorCode>("pkt-line-truncated", "input ended inside a pkt-line length", {
      data: { at: r.position },
    });
  }
  const head = r.peek(4);
  const length = parseHexLength(head);
  if (length === null || length === 3 || length > MAX_PKT_LENGTH)
    throw new GitError<ProtocolErrorCode>("pkt-line-malformed", `bad pkt-line length ${JSON.stringify(fromUtf8(head))}`, {
      data: { at: r.position },
    });
  r.consume(4);
  if (length < 3) return MARKERS[length]!;
  if (!(await r.fill(length - 4)))
    throw new GitError<ProtocolErrorCode>("pkt-line-truncated", `input ended inside a ${length}-byte pkt-line`, {
      data: { at: r.position - 4, length },
    });
  return { type: "data", payload: await r.read(length - 4, "pkt-line") };
}

// git accepts either case of hex digit in a length; anything else (a sign, a space) is not a length.
function parseHexLength(b: Uint8Array): number | null {
  let n = 0;
  for (const c of b) {
    const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;
    if (d < 0) return null;
    n = n * 16 + d;
  }
  return n;
}

export function pktLine(payload: string | Uint8Array): Uint8Array {
  const body = typeof payload === "string" ? utf8(payload) : payload;
  if (body.length > MAX_PKT_PAYLOAD)
    throw new GitError<ProtocolErrorCode>(
      "pkt-line-too-long",
      `pkt-line payload of ${body.length} bytes exceeds ${MAX_PKT_PAYLOAD}`,
    );
  const out = new Uint8Array(4 + body.length);
  out.set(utf8((4 + body.length).toString(16).padStart(4, "0")), 0);
  out.set(body, 4);
  return out;
}

/** A data line as text, with the one optional trailing LF removed (receivers must accept either). */
export function pktText(line: PktLine): string {
  if (line.type !== "data")
    throw new GitError<ProtocolErrorCode>("pkt-line-unexpected", `expected a data line, got ${describePktLine(line)}`);
  const text = fromUtf8(line.payload);
  return text.endsWith("\n") ? text.slice(0, -1) : text;
}

/** A short, printable name for a line, for error messages: the text (cut at 100 chars) or the marker's name. */
export function describePktLine(line: PktLine | null): string {
  if (line === null) return "end of input";
  if (line.type !== "data") return `${line.type}-pkt`;
  return JSON.stringify(fromUtf8(line.payload.subarray(0, 100)));
}
