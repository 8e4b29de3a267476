/**
 * The v2 `ls-refs` command: its arguments and its response, one line per ref with optional attributes.
 * Invariants:
 * - `symref-target:` and `peeled:` appear only when the client asked (`symrefs`, `peel`).
 * - An unborn HEAD is listed only when the client asked for both `unborn` and `symrefs`, as git does.
 * - With ref-prefix arguments only matching refs are listed (the spec allows more; we send exactly those).
 * Spec: gitprotocol-v2(5), "ls-refs".
 */
import { GitError, type Oid } from "../../engine/index.ts";
import type { ProtocolErrorCode } from "../errors.ts";
import { PKT_FLUSH, pktLine } from "../pkt-line.ts";

export interface LsRefsArgs {
  symrefs: boolean;
  peel: boolean;
  unborn: boolean;
  refPrefixes: string[];
}

export interface LsRefsRef {
  name: string;
  oid: Oid | "unborn";
  symrefTarget?: string;
  peeled?: Oid;
}

export function parseLsRefsArgs(args: readonly string[]): LsRefsArgs {
  const out: LsRefsArgs = { symrefs: false, peel: false, unborn: false, refPrefixes: [] };
  for (const arg of args) {
    if (arg === "symrefs") out.symrefs = true;
    else if (arg === "peel") out.peel = true;
    else if (arg === "unborn") out.unborn = true;
    else if (arg.startsWith("ref-prefix ")) out.refPrefixes.push(arg.slice("ref-prefix ".length));
    else
      throw new GitError<ProtocolErrorCode>(
        "v2-request-malformed",
        `ls-refs: unknown argument ${JSON.stringify(arg.slice(0, 100))}`,
      );
  }
  return out;
}

export function writeLsRefsResponse(refs: readonly LsRefsRef[], args: LsRefsArgs): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const ref of refs) {
    if (args.refPrefixes.length > 0 && !args.refPrefixes.some((p) => ref.name.startsWith(p))) continue;
    if (ref.oid === "unborn" && !(args.unborn && args.symrefs)) continue;
    let line = `${ref.oid} ${ref.name}`;
    if (args.symrefs && ref.symrefTarget !== undefined) line += ` symref-target:${ref.symrefTarget}`;
    if (args.peel && ref.peeled !== undefined) line += ` peeled:${ref.peeled}`;
    out.push(pktLine(`${line}\n`));
  }
  out.push(PKT_FLUSH);
  return out;
}
