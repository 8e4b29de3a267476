import { describe, expect, it } from "vitest";
import { concatBytes } from "../../../engine/index.ts";
import { PKT_DELIM, PKT_FLUSH, pktLine } from "../../../protocol/pkt-line.ts";
import { parseReceivePackRequest } from "../../../protocol/receive-pack/commands.ts";
import { asLatin1, expectGitError, readerOf } from "../helpers.ts";

// Request bodies captured from git 2.39.5 send-pack over smart HTTP (pack bytes cut after the header).
const ZERO = "0".repeat(40);
const OLD = "f693473910f4875e3eb0e7c4c26ea2be6436d2f6";
const NEW = "e9d62a52e98dd9a4136e111fdba99eab3241c0e2";
const PACK_HEAD = "PACK\x00\x00\x00\x02\x00\x00\x00\x03";
const UPDATE_AND_CREATE =
  `00af${OLD} ${NEW} refs/heads/main\0 report-status-v2 side-band-64k quiet object-format=sha1 agent=git/2.39.5` +
  `0065${ZERO} ${NEW} refs/heads/newb0000${PACK_HEAD}`;
const WITH_PUSH_OPTIONS =
  `00c4${ZERO} ${NEW} refs/heads/newb2\0 report-status-v2 side-band-64k quiet atomic push-options object-format=sha1 agent=git/2.39.5` +
  `0000000bci.skip0007x y0000${PACK_HEAD}`;
const DELETE_ONLY =
  `00af${NEW} ${ZERO} refs/heads/newb\0 report-status-v2 side-band-64k quiet object-format=sha1 agent=git/2.39.5` +
  `0066${NEW} ${ZERO} refs/heads/newb20000`;

const lines = (...texts: (string | Uint8Array)[]) => asLatin1(concatBytes(texts.map((t) => (typeof t === "string" ? pktLine(t) : t))));

describe("parseReceivePackRequest on captured requests", () => {
  it("parses an update and a create, and leaves the reader at the pack", async () => {
    for (const chunk of [Number.POSITIVE_INFINITY, 1, 5]) {
      const r = readerOf(UPDATE_AND_CREATE, chunk);
      const req = await parseReceivePackRequest(r);
      expect(req.commands).toEqual([
        { oldOid: OLD, newOid: NEW, ref: "refs/heads/main" },
        { oldOid: ZERO, newOid: NEW, ref: "refs/heads/newb" },
      ]);
      expect([...req.capabilities.keys()]).toEqual(["report-status-v2", "side-band-64k", "quiet", "object-format", "agent"]);
      expect(req.pushOptions).toEqual([]);
      expect(req.shallows).toEqual([]);
      expect(r.position).toBe(UPDATE_AND_CREATE.length - PACK_HEAD.length);
      await r.fill(PACK_HEAD.length);
      expect(asLatin1(r.peek())).toBe(PACK_HEAD);
    }
  });

  it("reads push options when the client asked for push-options", async () => {
    const r = readerOf(WITH_PUSH_OPTIONS);
    const req = await parseReceivePackRequest(r);
    expect(req.commands).toEqual([{ oldOid: ZERO, newOid: NEW, ref: "refs/heads/newb2" }]);
    expect(req.capabilities.get("atomic")).toBe(true);
    expect(req.pushOptions).toEqual(["ci.skip", "x y"]);
    await r.fill(4);
    expect(asLatin1(r.peek(4))).toBe("PACK");
  });

  it("parses a delete-only push, after which there is no pack", async () => {
    const r = readerOf(DELETE_ONLY);
    const req = await parseReceivePackRequest(r);
    expect(req.commands.map((c) => [c.newOid, c.ref])).toEqual([
      [ZERO, "refs/heads/newb"],
      [ZERO, "refs/heads/newb2"],
    ]);
    expect(await r.fill(1)).toBe(false);
  });
});

describe("parseReceivePackRequest on built requests", () => {
  it("accepts a bare flush: zero commands", async () => {
    expect(await parseReceivePackRequest(readerOf("0000"))).toEqual({
      commands: [],
      capabilities: new Map(),
      pushOptions: [],
      shallows: [],
    });
  });

  it("reads leading shallow lines, LF-terminated commands and upper-case ids", async () => {
    const req = await parseReceivePackRequest(
      readerOf(lines(`shallow ${OLD}\n`, `${OLD.toUpperCase()} ${NEW} refs/heads/a\0report-status\n`, `${NEW} ${OLD} refs/heads/b\n`, PKT_FLUSH)),
    );
    expect(req.shallows).toEqual([OLD]);
    expect(req.commands).toEqual([
      { oldOid: OLD, newOid: NEW, ref: "refs/heads/a" },
      { oldOid: NEW, newOid: OLD, ref: "refs/heads/b" },
    ]);
    expect([...req.capabilities]).toEqual([["report-status", true]]);
  });

  it("leaves ref names to the caller (a bad name is an ng, not a failed request)", async () => {
    const req = await parseReceivePackRequest(readerOf(lines(`${ZERO} ${NEW} refs/heads/a..b`, PKT_FLUSH)));
    expect(req.commands[0]!.ref).toBe("refs/heads/a..b");
  });

  const CODE = "receive-pack-request-malformed";
  it.each([
    ["an empty body", ""],
    ["no flush after the commands", lines(`${ZERO} ${NEW} refs/heads/a`)],
    ["a delim", lines(`${ZERO} ${NEW} refs/heads/a`, PKT_DELIM)],
    ["a short old id", lines(`${ZERO.slice(1)} ${NEW} refs/heads/a`, PKT_FLUSH)],
    ["a bad new id", lines(`${ZERO} ${NEW.replace("e", "g")} refs/heads/a`, PKT_FLUSH)],
    ["a missing ref", lines(`${ZERO} ${NEW}`, PKT_FLUSH)],
    ["an empty ref", lines(`${ZERO} ${NEW} `, PKT_FLUSH)],
    ["tabs for spaces", lines(`${ZERO}\t${NEW}\trefs/heads/a`, PKT_FLUSH)],
    ["capabilities on a second command", lines(`${ZERO} ${NEW} refs/heads/a`, `${ZERO} ${NEW} refs/heads/b\0atomic`, PKT_FLUSH)],
    ["a shallow line after a command", lines(`${ZERO} ${NEW} refs/heads/a`, `shallow ${OLD}`, PKT_FLUSH)],
    ["a bad shallow line", lines(`shallow ${OLD.slice(2)}`, PKT_FLUSH)],
    ["a push certificate (never advertised)", lines("push-cert\0report-status\n", "certificate version 0.1\n", PKT_FLUSH)],
    ["push options with no flush", lines(`${ZERO} ${NEW} refs/heads/a\0push-options`, PKT_FLUSH, "ci.skip")],
  ])("rejects %s", async (_, body) => {
    await expectGitError(() => parseReceivePackRequest(readerOf(body)), CODE);
  });
});
