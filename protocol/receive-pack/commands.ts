/**
 * Parses the head of a receive-pack POST body: shallow lines, ref update commands, push options.
 * Invariants:
 * - Reads pkt-lines only up to the end of the command list (and of the push options, if requested), so the
 *   reader is left at the first byte of the pack; the caller reads the pack (absent for delete-only pushes).
 * - Capabilities come after a NUL on the first command only; a bare flush (zero commands) is legal.
 * - Ref names are not checked here: a bad name is the caller's `ng <ref> ...`, not a failed request.
 * Spec: gitprotocol-pack(5), "Reference Update Request and Packfile Transfer".
 */
import { type ByteReader, GitError, type Oid } from "../../engine/index.ts";
import { parseCapabilityList } from "../capabilities.ts";
import type { ProtocolErrorCode } from "../errors.ts";
import { describePktLine, pktText, readPktLine, type PktLine } from "../pkt-line.ts";
import { wireOid } from "../wire-value.ts";

export interface RefUpdateCommand {
  oldOid: Oid;
  newOid: Oid;
  ref: string;
}

export interface ReceivePackRequest {
  commands: RefUpdateCommand[];
  capabilities: Map<string, string | true>;
  pushOptions: string[];
  shallows: Oid[];
}

export async function parseReceivePackRequest(r: ByteReader): Promise<ReceivePackRequest> {
  const req: ReceivePackRequest = { commands: [], capabilities: new Map(), pushOptions: [], shallows: [] };

  let line = await readPktLine(r);
  for (; line?.type === "data"; line = await readPktLine(r)) {
    const text = pktText(line);
    if (req.commands.length === 0 && text.startsWith("shallow ")) {
      req.shallows.push(wireOid(text.slice(8)) ?? malformed("bad shallow line", line));
      continue;
    }
    const nul = text.indexOf("\0");
    const first = req.commands.length === 0;
    if (first && nul >= 0) req.capabilities = parseCapabilityList(text.slice(nul + 1));
    else if (nul >= 0) malformed("capabilities after the first command", line);
    req.commands.push(parseCommand(nul < 0 ? text : text.slice(0, nul), line));
  }
  if (line?.type !== "flush") malformed("expected a command or a flush", line);

  if (req.capabilities.has("push-options")) {
    for (line = await readPktLine(r); line?.type === "data"; line = await readPktLine(r)) req.pushOptions.push(pktText(line));
    if (line?.type !== "flush") malformed("expected a push option or a flush", line);
  }
  return req;
}

function parseCommand(text: string, line: PktLine): RefUpdateCommand {
  const oldOid = wireOid(text.slice(0, 40));
  const newOid = wireOid(text.slice(41, 81));
  const ref = text.slice(82);
  if (oldOid === null || newOid === null || text[40] !== " " || text[81] !== " " || ref === "")
    malformed("expected <old-oid> <new-oid> <ref>", line);
  return { oldOid, newOid, ref };
}

function malformed(what: string, line: PktLine | null): never {
  const message = `receive-pack request: ${what}, got ${describePktLine(line)}`;
  throw new GitError<ProtocolErrorCode>("receive-pack-request-malformed", message);
}
