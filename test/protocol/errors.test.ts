import { describe, expect, it } from "vitest";
import { httpStatusFor, PROTOCOL_ERROR_STATUS } from "../../protocol/errors.ts";

describe("httpStatusFor", () => {
  it("maps the shared codes to the statuses the gateway needs", () => {
    expect(httpStatusFor("bad-repo-name")).toBe(400);
    expect(httpStatusFor("repo-not-found")).toBe(404);
    expect(httpStatusFor("unexpected-eof")).toBe(400);
    expect(httpStatusFor("bad-oid")).toBe(400);
    expect(httpStatusFor("method-not-allowed")).toBe(405);
    expect(httpStatusFor("unsupported-media-type")).toBe(415);
    expect(httpStatusFor("payload-too-large")).toBe(413);
  });

  it("maps bad client input to 400 and our own bugs to 500", () => {
    for (const code of ["pkt-line-malformed", "pkt-line-truncated", "pkt-line-unexpected", "upload-pack-request-malformed"])
      expect(httpStatusFor(code)).toBe(400);
    for (const code of ["v2-request-malformed", "receive-pack-request-malformed"]) expect(httpStatusFor(code)).toBe(400);
    expect(httpStatusFor("pkt-line-too-long")).toBe(500);
  });

  it("answers 500 for an unknown code, including Object.prototype names", () => {
    expect(httpStatusFor("no-such-code")).toBe(500);
    expect(httpStatusFor("toString")).toBe(500);
    expect(httpStatusFor("__proto__")).toBe(500);
  });

  it("holds only real HTTP error statuses", () => {
    for (const status of Object.values(PROTOCOL_ERROR_STATUS)) expect(status >= 400 && status <= 599).toBe(true);
  });
});
