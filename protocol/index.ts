/** The public surface of `protocol/`: git's wire formats for smart HTTP, v0 and v2, and the error-status table. */
export { AGENT, parseCapabilityList, receivePackCapabilities, unadvertisedCapability, uploadPackV0Capabilities, v2Capabilities } from "./capabilities.ts";
export { httpStatusFor, PROTOCOL_ERROR_STATUS, type ProtocolErrorCode } from "./errors.ts";
export {
  describePktLine,
  MAX_PKT_LENGTH,
  MAX_PKT_PAYLOAD,
  PKT_DELIM,
  PKT_FLUSH,
  PKT_RESPONSE_END,
  pktLine,
  pktText,
  readPktLine,
  type PktLine,
} from "./pkt-line.ts";
export { parseReceivePackRequest, type ReceivePackRequest, type RefUpdateCommand } from "./receive-pack/commands.ts";
export { writeReportStatus, type RefStatus } from "./receive-pack/report-status.ts";
export { checkRefName } from "./ref-name.ts";
export { parseRepoPath } from "./repo-path.ts";
export { sideBand, SIDE_BAND_64K_DATA, SIDE_BAND_DATA, SIDE_BAND_PAYLOAD, type SideBand } from "./side-band.ts";
export { writeAck, writeNak, type AckStatus } from "./v0/acknowledgments.ts";
export {
  writeRefAdvertisement,
  writeV2CapabilityAdvertisement,
  type AdvertisedRef,
  type AdvertisedService,
} from "./v0/ref-advertisement.ts";
export { parseUploadPackRequest, type UploadPackRequest } from "./v0/upload-pack-request.ts";
export { parseV2Request, type V2Request } from "./v2/command-request.ts";
export { PACKFILE_SECTION_HEADER, parseFetchArgs, writeAcknowledgments, type FetchArgs } from "./v2/fetch.ts";
export { parseLsRefsArgs, writeLsRefsResponse, type LsRefsArgs, type LsRefsRef } from "./v2/ls-refs.ts";
export { writeShallowInfo, writeShallowUpdate, type ShallowUpdate } from "./shallow-update.ts";
