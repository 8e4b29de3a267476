/**
 * Hostile input on every smart-HTTP endpoint: broken framing, unknown wants, unadvertised capabilities,
 * wrong methods and types, path tricks, lying packs, bad deltas, bad objects and forbidden ref names.
 * Invariants:
 * - Each case gets a clear refusal within REQUEST_TIMEOUT_MS: a 4xx, an `ERR` line, a band-3 error, or a
 *   report whose `unpack` fails or whose ref is `ng`. Never a 5xx, a broken reply or a hang.
 * - After each case the repo's refs are exactly as before and a fresh clone fscks clean (--strict).
 * - Every hostile body is a known-good request with one thing broken; the good ones are checked to pass.
 * - Cases run concurrently; a case that pushes gets a repo of its own, so a wrong accept can't spill over.
 * Spec: gitprotocol-http(5); gitprotocol-common(5) "pkt-line Format"; gitprotocol-pack(5); gitprotocol-v2(5);
 *       gitformat-pack(5); git-check-ref-format(1); git-fsck(1) (what --strict refuses in trees and commits).
 */
import { createHash, randomBytes } from "node:crypto";
import { join } from "node:path";
import { deflateSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { PKT_DELIM, PKT_FLUSH, pktLine } from "../../protocol/index.ts";
import { basicAuth, commitFile, fsck, git, lsRemote, packOf, revParse, tempDir, tinyRepo, uniqueRepoUrl, ZERO_OID } from "./git.ts";
import { errLine, pktLines, rawRequest, receivePackRequest, reportStatus, sideBands, type Command, type RawReply } from "./raw-http.ts";

const CAPS = "report-status side-band-64k";
const utf8 = (s: string) => new TextEncoder().encode(s);
const cat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));
const randomOid = () => randomBytes(20).toString("hex");

// ---- the repos under attack --------------------------------------------------------------------

interface Repo {
  url: string;
  origin: string;
  /** `/<owner>/<name>.git`, as sent on the wire. */
  path: string;
  /** `git ls-remote` (v2) before any case ran. */
  before: Map<string, string>;
}

let src: string;
let main: string;
/** A commit on top of main that only hand-made requests carry. */
let next: string;
/** A pack of `next` and what it adds to main: pushing it to refs/heads/hostile is accepted. */
let nextPack: Uint8Array;
/** A commit the shared repo holds that no ref reaches. */
let unreachable: string;
/** Read-only cases share one repo; a case that sends a push gets its own, so a wrong accept can't spill over. */
let shared: Repo;

async function repoAt(url: string): Promise<Repo> {
  const { origin, pathname } = new URL(url);
  return { url, origin, path: pathname, before: await lsRemote(url, 2) };
}

/** A new repo with main, keep and the annotated tag v1. */
async function freshRepo(): Promise<Repo> {
  const url = uniqueRepoUrl("hostile-push");
  await git(src, ["push", "-q", url, "main", "keep", "v1"]);
  return repoAt(url);
}

beforeAll(async () => {
  src = await tinyRepo(3);
  await git(src, ["tag", "-a", "v1", "-m", "release 1"]);
  await git(src, ["branch", "keep", "HEAD~1"]);
  main = await revParse(src, "main");
  const url = uniqueRepoUrl("hostile");
  await git(src, ["push", "-q", url, "main", "keep", "v1"]);

  unreachable = await commitFile(src, "gone.txt", "pushed, then forced away\n");
  await git(src, ["push", "-q", url, "main"]);
  await git(src, ["reset", "-q", "--hard", "HEAD~1"]);
  await git(src, ["push", "-q", "--force", url, "main"]);
  shared = await repoAt(url);

  await git(src, ["checkout", "-q", "-b", "next"]);
  next = await commitFile(src, "next.txt", "travels only in hand-made requests\n".repeat(10));
  await git(src, ["checkout", "-q", "main"]);
  nextPack = await packOf(src, next, "^main");
});

/** Refs exactly as before; a fresh clone fscks clean and has main where it was. */
async function expectIntact(repo: Repo): Promise<void> {
  expect(await lsRemote(repo.url, 2)).toEqual(repo.before);
  const clone = join(tempDir(), "clone");
  await git(tempDir(), ["clone", "-q", "--no-checkout", repo.url, clone]);
  await fsck(clone);
  expect(await revParse(clone, "refs/remotes/origin/main")).toBe(main);
}

// ---- requests and what counts as a refusal -------------------------------------------------------

