/**
 * The capabilities we advertise, listed once: a new feature (shallow, filter) adds its line here.
 * Invariants:
 * - We advertise only what the server understands; a client may only ask for what is advertised.
 * - `no-progress` is listed because git's fetch-pack sends it whether or not it was advertised.
 * Spec: gitprotocol-capabilities(5); gitprotocol-v2(5), "Capability Advertisement".
 */
export const AGENT = "edgegit/0.1";

export function uploadPackV0Capabilities(o: { headSymref?: string }): string[] {
  return [
    "multi_ack_detailed",
    "no-done",
    "side-band-64k",
    "side-band",
    "ofs-delta",
    "thin-pack",
    "no-progress",
    "include-tag",
    "shallow",
    "deepen-since",
    "deepen-not",
    "deepen-relative",
    "filter",
    "allow-reachable-sha1-in-want",
    "allow-tip-sha1-in-want",
    ...(o.headSymref === undefined ? [] : [`symref=HEAD:${o.headSymref}`]),
    "object-format=sha1",
    `agent=${AGENT}`,
  ];
}

export function receivePackCapabilities(): string[] {
  return [
    "report-status",
    "report-status-v2",
    "delete-refs",
    "side-band-64k",
    "quiet",
    "atomic",
    "ofs-delta",
    "push-options",
    "object-format=sha1",
    `agent=${AGENT}`,
  ];
}

/** The lines after `version 2`, in git's order. */
export function v2Capabilities(): string[] {
  return [`agent=${AGENT}`, "ls-refs=unborn", "fetch=shallow wait-for-done filter", "server-option", "object-format=sha1"];
}

/**
 * A space-separated `key[=value]` list, as sent after a NUL or on a first want line.
 * git's send-pack puts a space right after the NUL, so empty items are skipped. A repeated key keeps its last value.
 */
export function parseCapabilityList(s: string): Map<string, string | true> {
  const caps = new Map<string, string | true>();
  for (const item of s.split(" ")) {
    if (item === "") continue;
    const eq = item.indexOf("=");
    if (eq < 0) caps.set(item, true);
    else caps.set(item.slice(0, eq), item.slice(eq + 1));
  }
  return caps;
}

/**
 * The first capability a client asked for that was never advertised, or null. Values are not
 * compared (a client's `agent=` differs from ours); only the key must have been offered.
 */
export function unadvertisedCapability(requested: ReadonlyMap<string, string | true>, advertised: readonly string[]): string | null {
  const offered = new Set(advertised.map((c) => c.split("=", 1)[0]));
  for (const key of requested.keys()) if (!offered.has(key)) return key;
  return null;
}
