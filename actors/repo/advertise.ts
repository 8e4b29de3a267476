/**
 * The ref advertisement (`GET info/refs`): v0 lists refs with capabilities; v2 lists capabilities
 * only (refs come from `ls-refs`).
 * Spec: gitprotocol-http(5) "Smart Clients"; gitprotocol-pack(5) "Reference Discovery".
 */
import type { Oid } from "../../engine/index.ts";
import {
  receivePackCapabilities, uploadPackV0Capabilities, writeRefAdvertisement, writeV2CapabilityAdvertisement,
  type AdvertisedRef, type AdvertisedService,
} from "../../protocol/index.ts";
import { headTarget } from "./head.ts";
import type { RepoStore } from "./repo-store.ts";

export function advertiseRefs(store: RepoStore, service: AdvertisedService, v2: boolean): Uint8Array[] {
  if (v2 && service === "git-upload-pack") return writeV2CapabilityAdvertisement({ smartHttp: true, service });
  const refs = store.refs();
  const head = headTarget(store);
  const headOid = refs.find((r) => r.name === head)?.oid;
  const advertised: AdvertisedRef[] = [];
  if (service === "git-upload-pack") {
    if (headOid) advertised.push({ name: "HEAD", oid: headOid });
    for (const r of refs) advertised.push(withPeeled(store, r.name, r.oid));
    return writeRefAdvertisement({ service, refs: advertised, capabilities: uploadPackV0Capabilities({ headSymref: headOid ? head : undefined }), smartHttp: true });
  }
  return writeRefAdvertisement({ service, refs: refs.map((r) => ({ name: r.name, oid: r.oid })), capabilities: receivePackCapabilities(), smartHttp: true });
}

export function withPeeled(store: RepoStore, name: string, oid: Oid): AdvertisedRef {
  if (!store.isTag(oid)) return { name, oid };
  return { name, oid, peeled: store.peel(oid).oid };
}