type Service = "upload-pack v0" | "upload-pack v2" | "receive-pack";

function post(repo: Repo, service: Service, body: Uint8Array, headers: Record<string, string> = {}, path = repo.path): Promise<RawReply> {
  const svc = service === "receive-pack" ? "git-receive-pack" : "git-upload-pack";
  return rawRequest(repo.origin, `${path}/${svc}`, {
    method: "POST",
    headers: {
      "content-type": `application/x-${svc}-request`,
      ...(service === "upload-pack v2" ? { "git-protocol": "version=2" } : {}),
      // Pushes carry the write token, so each case is refused for what it breaks, not for lack of auth.
      ...(service === "receive-pack" ? basicAuth() : {}),
      ...headers,
    },
    body,
  });
}

const describeReply = (r: RawReply) => `HTTP ${r.status}: ${JSON.stringify(r.text.slice(0, 300))}`;

/** A 4xx, or a 200 whose body says no (ERR line or band-3 error). */
function expectUploadRefusal(r: RawReply): void {
  expect(r.status, describeReply(r)).toBeLessThan(500);
  if (r.status >= 400) return;
  expect(r.status, describeReply(r)).toBe(200);
  const err = errLine(r.body) ?? (sideBands(pktLines(r.body)).error || null);
  expect(err, `expected an ERR line or a band-3 error, got ${describeReply(r)}`).not.toBeNull();
}

/** A 4xx, or a 200 whose report fails the unpack or refuses every ref (and accepts none). */
function expectPushRefusal(r: RawReply): void {
  expect(r.status, describeReply(r)).toBeLessThan(500);
  if (r.status >= 400) return;
  expect(r.status, describeReply(r)).toBe(200);
  const report = reportStatus(r.body);
  const accepted = [...report.refs].filter(([, v]) => v === "ok").map(([k]) => k);
  expect(accepted, `a ref was accepted: ${describeReply(r)}`).toEqual([]);
  const refused = report.fatal !== "" || (report.unpack !== "" && report.unpack !== "ok") || report.refs.size > 0;
  expect(refused, `expected a failed unpack, an ng line or a fatal error, got ${describeReply(r)}`).toBe(true);
}

function expectRefusal(service: Service, r: RawReply): void {
  if (service === "receive-pack") expectPushRefusal(r);
  else expectUploadRefusal(r);
}

const repoFor = (service: Service) => (service === "receive-pack" ? freshRepo() : shared);

/** The well-formed request each framing case breaks. */
function goodRequest(service: Service): Uint8Array {
  switch (service) {
    case "upload-pack v0":
      return cat(pktLine(`want ${main} multi_ack_detailed side-band-64k ofs-delta\n`), PKT_FLUSH, pktLine("done\n"));
    case "upload-pack v2":
      return cat(pktLine("command=fetch\n"), pktLine("object-format=sha1\n"), PKT_DELIM, pktLine(`want ${main}\n`), pktLine("done\n"), PKT_FLUSH);
    case "receive-pack":
      return receivePackRequest([{ old: ZERO_OID, new: next, ref: "refs/heads/hostile" }], CAPS, nextPack);
  }
}

const SERVICES: Service[] = ["upload-pack v0", "upload-pack v2", "receive-pack"];

// ---- the cases -----------------------------------------------------------------------------------

describe("control: the well-formed requests the cases break are accepted", () => {
  it("upload-pack v0 and v2 send a pack", async () => {
    for (const service of ["upload-pack v0", "upload-pack v2"] as const) {
      const r = await post(shared, service, goodRequest(service));
      expect(r.status, describeReply(r)).toBe(200);
      expect(new TextDecoder().decode(sideBands(pktLines(r.body)).data.subarray(0, 4))).toBe("PACK");
    }
    await expectIntact(shared);
  });

  it("receive-pack accepts the push, with and without extra entries appended", async () => {
    for (const pack of [nextPack, withEntries(nextPack, [object(3, utf8("an extra, well-formed blob\n"))])]) {
      const repo = await freshRepo();
      const r = await post(repo, "receive-pack", receivePackRequest([{ old: ZERO_OID, new: next, ref: "refs/heads/hostile" }], CAPS, pack));
      expect(r.status, describeReply(r)).toBe(200);
      const report = reportStatus(r.body);
      expect([report.unpack, [...report.refs]]).toEqual(["ok", [["refs/heads/hostile", "ok"]]]);
      expect(await lsRemote(repo.url, 2)).toEqual(new Map([...repo.before, ["refs/heads/hostile", next]]));
    }
  });
});

