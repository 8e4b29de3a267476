/**
 * Sends hand-made smart-HTTP requests, byte for byte, and takes git's replies apart, for tests that
 * feed a server hostile input.
 * Invariants:
 * - The request path goes out exactly as given (no URL normalization), so `..` and `%2f` reach the server.
 * - Every request has a deadline; a server that has not answered in full by then fails the test.
 * - Credentials in `base` (`http://x:TOKEN@host`) go as an Authorization header, unless the caller set one.
 * - A reply that is not well-formed pkt-lines throws: a garbled answer is no answer.
 * Spec: gitprotocol-http(5); gitprotocol-common(5) "pkt-line Format"; gitprotocol-pack(5) "Report Status";
 *       gitprotocol-capabilities(5) "side-band, side-band-64k".
 */
import { request } from "node:http";
import { PKT_FLUSH, pktLine } from "../../protocol/index.ts";
import { splitCredentials } from "./git.ts";

export const REQUEST_TIMEOUT_MS = 10_000;

export interface RawRequest {
  method?: "GET" | "POST" | "PUT";
  headers?: Record<string, string>;
  /** Sent as is; an async iterable is streamed (chunked), and may throw to cut the request off. */
  body?: Uint8Array | AsyncIterable<Uint8Array>;
  timeoutMs?: number;
}

export interface RawReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Uint8Array;
  text: string;
}

/** One request to `base` (scheme, host, port, maybe credentials) with the raw `path`; rejects after the deadline. */
export function rawRequest(base: string, path: string, req: RawRequest = {}): Promise<RawReply> {
  const url = new URL(base);
  const timeoutMs = req.timeoutMs ?? REQUEST_TIMEOUT_MS;
  const what = `${req.method ?? "GET"} ${path}`;
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => {
      r.destroy();
      fail(new Error(`no complete answer within ${timeoutMs} ms: ${what}`));
    }, timeoutMs);
    const headers = { ...splitCredentials(base).headers, ...req.headers };
    if (req.body instanceof Uint8Array) headers["content-length"] = String(req.body.length);
    const r = request({ host: url.hostname, port: url.port, method: req.method ?? "GET", path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", (e) => done(() => fail(new Error(`${what}: the reply broke off: ${e.message}`))));
      res.on("end", () => {
        if (!res.complete) return done(() => fail(new Error(`${what}: the reply broke off before its end`)));
        const body = new Uint8Array(Buffer.concat(chunks));
        done(() => ok({ status: res.statusCode!, headers: res.headers, body, text: new TextDecoder().decode(body) }));
      });
    });
    const done = (settle: () => void) => {
      clearTimeout(timer);
      settle();
    };
    r.on("error", (e) => done(() => fail(new Error(`${what}: ${e.message}`))));
    if (req.body === undefined || req.body instanceof Uint8Array) r.end(req.body);
    else void stream(req.body);

    async function stream(src: AsyncIterable<Uint8Array>) {
      try {
        for await (const chunk of src) if (!r.write(chunk)) await new Promise((d) => r.once("drain", d));
        r.end();
      } catch {
        r.destroy(); // the caller's way of hanging up in the middle of a request
      }
    }
  });
}

export type PktItem = Uint8Array | "flush" | "delim" | "response-end";

/** Splits a whole reply into pkt-lines; throws on anything that is not a pkt-line. */
export function pktLines(bytes: Uint8Array): PktItem[] {
  const out: PktItem[] = [];
  for (let at = 0; at < bytes.length; ) {
    const head = new TextDecoder().decode(bytes.subarray(at, at + 4));
    const len = /^[0-9a-f]{4}$/.test(head) ? parseInt(head, 16) : NaN;
    if (Number.isNaN(len) || len === 3 || at + Math.max(len, 4) > bytes.length) {
      throw new Error(`reply is not pkt-lines at byte ${at}: ${JSON.stringify(new TextDecoder().decode(bytes.subarray(at, at + 60)))}`);
    }
    out.push(len === 0 ? "flush" : len === 1 ? "delim" : len === 2 ? "response-end" : bytes.subarray(at + 4, at + len));
    at += Math.max(len, 4);
  }
  return out;
}

