import { describe, expect, it } from "vitest";
import { concatBytes } from "../../../engine/index.ts";
import { PKT_DELIM, PKT_FLUSH, PKT_RESPONSE_END, pktLine } from "../../../protocol/pkt-line.ts";
import { parseV2Request } from "../../../protocol/v2/command-request.ts";
import { asLatin1, expectGitError, readerOf } from "../helpers.ts";

// Captured from git 2.39.5 (protocol.version=2) POSTing to git http-backend. Note the capability lines have no LF.
const LS_REFS =
  "0014command=ls-refs\n0014agent=git/2.39.50016object-format=sha100010009peel\n000csymrefs\n000bunborn\n" +
  "0014ref-prefix HEAD\n001bref-prefix refs/heads/\n001aref-prefix refs/tags/\n0000";
const FETCH =
  "0011command=fetch0014agent=git/2.39.50016object-format=sha10001000dthin-pack000fno-progress000finclude-tag000dofs-delta" +
  "0032want f693473910f4875e3eb0e7c4c26ea2be6436d2f6\n0032have e8c7d272864c8e6fd8e09f7a7bb7e50e719def1b\n" +
  "0032have 00bbb2adccbd892979d7c227e10f604dead36f5a\n0000";

const lines = (...texts: (string | Uint8Array)[]) => asLatin1(concatBytes(texts.map((t) => (typeof t === "string" ? pktLine(t) : t))));

describe("parseV2Request", () => {
  it("parses git's ls-refs request", async () => {
    for (const chunk of [Number.POSITIVE_INFINITY, 1]) {
      const req = await parseV2Request(readerOf(LS_REFS, chunk));
      expect(req.command).toBe("ls-refs");
      expect([...req.capabilities]).toEqual([
        ["agent", "git/2.39.5"],
        ["object-format", "sha1"],
      ]);
      expect(req.args).toEqual(["peel", "symrefs", "unborn", "ref-prefix HEAD", "ref-prefix refs/heads/", "ref-prefix refs/tags/"]);
      expect(req.serverOptions).toEqual([]);
    }
  });

  it("parses git's fetch request", async () => {
    const req = await parseV2Request(readerOf(FETCH));
    expect(req.command).toBe("fetch");
    expect(req.args).toEqual([
      "thin-pack",
      "no-progress",
      "include-tag",
      "ofs-delta",
      "want f693473910f4875e3eb0e7c4c26ea2be6436d2f6",
      "have e8c7d272864c8e6fd8e09f7a7bb7e50e719def1b",
      "have 00bbb2adccbd892979d7c227e10f604dead36f5a",
    ]);
  });

  it("collects every server-option in order", async () => {
    const req = await parseV2Request(readerOf(lines("command=ls-refs\n", "server-option=a b\n", "server-option=c", PKT_DELIM, PKT_FLUSH)));
    expect(req.serverOptions).toEqual(["a b", "c"]);
    expect(req.capabilities.get("server-option")).toBe("c");
    expect(req.args).toEqual([]);
  });

  it("accepts a request with no delim and no arguments", async () => {
    const req = await parseV2Request(readerOf(lines("command=ls-refs", PKT_FLUSH)));
    expect(req).toEqual({ command: "ls-refs", capabilities: new Map(), serverOptions: [], args: [] });
  });

  const CODE = "v2-request-malformed";
  it.each([
    ["an empty body", ""],
    ["a bare flush", lines(PKT_FLUSH)],
    ["a capability before the command", lines("agent=x", "command=fetch", PKT_FLUSH)],
    ["an empty command", lines("command=", PKT_FLUSH)],
    ["a command with a space", lines("command=ls refs", PKT_FLUSH)],
    ["an unknown capability", lines("command=fetch", "session-id=1", PKT_FLUSH)],
    ["an empty server-option", lines("command=fetch", "server-option=", PKT_FLUSH)],
    ["a server-option with a NUL", lines("command=fetch", "server-option=a\0b", PKT_FLUSH)],
    ["two delims", lines("command=fetch", PKT_DELIM, "done", PKT_DELIM, PKT_FLUSH)],
    ["a response-end in the arguments", lines("command=fetch", PKT_DELIM, "done", PKT_RESPONSE_END)],
    ["a missing flush", lines("command=fetch", PKT_DELIM, "done")],
    ["a second command after the flush", lines("command=ls-refs", PKT_FLUSH, "command=fetch", PKT_FLUSH)],
    ["a stray flush after the flush", lines("command=ls-refs", PKT_FLUSH, PKT_FLUSH)],
  ])("rejects %s", async (_, body) => {
    await expectGitError(() => parseV2Request(readerOf(body)), CODE);
  });
});