describe.concurrent("pkt-line framing", () => {
  const framing: Record<string, (good: Uint8Array) => Uint8Array> = {
    "a non-hex length": (g) => cat(utf8("00zz"), g.subarray(4)),
    "a length with a sign": (g) => cat(utf8("-032"), g.subarray(4)),
    "0001 where a data line is due": (g) => cat(utf8("0001"), g),
    "0002 where a data line is due": (g) => cat(utf8("0002"), g),
    "0003 where a data line is due": (g) => cat(utf8("0003"), g),
    "a length longer than the body": (g) => cat(utf8("fff0"), g.subarray(4)),
    "a length of 65521 (over the limit), body present": (g) => cat(utf8("fff1"), g.subarray(4), new Uint8Array(65521)),
    "a length of 65535, body present": (g) => cat(utf8("ffff"), g.subarray(4), new Uint8Array(65535)),
    "a body cut off inside the first pkt-line": (g) => g.subarray(0, 20),
    "a body cut off inside a length": (g) => g.subarray(0, parseInt(new TextDecoder().decode(g.subarray(0, 4)), 16) + 2),
    "an empty body": () => new Uint8Array(0),
  };
  for (const service of SERVICES) {
    for (const [what, damage] of Object.entries(framing)) {
      it(`${service}: ${what}`, async () => {
        const repo = await repoFor(service);
        expectRefusal(service, await post(repo, service, damage(goodRequest(service))));
        await expectIntact(repo);
      });
    }
  }
});

describe.concurrent("request contents", () => {
  const junk = cat(new Uint8Array([0, 0xff, 0x13]), utf8("garbage after the flush"));

  const v0 = (first: string, ...more: string[]) => cat(pktLine(first), ...more.map((l) => pktLine(l)), PKT_FLUSH, pktLine("done\n"));
  const v2 = (args: string[], caps: string[] = [], command = "fetch") =>
    cat(pktLine(`command=${command}\n`), ...caps.map((c) => pktLine(c)), PKT_DELIM, ...args.map((a) => pktLine(a)), PKT_FLUSH);
  const fetchArgs = (...wants: string[]) => [...wants.map((w) => `want ${w}\n`), "done\n"];
  const create = (caps = CAPS, pack: Uint8Array = nextPack) => receivePackRequest([{ old: ZERO_OID, new: next, ref: "refs/heads/hostile" }], caps, pack);

  const cases: [string, Service, () => Uint8Array][] = [
    ["a want of an unknown id", "upload-pack v0", () => v0(`want ${randomOid()} side-band-64k ofs-delta\n`)],
    ["a want of an unknown id", "upload-pack v2", () => v2(fetchArgs(randomOid()))],
    ["a want of an unknown id next to a good one", "upload-pack v0", () => v0(`want ${main} side-band-64k\n`, `want ${randomOid()}\n`)],
    ["a want of an unknown id next to a good one", "upload-pack v2", () => v2(fetchArgs(main, randomOid()))],
    ["a want of a commit no ref reaches", "upload-pack v0", () => v0(`want ${unreachable} side-band-64k ofs-delta\n`)],
    ["a want of a commit no ref reaches", "upload-pack v2", () => v2(fetchArgs(unreachable))],
    ["a want that is not an object id", "upload-pack v0", () => v0("want not-an-object-id side-band-64k\n")],
    ["a want that is not an object id", "upload-pack v2", () => v2(["want not-an-object-id\n", "done\n"])],
    ["an unadvertised capability on the want line", "upload-pack v0", () => v0(`want ${main} side-band-64k no-such-capability\n`)],
    ["filter, though the want line did not ask for the filter capability", "upload-pack v0", () => v0(`want ${main} side-band-64k\n`, "filter blob:none\n")],
    ["a filter spec that is not one", "upload-pack v0", () => v0(`want ${main} side-band-64k filter\n`, "filter no-such-filter:1\n")],
    ["a deepen that is not a number", "upload-pack v0", () => v0(`want ${main} side-band-64k shallow\n`, "deepen many\n")],
    ["an unadvertised capability line", "upload-pack v2", () => v2(fetchArgs(main), ["no-such-capability\n"])],
    ["an unknown command", "upload-pack v2", () => v2([], [], "no-such-command")],
    ["an unknown fetch argument", "upload-pack v2", () => v2([`want ${main}\n`, "no-such-argument\n", "done\n"])],
    ["a filter spec that is not one", "upload-pack v2", () => v2([`want ${main}\n`, "filter no-such-filter:1\n", "done\n"])],
    ["a deepen that is not a number", "upload-pack v2", () => v2([`want ${main}\n`, "deepen many\n", "done\n"])],
    ["a command line that does not parse", "receive-pack", () => cat(pktLine(`create refs/heads/hostile\0${CAPS}\n`), PKT_FLUSH, nextPack)],
    ["an unadvertised capability on the command line", "receive-pack", () => create(`${CAPS} no-such-capability`)],
    ["garbage after the flush", "upload-pack v0", () => cat(pktLine(`want ${main} side-band-64k\n`), PKT_FLUSH, junk)],
    ["garbage after the flush", "upload-pack v2", () => cat(v2(fetchArgs(main)), junk)],
    ["garbage after the flush of ls-refs", "upload-pack v2", () => cat(pktLine("command=ls-refs\n"), PKT_FLUSH, junk)],
    ["garbage after the flush, where the pack is due", "receive-pack", () => create(CAPS, junk)],
    [
      "garbage after a delete-only command list",
      "receive-pack",
      () => receivePackRequest([{ old: shared.before.get("refs/heads/keep")!, new: ZERO_OID, ref: "refs/heads/keep" }], CAPS, junk),
    ],
    ["garbage after an empty command list", "receive-pack", () => cat(PKT_FLUSH, junk)],
  ];
  for (const [what, service, body] of cases) {
    it(`${service}: ${what}`, async () => {
      const repo = await repoFor(service);
      expectRefusal(service, await post(repo, service, body()));
      await expectIntact(repo);
    });
  }
});

