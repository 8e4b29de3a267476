/**
 * Writes the v0 negotiation answers: `ACK <oid>[ status]` and `NAK`.
 * Invariants:
 * - The status word is one of multi_ack_detailed's (`common`, `ready`) or multi_ack's (`continue`); none for a final ACK.
 * Spec: gitprotocol-pack(5), "Packfile Negotiation" (server-response).
 */
import type { Oid } from "../../engine/index.ts";
import { pktLine } from "../pkt-line.ts";

export type AckStatus = "common" | "ready" | "continue";

export function writeAck(oid: Oid, status?: AckStatus): Uint8Array {
  return pktLine(status === undefined ? `ACK ${oid}\n` : `ACK ${oid} ${status}\n`);
}

export function writeNak(): Uint8Array {
  return pktLine("NAK\n");
}
