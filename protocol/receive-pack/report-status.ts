/**
 * Writes the push result: `unpack ok` (or the unpack error), then `ok <ref>` / `ng <ref> <reason>` per command.
 * report-status-v2 adds `option` lines only for refs a proc-receive hook rewrote; we never rewrite, so both
 * capabilities get these same bytes (git's receive-pack does the same for a plain push).
 * Invariants:
 * - One line per command, in command order; a refused ref is an `ng` line, never an exception.
 * - Messages are single-line: any CR/LF inside becomes a space, so no line can forge another.
 * Spec: gitprotocol-pack(5), "Report Status"; gitprotocol-capabilities(5), "report-status-v2".
 */
import { concatBytes } from "../../engine/index.ts";
import { PKT_FLUSH, pktLine } from "../pkt-line.ts";

export type RefStatus = { ref: string; ok: true } | { ref: string; ok: false; reason: string };

export function writeReportStatus(o: { unpack: "ok" | string; refs: readonly RefStatus[] }): Uint8Array {
  const lines = [pktLine(`unpack ${oneLine(o.unpack)}\n`)];
  for (const r of o.refs) lines.push(pktLine(r.ok ? `ok ${r.ref}\n` : `ng ${r.ref} ${oneLine(r.reason)}\n`));
  lines.push(PKT_FLUSH);
  return concatBytes(lines);
}

function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, " ");
}