describe.concurrent("HTTP method, content type and service", () => {
  const cases: [string, (repo: Repo) => Promise<RawReply>][] = [
    ["an unknown service", (repo) => rawRequest(repo.origin, `${repo.path}/info/refs?service=git-foo`)],
    ["an empty service", (repo) => rawRequest(repo.origin, `${repo.path}/info/refs?service=`)],
    ["POST to info/refs", (repo) => rawRequest(repo.origin, `${repo.path}/info/refs?service=git-upload-pack`, { method: "POST", body: new Uint8Array(0) })],
    ["GET of git-upload-pack", (repo) => rawRequest(repo.origin, `${repo.path}/git-upload-pack`)],
    ["GET of git-receive-pack", (repo) => rawRequest(repo.origin, `${repo.path}/git-receive-pack`, { headers: basicAuth() })],
    [
      "PUT of git-receive-pack",
      (repo) => rawRequest(repo.origin, `${repo.path}/git-receive-pack`, { method: "PUT", headers: basicAuth(), body: goodRequest("receive-pack") }),
    ],
    ["POST to an unknown service", (repo) => post(repo, "upload-pack v0", goodRequest("upload-pack v0"), {}, `${repo.path}/x`)],
    ["upload-pack with Content-Type text/plain", (repo) => post(repo, "upload-pack v0", goodRequest("upload-pack v0"), { "content-type": "text/plain" })],
    ["receive-pack with Content-Type text/plain", (repo) => post(repo, "receive-pack", goodRequest("receive-pack"), { "content-type": "text/plain" })],
    [
      "receive-pack with upload-pack's Content-Type",
      (repo) => post(repo, "receive-pack", goodRequest("receive-pack"), { "content-type": "application/x-git-upload-pack-request" }),
    ],
    [
      "upload-pack with Content-Encoding gzip over a plain body",
      (repo) => post(repo, "upload-pack v0", goodRequest("upload-pack v0"), { "content-encoding": "gzip" }),
    ],
    [
      "receive-pack with Content-Encoding gzip over a plain body",
      (repo) => post(repo, "receive-pack", goodRequest("receive-pack"), { "content-encoding": "gzip" }),
    ],
    ["receive-pack with an unknown Content-Encoding", (repo) => post(repo, "receive-pack", goodRequest("receive-pack"), { "content-encoding": "br" })],
  ];
  for (const [what, send] of cases) {
    it(what, async () => {
      const repo = await freshRepo();
      const r = await send(repo);
      expect(r.status, describeReply(r)).toBeGreaterThanOrEqual(400);
      expect(r.status, describeReply(r)).toBeLessThan(500);
      await expectIntact(repo);
    });
  }
});

