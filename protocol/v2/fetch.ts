/**
 * The v2 `fetch` command: its arguments, the `acknowledgments` section and the `packfile` section header.
 * Invariants:
 * - Every argument is one we understand; anything else (an unadvertised feature) is malformed, not ignored.
 * - `deepen` excludes `deepen-since` and `deepen-not`; `deepen 0` means no depth.
 * - acknowledgments: `NAK` or `ACK` lines (never both), then `ready` + delim (a packfile follows), else a flush.
 * Spec: gitprotocol-v2(5), "fetch" (arguments, output, acknowledgments section, packfile section).
 */
import { GitError, type Oid } from "../../engine/index.ts";
import type { ProtocolErrorCode } from "../errors.ts";
import { PKT_DELIM, PKT_FLUSH, pktLine } from "../pkt-line.ts";
import { wireDecimal, wireOid } from "../wire-value.ts";

export interface FetchArgs {
  wants: Oid[];
  haves: Oid[];
  done: boolean;
  thinPack: boolean;
  ofsDelta: boolean;
  includeTag: boolean;
  noProgress: boolean;
  waitForDone: boolean;
  sidebandAll: boolean;
  shallows: Oid[];
  deepen?: number;
  deepenSince?: number;
  deepenNot: string[];
  deepenRelative: boolean;
  filter?: string;
  wantRefs: string[];
}

type Flag = "done" | "thinPack" | "ofsDelta" | "includeTag" | "noProgress" | "waitForDone" | "sidebandAll" | "deepenRelative";

const FLAGS: ReadonlyMap<string, Flag> = new Map([
  ["done", "done"],
  ["thin-pack", "thinPack"],
  ["ofs-delta", "ofsDelta"],
  ["include-tag", "includeTag"],
  ["no-progress", "noProgress"],
  ["wait-for-done", "waitForDone"],
  ["sideband-all", "sidebandAll"],
  ["deepen-relative", "deepenRelative"],
]);

export function parseFetchArgs(args: readonly string[]): FetchArgs {
  const out: FetchArgs = {
    wants: [],
    haves: [],
    done: false,
    thinPack: false,
    ofsDelta: false,
    includeTag: false,
    noProgress: false,
    waitForDone: false,
    sidebandAll: false,
    shallows: [],
    deepenNot: [],
    deepenRelative: false,
    wantRefs: [],
  };
  for (const arg of args) {
    const flag = FLAGS.get(arg);
    if (flag !== undefined) {
      out[flag] = true;
      continue;
    }
    const sp = arg.indexOf(" ");
    const name = sp < 0 ? arg : arg.slice(0, sp);
    const value = sp < 0 ? "" : arg.slice(sp + 1);
    switch (name) {
      case "want":
        out.wants.push(wireOid(value) ?? malformed(arg));
        break;
      case "have":
        out.haves.push(wireOid(value) ?? malformed(arg));
        break;
      case "shallow":
        out.shallows.push(wireOid(value) ?? malformed(arg));
        break;
      case "deepen": {
        const depth = wireDecimal(value) ?? malformed(arg);
        out.deepen = depth === 0 ? undefined : depth;
        break;
      }
      case "deepen-since":
        out.deepenSince = wireDecimal(value) ?? malformed(arg);
        break;
      case "deepen-not":
        out.deepenNot.push(nonEmpty(value, arg));
        break;
      case "filter":
        if (out.filter !== undefined) malformed(arg);
        out.filter = nonEmpty(value, arg);
        break;
      case "want-ref":
        out.wantRefs.push(nonEmpty(value, arg));
        break;
      default:
        malformed(arg);
    }
  }
  if (out.deepen !== undefined && (out.deepenSince !== undefined || out.deepenNot.length > 0))
    throw new GitError<ProtocolErrorCode>(
      "v2-request-malformed",
      "fetch: deepen cannot be combined with deepen-since or deepen-not",
    );
  return out;
}

export function writeAcknowledgments(o: { common: readonly Oid[]; ready: boolean }): Uint8Array[] {
  const out = [pktLine("acknowledgments\n")];
  if (o.common.length === 0) out.push(pktLine("NAK\n"));
  for (const oid of o.common) out.push(pktLine(`ACK ${oid}\n`));
  if (o.ready) out.push(pktLine("ready\n"), PKT_DELIM);
  else out.push(PKT_FLUSH);
  return out;
}

export const PACKFILE_SECTION_HEADER = pktLine("packfile\n");

function nonEmpty(value: string, arg: string): string {
  return value === "" ? malformed(arg) : value;
}

function malformed(arg: string): never {
  throw new GitError<ProtocolErrorCode>("v2-request-malformed", `fetch: bad argument ${JSON.stringify(arg.slice(0, 100))}`);
}
