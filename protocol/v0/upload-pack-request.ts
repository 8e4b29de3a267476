/**
 * Parses one stateless-RPC upload-pack POST body (protocol v0/v1): wants and their options, a flush, then haves.
 * Invariants:
 * - Capabilities come only on the first want line; every other line is exactly one known command.
 * - The body ends at a `done` (negotiation over), at a flush after the haves, or right after the first flush
 *   (a want-only round, e.g. a shallow clone's first request); anything after that is malformed.
 * - Zero wants is legal (git answers with nothing); `deepen 0` means no depth, as the spec says.
 * Spec: gitprotocol-pack(5), "Packfile Negotiation"; gitprotocol-http(5), "Smart Service git-upload-pack".
 */
import { type ByteReader, GitError, type Oid } from "../../engine/index.ts";
import { parseCapabilityList } from "../capabilities.ts";
import type { ProtocolErrorCode } from "../errors.ts";
import { describePktLine, pktText, readPktLine, type PktLine } from "../pkt-line.ts";
import { wireDecimal, wireOid } from "../wire-value.ts";

export interface UploadPackRequest {
  wants: Oid[];
  haves: Oid[];
  capabilities: Map<string, string | true>;
  /** True when the client said `done`: send the pack now. False: answer ACK/NAK and wait for another round. */
  done: boolean;
  shallows: Oid[];
  deepen?: number;
  deepenSince?: number;
  deepenNot: string[];
  filter?: string;
}

export async function parseUploadPackRequest(r: ByteReader): Promise<UploadPackRequest> {
  const req: UploadPackRequest = { wants: [], haves: [], capabilities: new Map(), done: false, shallows: [], deepenNot: [] };

  for (let line = await readPktLine(r); ; line = await readPktLine(r)) {
    if (line?.type === "flush") break;
    if (line?.type !== "data") malformed("expected a want line or a flush", line);
    readWantSectionLine(req, pktText(line), line);
  }
  if (req.deepen !== undefined && (req.deepenSince !== undefined || req.deepenNot.length > 0))
    malformed("deepen cannot be combined with deepen-since or deepen-not");

  for (let line = await readPktLine(r); ; line = await readPktLine(r)) {
    if (line === null) {
      if (req.haves.length > 0) malformed("have lines must end with a flush or done", line);
      return req; // want-only round
    }
    if (line.type === "flush") break;
    const text = line.type === "data" ? pktText(line) : "";
    if (text === "done") {
      req.done = true;
      break;
    }
    const have = text.startsWith("have ") ? wireOid(text.slice(5)) : null;
    if (have === null) malformed("expected a have line, done or a flush", line);
    req.haves.push(have);
  }
  const extra = await readPktLine(r);
  if (extra !== null) malformed("unexpected data after the end of the request", extra);
  return req;
}

function readWantSectionLine(req: UploadPackRequest, text: string, line: PktLine): void {
  const sp = text.indexOf(" ");
  const [command, arg] = sp < 0 ? [text, ""] : [text.slice(0, sp), text.slice(sp + 1)];
  switch (command) {
    case "want": {
      const first = req.wants.length === 0;
      const oid = wireOid(first ? arg.slice(0, 40) : arg);
      const rest = first ? arg.slice(40) : "";
      if (oid === null || (rest !== "" && !rest.startsWith(" "))) malformed("bad want line", line);
      if (first) req.capabilities = parseCapabilityList(rest);
      req.wants.push(oid);
      return;
    }
    case "shallow":
      req.shallows.push(wireOid(arg) ?? malformed("bad shallow line", line));
      return;
    case "deepen": {
      const depth = wireDecimal(arg) ?? malformed("bad deepen line", line);
      req.deepen = depth === 0 ? undefined : depth;
      return;
    }
    case "deepen-since":
      req.deepenSince = wireDecimal(arg) ?? malformed("bad deepen-since line", line);
      return;
    case "deepen-not":
      if (arg === "") malformed("bad deepen-not line", line);
      req.deepenNot.push(arg);
      return;
    case "filter":
      if (arg === "" || req.filter !== undefined) malformed("bad or repeated filter line", line);
      req.filter = arg;
      return;
  }
  malformed("unknown line in the want section", line);
}

function malformed(what: string, line?: PktLine | null): never {
  const got = line === undefined ? "" : `, got ${describePktLine(line)}`;
  throw new GitError<ProtocolErrorCode>("upload-pack-request-malformed", `upload-pack request: ${what}${got}`);
}