describe.concurrent("repository path tricks", () => {
  /** `{owner}` and `{name}` stand for the shared repo (known only once beforeAll ran). */
  const fill = (template: string) => {
    const [, owner, name] = /^\/([^/]+)\/([^/]+)\.git$/.exec(shared.path)!;
    return template.replaceAll("{owner}", owner!).replaceAll("{name}", name!);
  };
  const advert = (path: string) => rawRequest(shared.origin, `${path}/info/refs?service=git-upload-pack`);

  // Nothing may be served: once decoded, the segment is not a repo name.
  const refused = [
    "/{owner}/{name}%2fx.git",
    "/{owner}/x%2f..%2f{name}.git",
    "/{owner}%2f{name}.git",
    "/{owner}/..%5c{name}.git",
    "/{owner}/{name}%5c.git",
    "/{owner}/{name}%00.git",
    "/{owner}/%00.git",
    "/{owner}/...git",
    "/{owner}/%2e%2e.git",
    "/%2e%2e/{name}.git",
    "/../..",
  ];
  for (const template of refused) {
    it(`refuses ${template}`, async () => {
      const r = await advert(fill(template));
      expect(r.status, describeReply(r)).toBeGreaterThanOrEqual(400);
      expect(r.status, describeReply(r)).toBeLessThan(500);
      await expectIntact(shared);
    });
  }

  // Dot segments the runtime may resolve: a 4xx, or exactly the repo the resolved path names.
  const resolved = [
    "/{owner}/x/../{name}.git",
    "/{owner}/%2e%2e/{owner}/{name}.git",
    "/x/../{owner}/{name}.git",
    "/../{owner}/{name}.git",
    "/{owner}/./{name}.git",
    "/{owner}/{name}.git/x/..",
    "/{owner}/{name}.git/info/%2e%2e",
  ];
  for (const template of resolved) {
    it(`${template} is refused or serves {owner}/{name} itself`, async () => {
      const direct = await advert(shared.path);
      expect(direct.status).toBe(200);
      const r = await advert(fill(template));
      expect(r.status, describeReply(r)).toBeLessThan(500);
      if (r.status !== 200) expect(r.status, describeReply(r)).toBeGreaterThanOrEqual(400);
      else expect(r.text).toBe(direct.text);
      await expectIntact(shared);
    });
  }

  it("refuses a push through an encoded slash", async () => {
    const repo = await freshRepo();
    const [, owner, name] = /^\/([^/]+)\/([^/]+)\.git$/.exec(repo.path)!;
    expectPushRefusal(await post(repo, "receive-pack", goodRequest("receive-pack"), {}, `/${owner}/x%2f..%2f${name}.git`));
    await expectIntact(repo);
  });
});