export interface SideBands {
  /** Band 1, concatenated. */
  data: Uint8Array;
  progress: string;
  /** Band 3: a fatal error. */
  error: string;
  /** Data lines outside side-band framing (e.g. `ERR`, `NAK`, section headers), as text. */
  plain: string[];
}

/**
 * Takes a side-band reply apart. A line whose first byte is 1, 2 or 3 is a band; any other line is
 * plain (git's ERR lines and v2 section headers are text, so their first byte is printable).
 */
export function sideBands(items: PktItem[]): SideBands {
  const data: Uint8Array[] = [];
  let progress = "";
  let error = "";
  const plain: string[] = [];
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  for (const item of items) {
    if (typeof item === "string") continue;
    if (item[0] === 1) data.push(item.subarray(1));
    else if (item[0] === 2) progress += text(item.subarray(1));
    else if (item[0] === 3) error += text(item.subarray(1));
    else plain.push(text(item).replace(/\n$/, ""));
  }
  return { data: Buffer.concat(data), progress, error, plain };
}

/** The message of the first `ERR` line of a reply (plain or in band 1), or null. */
export function errLine(reply: Uint8Array): string | null {
  const items = pktLines(reply);
  const bands = sideBands(items);
  const candidates = [...bands.plain];
  if (bands.data.length > 0 && isPktStream(bands.data)) {
    for (const l of pktLines(bands.data)) if (typeof l !== "string") candidates.push(new TextDecoder().decode(l));
  }
  const err = candidates.find((l) => l.startsWith("ERR "));
  return err === undefined ? null : err.slice(4).trim();
}

function isPktStream(b: Uint8Array): boolean {
  try {
    pktLines(b);
    return true;
  } catch {
    return false;
  }
}

export interface Command {
  old: string;
  new: string;
  ref: string;
}

/** A receive-pack request: the commands (capabilities after a NUL on the first), a flush, then the pack. */
export function receivePackRequest(commands: Command[], capabilities: string, pack?: Uint8Array): Uint8Array {
  const lines = commands.map((c, i) => pktLine(`${c.old} ${c.new} ${c.ref}${i === 0 ? `\0${capabilities}` : ""}\n`));
  return Buffer.concat([...lines, PKT_FLUSH, pack ?? new Uint8Array()]);
}

export interface ReportStatus {
  unpack: string;
  /** ref -> "ok" or the reason it was refused. */
  refs: Map<string, string>;
  /** Band 3 text, when the server gave up with a fatal error instead of a report. */
  fatal: string;
  progress: string;
}

/** Reads a receive-pack reply sent with side-band-64k and report-status. */
export function reportStatus(reply: Uint8Array): ReportStatus {
  const bands = sideBands(pktLines(reply));
  const report: ReportStatus = { unpack: "", refs: new Map(), fatal: bands.error, progress: bands.progress };
  const banded = bands.data.length ? pktLines(bands.data).filter((l): l is Uint8Array => typeof l !== "string") : [];
  for (const text of [...bands.plain, ...banded.map((l) => new TextDecoder().decode(l).replace(/\n$/, ""))]) {
    if (text.startsWith("unpack ")) report.unpack = text.slice(7);
    else if (text.startsWith("ok ")) report.refs.set(text.slice(3), "ok");
    else if (text.startsWith("ng ")) {
      const rest = text.slice(3);
      const sp = rest.indexOf(" ");
      report.refs.set(sp < 0 ? rest : rest.slice(0, sp), sp < 0 ? "" : rest.slice(sp + 1));
    } else if (text.startsWith("ERR ")) report.fatal += text.slice(4);
  }
  return report;
}
