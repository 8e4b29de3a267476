/**
 * Parses one protocol v2 command request: `command=X`, capability lines, a delim, argument lines, a flush.
 * Invariants:
 * - Only the capabilities a client may send us are accepted (agent, object-format, server-option); git dies on others too.
 * - The delim may be missing when there are no arguments; arguments are data lines, kept in order, LF stripped.
 * - One request per body (stateless HTTP): bytes after the final flush are malformed.
 * Spec: gitprotocol-v2(5), "Command Request" and "Capabilities" (agent, server-option, object-format).
 */
import { type ByteReader, GitError } from "../../engine/index.ts";
import type { ProtocolErrorCode } from "../errors.ts";
import { describePktLine, pktText, readPktLine, type PktLine } from "../pkt-line.ts";

export interface V2Request {
  command: string;
  capabilities: Map<string, string | true>;
  /** Every `server-option=<o>` line, in order (the map keeps only the last). */
  serverOptions: string[];
  args: string[];
}

const KEY = /^[A-Za-z0-9_-]+$/;
const CLIENT_CAPABILITIES = new Set(["agent", "object-format", "server-option"]);

export async function parseV2Request(r: ByteReader): Promise<V2Request> {
  const first = await readPktLine(r);
  const text = first?.type === "data" ? pktText(first) : "";
  const command = text.slice("command=".length);
  if (!text.startsWith("command=") || !KEY.test(command)) malformed("expected command=<name>", first);
  const req: V2Request = { command, capabilities: new Map(), serverOptions: [], args: [] };

  let line = await readPktLine(r);
  for (; line?.type === "data"; line = await readPktLine(r)) {
    const text = pktText(line);
    const eq = text.indexOf("=");
    const key = eq < 0 ? text : text.slice(0, eq);
    if (!CLIENT_CAPABILITIES.has(key)) malformed("unknown capability", line);
    const value = eq < 0 ? true : text.slice(eq + 1);
    req.capabilities.set(key, value);
    if (key === "server-option") {
      if (value === true || value === "" || /[\0\n]/.test(value)) malformed("bad server-option", line);
      req.serverOptions.push(value);
    }
  }
  if (line?.type === "delim")
    for (line = await readPktLine(r); line?.type === "data"; line = await readPktLine(r)) req.args.push(pktText(line));
  if (line?.type !== "flush") malformed("expected a flush at the end of the request", line);

  const extra = await readPktLine(r);
  if (extra !== null) malformed("unexpected data after the end of the request", extra);
  return req;
}

function malformed(what: string, line: PktLine | null): never {
  throw new GitError<ProtocolErrorCode>("v2-request-malformed", `v2 request: ${what}, got ${describePktLine(line)}`);
}