describe.concurrent("packs", () => {
  /** Pushes `pack` as the pack of the one command that creates refs/heads/hostile at `next`. */
  const push = (repo: Repo, pack: Uint8Array) =>
    post(repo, "receive-pack", receivePackRequest([{ old: ZERO_OID, new: next, ref: "refs/heads/hostile" }], CAPS, pack));
  const blob = (s: string) => object(3, utf8(s));
  /** Where the next appended entry of nextPack starts. */
  const appendAt = () => nextPack.length - 20;

  const cases: Record<string, () => Uint8Array> = {
    "a header count one too high (valid trailer)": () => withEntries(nextPack, [], +1),
    "a header count one too low (valid trailer)": () => withEntries(nextPack, [], -1),
    "a header count of 2^32-1": () => setCount(nextPack, 0xffffffff),
    "a bad signature": () => withTrailer(cat(utf8("PACX"), nextPack.subarray(4, -20))),
    "an unknown version (4)": () => withTrailer(cat(nextPack.subarray(0, 4), u32(4), nextPack.subarray(8, -20))),
    "a bad trailer": () => cat(nextPack.subarray(0, -1), new Uint8Array([nextPack[nextPack.length - 1]! ^ 0x55])),
    "no trailer": () => nextPack.subarray(0, -20),
    "a pack cut off halfway": () => nextPack.subarray(0, nextPack.length >> 1),
    "a pack cut off inside its header": () => nextPack.subarray(0, 7),
    "bytes after the trailer": () => cat(nextPack, utf8("trailing junk")),
    "a zlib stream that inflates far past its declared size (a bomb)": () =>
      withEntries(nextPack, [entry(3, 100, deflateSync(new Uint8Array(10 << 20)))]),
    "a zlib stream one byte longer than its declared size": () => withEntries(nextPack, [entry(3, 10, deflateSync(utf8("elevenbytes")))]),
    "a zlib stream shorter than its declared size": () => withEntries(nextPack, [entry(3, 1000, deflateSync(utf8("short")))]),
    "an entry declaring 1 TiB": () => withEntries(nextPack, [entry(3, 2 ** 40, deflateSync(utf8("tiny")))]),
    "a stream that is not zlib": () => withEntries(nextPack, [entry(3, 16, randomBytes(64))]),
    "a zlib stream with a bad checksum": () => {
      const z = deflateSync(utf8("checksummed content\n"));
      z[z.length - 1]! ^= 0xff;
      return withEntries(nextPack, [entry(3, 20, z)]);
    },
    "an entry of reserved type 5": () => withEntries(nextPack, [entry(5, 4, deflateSync(utf8("five")))]),
    "an entry of type 0": () => withEntries(nextPack, [entry(0, 4, deflateSync(utf8("zero")))]),
    "a REF_DELTA whose base is missing": () => withEntries(nextPack, [refDelta(randomOid(), delta(5, 5, insert("hello")))]),
    "a REF_DELTA that is its own base": () => withEntries(nextPack, [refDelta(blobOid("ccc"), delta(3, 3, insert("ccc")))]),
    "two REF_DELTAs that are each other's base": () =>
      // Each result is the other's base: "aaa" from base "bbb", "bbb" from base "aaa".
      withEntries(nextPack, [refDelta(blobOid("bbb"), delta(3, 3, insert("aaa"))), refDelta(blobOid("aaa"), delta(3, 3, insert("bbb")))]),
    "an OFS_DELTA pointing before the pack's start": () => withEntries(nextPack, [ofsDelta(appendAt() + 100, delta(3, 3, insert("xyz")))]),
    "an OFS_DELTA pointing at itself": () => withEntries(nextPack, [ofsDelta(0, delta(3, 3, insert("xyz")))]),
    "an OFS_DELTA pointing into the middle of an entry": () => {
      const base = blob("a base blob that is long enough to point into\n");
      return withEntries(nextPack, [base, ofsDelta(base.length - 3, delta(3, 3, insert("xyz")))]);
    },
    "a delta that copies past its base's end": () => {
      const base = blob("abc");
      return withEntries(nextPack, [base, ofsDelta(base.length, delta(3, 100, copy(0, 100)))]);
    },
    "a delta whose result is shorter than it declares": () => {
      const base = blob("abc");
      return withEntries(nextPack, [base, ofsDelta(base.length, delta(3, 10, insert("xyz")))]);
    },
    "a delta whose base size is wrong": () => {
      const base = blob("abc");
      return withEntries(nextPack, [base, ofsDelta(base.length, delta(99, 3, insert("xyz")))]);
    },
    "a delta with a zero-length insert (reserved opcode 0)": () => {
      const base = blob("abc");
      return withEntries(nextPack, [base, ofsDelta(base.length, delta(3, 3, new Uint8Array([0]), copy(0, 3)))]);
    },
  };
  for (const [what, pack] of Object.entries(cases)) {
    it(`refuses ${what}`, async () => {
      const repo = await freshRepo();
      expectPushRefusal(await push(repo, pack()));
      await expectIntact(repo);
    });
  }

  it("refuses a push when the client hangs up halfway through the pack", async () => {
    const body = receivePackRequest([{ old: ZERO_OID, new: next, ref: "refs/heads/hostile" }], CAPS, nextPack);
    async function* halfThenHangUp() {
      yield body.subarray(0, body.length >> 1);
      await new Promise((r) => setTimeout(r, 200));
      throw new Error("hang up");
    }
    const repo = await freshRepo();
    const sent = rawRequest(repo.origin, `${repo.path}/git-receive-pack`, {
      method: "POST",
      headers: { "content-type": "application/x-git-receive-pack-request", ...basicAuth() },
      body: halfThenHangUp(),
    });
    await expect(sent).rejects.toThrow();
    await expectIntact(repo);
  });
});

