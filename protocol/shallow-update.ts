/**
 * The shallow update a server sends when a client deepens or is shallow: `shallow <oid>` for each
 * new boundary commit, `unshallow <oid>` for each old one whose parents now follow.
 * Spec: gitprotocol-pack(5) "shallow-update"; gitprotocol-v2(5) "shallow-info section".
 */
import { concatBytes, type Oid } from "../engine/index.ts";
import { PKT_DELIM, PKT_FLUSH, pktLine } from "./pkt-line.ts";

export interface ShallowUpdate {
  shallow: readonly Oid[];
  unshallow: readonly Oid[];
}

function lines(u: ShallowUpdate): Uint8Array[] {
  return [...u.shallow.map((o) => pktLine(`shallow ${o}\n`)), ...u.unshallow.map((o) => pktLine(`unshallow ${o}\n`))];
}

/** v0: the lines, then a flush. */
export function writeShallowUpdate(u: ShallowUpdate): Uint8Array {
  return concatBytes([...lines(u), PKT_FLUSH]);
}

/** v2: the `shallow-info` section, ended by a delim (a packfile section always follows). */
export function writeShallowInfo(u: ShallowUpdate): Uint8Array {
  return concatBytes([pktLine("shallow-info\n"), ...lines(u), PKT_DELIM]);
}
