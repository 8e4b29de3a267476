/**
 * `push` for Worker code: typed ref commands plus a pack stream, run through the very receive-pack
 * the smart-HTTP gateway uses (same checks, same transaction, same `ref_log` rows), with the
 * report-status lines turned back into a typed result.
 * Invariants:
 * - The pack is sent on only when some command creates or updates a ref, as git does.
 * Spec: gitprotocol-pack(5) "Reference Update Request and Packfile Transfer", "Report Status".
 */
import { ByteReader, GitError, ZERO_OID, concatBytes } from "../../../engine/index.ts";
import { PKT_FLUSH, pktLine, pktText, readPktLine } from "../../../protocol/index.ts";
import type { PushParsed, PushResult } from "../../../protocol/rpc/index.ts";
import { receivePack, type ReceivePackContext } from "../receive-pack.ts";

export async function push(ctx: ReceivePackContext, input: PushParsed, pack: AsyncIterable<Uint8Array>): Promise<PushResult> {
  const caps = `report-status${input.atomic ? " atomic" : ""}`;
  const commands = input.commands.map((c, i) => pktLine(`${c.old ?? ZERO_OID} ${c.new ?? ZERO_OID} ${c.ref}${i === 0 ? `\0${caps}` : ""}\n`));
  const sendsPack = input.commands.some((c) => c.new !== null);
  const body = (async function* () {
    yield concatBytes([...commands, PKT_FLUSH]);
    if (sendsPack) yield* pack;
  })();
  const report = new ByteReader(await receivePack(ctx, body));
  const out: PushResult = { unpack: "", refs: [] };
  for (let line = await readPktLine(report); line && line.type === "data"; line = await readPktLine(report)) {
    const text = pktText(line);
    if (text.startsWith("unpack ")) out.unpack = text.slice(7);
    else if (text.startsWith("ok ")) out.refs.push({ ref: text.slice(3), ok: true });
    else if (text.startsWith("ng ")) {
      const [ref, ...reason] = text.slice(3).split(" ");
      out.refs.push({ ref: ref!, ok: false, reason: reason.join(" ") });
    } else throw new GitError("rpc-internal", `unexpected report-status line ${JSON.stringify(text.slice(0, 100))}`);
  }
  return out;
}