describe.concurrent("objects", () => {
  const blobId = async (content: string) => (await git(src, ["hash-object", "-w", "--stdin"], { input: utf8(content) })).stdout.trim();
  const literal = async (type: string, body: Uint8Array) =>
    (await git(src, ["hash-object", "-t", type, "--literally", "-w", "--stdin"], { input: body })).stdout.trim();
  const tree = (entries: [mode: string, name: string, oid: string][]) =>
    literal("tree", cat(...entries.map(([mode, name, oid]) => cat(utf8(`${mode} ${name}\0`), Buffer.from(oid, "hex")))));
  const commitOn = async (treeId: string) => (await git(src, ["commit-tree", treeId, "-p", main, "-m", "hostile"])).stdout.trim();
  const who = "E2E Tester <e2e@example.com> 1700000000 +0000";
  const commitText = (head: string) => literal("commit", utf8(`${head}author ${who}\ncommitter ${who}\n\nhostile\n`));

  /** Pushes exactly `objects` (a pack of them alone) to `ref` at `tip`. */
  async function pushObjects(repo: Repo, tip: string, objects: string[], ref = "refs/heads/hostile"): Promise<RawReply> {
    const pack = (await git(src, ["pack-objects", "-q", "--stdout"], { input: utf8(objects.join("\n") + "\n") })).bytes;
    return post(repo, "receive-pack", receivePackRequest([{ old: ZERO_OID, new: tip, ref }], CAPS, pack));
  }
  /** A commit on main whose root tree has `entries`, pushed with everything it names that exists. */
  async function pushTree(repo: Repo, entries: [string, string, string][]): Promise<RawReply> {
    const t = await tree(entries);
    const c = await commitOn(t);
    return pushObjects(repo, c, [c, t, ...new Set(entries.map((e) => e[2]).filter((o) => o !== ghost))]);
  }
  let hello: string;
  let ghost: string;
  beforeAll(async () => {
    hello = await blobId("hello\n");
    ghost = randomOid();
  });

  const cases: Record<string, (repo: Repo) => Promise<RawReply>> = {
    "a tree entry with a bad mode (100666)": (repo) => pushTree(repo, [["100666", "file", hello]]),
    "a tree entry with a zero-padded mode (040000)": async (repo) => pushTree(repo, [["040000", "dir", await tree([["100644", "f", hello]])]]),
    "a tree entry named .git": async (repo) => pushTree(repo, [["40000", ".git", await tree([["100644", "config", hello]])]]),
    "a tree entry named .GIT": async (repo) => pushTree(repo, [["40000", ".GIT", await tree([["100644", "config", hello]])]]),
    "a tree entry named ..": async (repo) => pushTree(repo, [["40000", "..", await tree([["100644", "f", hello]])]]),
    "a tree entry named .": (repo) => pushTree(repo, [["100644", ".", hello]]),
    "a tree entry with an empty name": (repo) => pushTree(repo, [["100644", "", hello]]),
    "a tree entry whose name has a slash": (repo) => pushTree(repo, [["100644", "a/b", hello]]),
    "a tree with entries out of order": (repo) => pushTree(repo, [["100644", "b", hello], ["100644", "a", hello]]),
    "a tree with a duplicate entry": (repo) => pushTree(repo, [["100644", "a", hello], ["100644", "a", hello]]),
    "a tree naming a blob that does not exist": (repo) => pushTree(repo, [["100644", "ghost", ghost]]),
    "a nested tree entry named ..": async (repo) => pushTree(repo, [["40000", "sub", await tree([["100644", "..", hello]])]]),
    "a commit naming a tree that does not exist": async (repo) => {
      const c = await commitText(`tree ${randomOid()}\nparent ${main}\n`);
      return pushObjects(repo, c, [c]);
    },
    "a commit naming a parent that does not exist": async (repo) => {
      const c = await commitText(`tree ${await revParse(src, "main^{tree}")}\nparent ${randomOid()}\n`);
      return pushObjects(repo, c, [c]);
    },
    "a commit whose tree is a blob": async (repo) => {
      const c = await commitText(`tree ${hello}\nparent ${main}\n`);
      return pushObjects(repo, c, [c, hello]);
    },
    "a commit that does not parse": async (repo) => {
      const c = await literal("commit", utf8("this is not a commit\n"));
      return pushObjects(repo, c, [c]);
    },
    "a branch pointing at a blob": async (repo) => pushObjects(repo, hello, [hello]),
    "an annotated tag naming an object that does not exist": async (repo) => {
      const t = await literal("tag", utf8(`object ${randomOid()}\ntype commit\ntag hostile\ntagger ${who}\n\nhostile\n`));
      return pushObjects(repo, t, [t], "refs/tags/hostile");
    },
  };
  for (const [what, send] of Object.entries(cases)) {
    it(`refuses ${what}`, async () => {
      const repo = await freshRepo();
      expectPushRefusal(await send(repo));
      await expectIntact(repo);
    });
  }
});

