/**
 * Writes the v0 ref advertisement (info/refs for upload-pack and receive-pack) and the v2 capability advertisement.
 * Invariants:
 * - Refs go out in the caller's order (C-locale sorted, HEAD first when it resolves); capabilities ride the first line.
 * - A peeled line `<oid> <name>^{}` follows its tag at once, and only for upload-pack.
 * - With no refs, the capabilities ride a `capabilities^{}` line with the zero id, so a client still learns them.
 * Spec: gitprotocol-pack(5), "Reference Discovery"; gitprotocol-http(5), "Smart Server Response";
 * gitprotocol-v2(5), "Capability Advertisement".
 */
import { type Oid, ZERO_OID } from "../../engine/index.ts";
import { v2Capabilities } from "../capabilities.ts";
import { PKT_FLUSH, pktLine } from "../pkt-line.ts";

export type AdvertisedService = "git-upload-pack" | "git-receive-pack";

export interface AdvertisedRef {
  name: string;
  oid: Oid;
  peeled?: Oid;
}

export function writeRefAdvertisement(o: {
  service: AdvertisedService;
  refs: readonly AdvertisedRef[];
  capabilities: readonly string[];
  smartHttp: boolean;
}): Uint8Array[] {
  const out = serviceHeader(o.smartHttp, o.service);
  const caps = o.capabilities.join(" ");
  if (o.refs.length === 0) out.push(pktLine(`${ZERO_OID} capabilities^{}\0${caps}\n`));
  o.refs.forEach((ref, i) => {
    out.push(pktLine(i === 0 ? `${ref.oid} ${ref.name}\0${caps}\n` : `${ref.oid} ${ref.name}\n`));
    if (ref.peeled !== undefined && o.service === "git-upload-pack") out.push(pktLine(`${ref.peeled} ${ref.name}^{}\n`));
  });
  out.push(PKT_FLUSH);
  return out;
}

/**
 * git's own http-backend omits the service header in v2; we send it, as the smart-HTTP spec asks of every
 * info/refs reply, and git's client accepts either.
 */
export function writeV2CapabilityAdvertisement(o: { smartHttp: boolean; service: "git-upload-pack" }): Uint8Array[] {
  const out = serviceHeader(o.smartHttp, o.service);
  out.push(pktLine("version 2\n"));
  for (const cap of v2Capabilities()) out.push(pktLine(`${cap}\n`));
  out.push(PKT_FLUSH);
  return out;
}

function serviceHeader(smartHttp: boolean, service: AdvertisedService): Uint8Array[] {
  return smartHttp ? [pktLine(`# service=${service}\n`), PKT_FLUSH] : [];
}