describe.concurrent("ref names", () => {
  const names = [
    "refs/heads/a..b",
    "refs/heads/x.lock",
    "refs/heads/x.lock/y",
    "refs/heads/ctrl\x01char",
    "refs/heads/del\x7fchar",
    "refs/heads/tab\there",
    "refs/heads/with space",
    "refs/heads/HEAD",
    "refs/heads/a~1",
    "refs/heads/a^b",
    "refs/heads/a:b",
    "refs/heads/a?b",
    "refs/heads/a*b",
    "refs/heads/a[b",
    "refs/heads/a\\b",
    "refs/heads/.hidden",
    "refs/heads/trailing/",
    "refs/heads/a//b",
    "refs/heads/dot.",
    "refs/heads/a@{b",
    "refs/heads/",
    // Outside refs/:
    "HEAD",
    "foo",
    "refs",
    "refsx/heads/a",
  ];
  for (const ref of names) {
    it(`refuses a push to ${JSON.stringify(ref)}`, async () => {
      const cmd: Command = { old: ZERO_OID, new: next, ref };
      const repo = await freshRepo();
      expectPushRefusal(await post(repo, "receive-pack", receivePackRequest([cmd], CAPS, nextPack)));
      await expectIntact(repo);
    });
  }
});

// ---- pack bytes by hand ------------------------------------------------------------------------

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}

function withTrailer(body: Uint8Array): Uint8Array {
  return cat(body, createHash("sha1").update(body).digest());
}

function setCount(pack: Uint8Array, count: number): Uint8Array {
  return withTrailer(cat(pack.subarray(0, 8), u32(count), pack.subarray(12, -20)));
}

/** `pack` with `extra` entries appended, the header count adjusted by their number plus `lie`, and a valid trailer. */
function withEntries(pack: Uint8Array, extra: Uint8Array[], lie = 0): Uint8Array {
  const count = new DataView(pack.buffer, pack.byteOffset).getUint32(8);
  return withTrailer(cat(pack.subarray(0, 8), u32(count + extra.length + lie), pack.subarray(12, -20), ...extra));
}

/** An entry header (type and size, little-endian 7-bit groups) followed by `rest`. */
function entry(type: number, size: number, ...rest: Uint8Array[]): Uint8Array {
  const head = [(type << 4) | (size % 16)];
  for (let s = Math.floor(size / 16); s > 0; s = Math.floor(s / 128)) {
    head[head.length - 1]! |= 0x80;
    head.push(s % 128);
  }
  return cat(new Uint8Array(head), ...rest);
}

function object(type: number, data: Uint8Array): Uint8Array {
  return entry(type, data.length, deflateSync(data));
}

function refDelta(base: string, d: Uint8Array): Uint8Array {
  return entry(7, d.length, Buffer.from(base, "hex"), deflateSync(d));
}

/** An OFS_DELTA whose base starts `distance` bytes before this entry (git's offset encoding). */
function ofsDelta(distance: number, d: Uint8Array): Uint8Array {
  const ofs = [distance & 127];
  for (let n = distance >>> 7; n > 0; n >>>= 7) ofs.unshift(0x80 | (--n & 127));
  return entry(6, d.length, new Uint8Array(ofs), deflateSync(d));
}

function varint(n: number): number[] {
  const out = [n & 127];
  for (n >>>= 7; n > 0; n >>>= 7) {
    out[out.length - 1]! |= 0x80;
    out.push(n & 127);
  }
  return out;
}

function delta(baseSize: number, resultSize: number, ...ops: Uint8Array[]): Uint8Array {
  return cat(new Uint8Array([...varint(baseSize), ...varint(resultSize)]), ...ops);
}

function insert(s: string): Uint8Array {
  return cat(new Uint8Array([s.length]), utf8(s));
}

function copy(offset: number, size: number): Uint8Array {
  // All four offset bytes and the first two size bytes, present explicitly.
  return new Uint8Array([0x80 | 0x0f | 0x30, offset & 255, (offset >> 8) & 255, (offset >> 16) & 255, offset >>> 24, size & 255, (size >> 8) & 255]);
}

function blobOid(content: string): string {
  return createHash("sha1").update(`blob ${content.length}\0${content}`).digest("hex");
}
