/**
 * Only objects the refs reach are served. A branch holding a secret file is pushed, then deleted (or
 * forced back onto main); anonymous and read-token callers then name its commit, tree and blob every
 * way there is: revisions by full and abbreviated id, each read RPC, fetchPack wants, and raw v0 and
 * v2 upload-pack wants. Each must fail exactly as a nonexistent id of the same form fails, and no
 * reply may carry the secret. The same requests for reachable objects succeed, and a blob:none
 * partial clone checks out. A push whose pack carries an object nothing names does not make it
 * servable either.
 * Spec: gitprotocol-capabilities(5) "allow-reachable-sha1-in-want"; gitrevisions(7).
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { PKT_DELIM, PKT_FLUSH, pktLine } from "../../protocol/index.ts";
import { createToken } from "./admin-api.ts";
import {
  ZERO_OID, baseUrl, commitFile, git, lines, postReceivePack, repoNames, revParse, splitCredentials, tempDir, tinyRepo, uniqueRepoUrl,
} from "./git.ts";
import { errLine, rawRequest, type RawReply } from "./raw-http.ts";

const SECRET = "AWS_SECRET_ACCESS_KEY=reachability-test-4f1c9e\n";
const SECRET_B64 = Buffer.from(SECRET).toString("base64");

interface Ids {
  commit: string;
  tree: string;
  blob: string;
}

interface Repo {
  /** The repo's URL without credentials. */
  url: string;
  path: string;
  secret: Ids;
  /** main~1 (reachable, not a tip), its tree and file-1.txt's blob. */
  old: Ids;
  main: string;
  /** Every id in the source repo, so made-up ids surely miss. */
  all: string[];
}

type Caller = "anonymous" | "read token";
const callers: Caller[] = ["anonymous", "read token"];
let readToken: string;

beforeAll(async () => {
  readToken = (await createToken(baseUrl(), inject("adminToken"), { name: "reachability reader", scopes: ["read"] })).token;
});

function headersOf(caller: Caller): Record<string, string> {
  return caller === "anonymous" ? {} : { authorization: `Bearer ${readToken}` };
}

async function strandedRepo(how: "deleted" | "force-pushed"): Promise<Repo> {
  const src = await tinyRepo(2);
  await git(src, ["checkout", "-q", "-b", "secret"]);
  await commitFile(src, "secret.txt", SECRET);
  await git(src, ["checkout", "-q", "main"]);
  const withToken = uniqueRepoUrl(`reach-${how}`);
  await git(src, ["push", "-q", withToken, "main", "secret"]);
  if (how === "deleted") await git(src, ["push", "-q", withToken, ":refs/heads/secret"]);
  else await git(src, ["push", "-q", "-f", withToken, "main:refs/heads/secret"]);
  const url = splitCredentials(withToken).url;
  const all = lines((await git(src, ["cat-file", "--batch-all-objects", "--batch-check=%(objectname)"])).stdout);
  const ids = async (rev: string, file: string): Promise<Ids> => ({
    commit: await revParse(src, rev),
    tree: await revParse(src, `${rev}^{tree}`),
    blob: await revParse(src, `${rev}:${file}`),
  });
  const [secret, old, main] = [await ids("secret", "secret.txt"), await ids("main~1", "file-1.txt"), await revParse(src, "main")];
  return { url, path: new URL(url).pathname, secret, old, main, all };
}

/** A hex string of `length` that no object id of `repo` starts with. */
function missingId(repo: Repo, length = 40): string {
  for (;;) {
    const id = randomBytes(20).toString("hex").slice(0, length);
    if (!repo.all.some((o) => o.startsWith(id))) return id;
  }
}

function rpc(repo: Repo, caller: Caller, method: string, body: unknown): Promise<RawReply> {
  const rpcPath = `${repo.path.replace(/\.git$/, "")}/rpc/${method}`;
  const headers = { "content-type": "application/json", ...headersOf(caller) };
  return rawRequest(baseUrl(), rpcPath, { method: "POST", headers, body: new TextEncoder().encode(JSON.stringify(body)) });
}

function uploadPack(repo: Repo, caller: Caller, protocol: 0 | 2, want: string): Promise<RawReply> {
  const body =
    protocol === 0
      ? Buffer.concat([pktLine(`want ${want} side-band-64k ofs-delta\n`), PKT_FLUSH, pktLine("done\n")])
      : Buffer.concat([
          pktLine("command=fetch\n"), pktLine("object-format=sha1\n"), PKT_DELIM,
          pktLine(`want ${want}\n`), pktLine("ofs-delta\n"), pktLine("done\n"), PKT_FLUSH,
        ]);
  return rawRequest(baseUrl(), `${repo.path}/git-upload-pack`, {
    method: "POST",
    headers: {
      "content-type": "application/x-git-upload-pack-request",
      ...(protocol === 2 ? { "git-protocol": "version=2" } : {}),
      ...headersOf(caller),
    },
    body: new Uint8Array(body),
  });
}

function expectNoSecret(r: RawReply): void {
  expect(r.text).not.toContain(SECRET.trim());
  expect(r.text).not.toContain(SECRET_B64);
  expect(Buffer.from(r.body).includes(Buffer.from(SECRET))).toBe(false);
}

/** `got` (naming `real`) is answered as `missing` (naming `fake`): same status, same body but for the id. */
function expectLikeMissing(got: RawReply, missing: RawReply, real: string, fake: string): void {
  expectNoSecret(got);
  const show = (r: RawReply) => `HTTP ${r.status}: ${r.text.slice(0, 300)}`;
  expect(missing.status, show(missing)).toBeGreaterThanOrEqual(200);
  expect(got.status, show(got)).toBe(missing.status);
  const masked = (r: RawReply, id: string) => (id === "" ? r.text : r.text.replaceAll(id, "<id>"));
  expect(masked(got, real), show(got)).toBe(masked(missing, fake));
  if (got.status === 200) expect(errLine(got.body), show(got)).not.toBeNull(); // git's ERR line, not a pack
  else expect(got.status, show(got)).toBeLessThan(500);
}

const cursor = (frontier: string[]) => Buffer.from(JSON.stringify({ path: "", frontier })).toString("base64url");

describe.each(["deleted", "force-pushed"] as const)("a branch %s", (how) => {
  let repo: Repo;
  beforeAll(async () => {
    repo = await strandedRepo(how);
  });

  describe.each(callers)("%s", (caller) => {
    /** Each request for the secret's objects, as a function of the ids it names (real or made up). */
    const requests = (): [string, (s: Ids, short: (n: number) => string) => Promise<RawReply>, (s: Ids) => string][] => [
      ["resolve 4 hex", (_s, short) => rpc(repo, caller, "resolve", { rev: short(4) }), (s) => s.commit.slice(0, 4)],
      ["resolve 7 hex", (_s, short) => rpc(repo, caller, "resolve", { rev: short(7) }), (s) => s.commit.slice(0, 7)],
      ...(["commit", "tree", "blob"] as const).map((k): [string, (s: Ids) => Promise<RawReply>, (s: Ids) => string] => [
        `resolve the ${k}'s 40 hex`,
        (s) => rpc(repo, caller, "resolve", { rev: s[k] }),
        (s) => s[k],
      ]),
      ["resolve id~0", (s) => rpc(repo, caller, "resolve", { rev: `${s.commit}~0` }), (s) => s.commit],
      ["resolve id^{tree}", (s) => rpc(repo, caller, "resolve", { rev: `${s.commit}^{tree}` }), (s) => s.commit],
      ["resolve id:secret.txt", (s) => rpc(repo, caller, "resolve", { rev: `${s.commit}:secret.txt` }), (s) => s.commit],
      ["blob at the commit", (s) => rpc(repo, caller, "blob", { rev: s.commit, path: "secret.txt" }), (s) => s.commit],
      ["blob at the tree", (s) => rpc(repo, caller, "blob", { rev: s.tree, path: "secret.txt" }), (s) => s.tree],
      ["tree at the commit", (s) => rpc(repo, caller, "tree", { rev: s.commit }), (s) => s.commit],
      ["log from the commit", (s) => rpc(repo, caller, "log", { rev: s.commit }), (s) => s.commit],
      ["log with a forged cursor", (s) => rpc(repo, caller, "log", { cursor: cursor([s.commit]) }), () => ""],
      ["diff to the commit", (s) => rpc(repo, caller, "diff", { to: s.commit }), (s) => s.commit],
      ["diff from main to the commit", (s) => rpc(repo, caller, "diff", { from: repo.main, to: s.commit }), (s) => s.commit],
      ["grep at the commit", (s) => rpc(repo, caller, "grep", { rev: s.commit, pattern: "AWS" }), (s) => s.commit],
      ...(["commit", "tree", "blob"] as const).map((k): [string, (s: Ids) => Promise<RawReply>, (s: Ids) => string] => [
        `fetchPack wanting the ${k}`,
        (s) => rpc(repo, caller, "fetchPack", { wants: [s[k]] }),
        (s) => s[k],
      ]),
      ...([0, 2] as const).flatMap((v) =>
        (["commit", "tree", "blob"] as const).map((k): [string, (s: Ids) => Promise<RawReply>, (s: Ids) => string] => [
          `git v${v} want of the ${k}`,
          (s) => uploadPack(repo, caller, v, s[k]),
          (s) => s[k],
        ]),
      ),
    ];

    it.each(requests().map(([name], i) => [name, i] as const))("%s fails as for a nonexistent id", async (_, i) => {
      const [, send, named] = requests()[i]!;
      const fake: Ids = { commit: missingId(repo), tree: missingId(repo), blob: missingId(repo) };
      const fakeShort = (n: number) => missingId(repo, n);
      const got = await send(repo.secret, (n) => repo.secret.commit.slice(0, n));
      const realName = named(repo.secret);
      // A short prefix shared with a reachable object names that object instead: still no secret.
      const reachable = repo.all.filter((o) => !Object.values(repo.secret).includes(o));
      if (realName.length < 40 && realName.length > 0 && reachable.some((o) => o.startsWith(realName))) {
        expectNoSecret(got);
        expect(got.text).not.toContain(repo.secret.commit);
        return;
      }
      let fakeName = named(fake);
      const missing = await send(fake, (n) => (fakeName = fakeShort(n)));
      expectLikeMissing(got, missing, realName, fakeName);
    });

    it("the same requests for reachable objects succeed", async () => {
      const { old } = repo;
      const ok = async (r: Promise<RawReply>) => {
        const reply = await r;
        expect(reply.status, reply.text.slice(0, 300)).toBe(200);
        return reply;
      };
      const revs = [
        [old.commit, old.commit], [old.commit.slice(0, 7), old.commit], [`${old.commit}~0`, old.commit],
        [`${old.commit}^{tree}`, old.tree], [`${old.commit}:file-1.txt`, old.blob], [old.tree, old.tree], [old.blob, old.blob],
      ];
      for (const [rev, oid] of revs) expect(JSON.parse((await ok(rpc(repo, caller, "resolve", { rev }))).text).oid).toBe(oid);
      const blob = JSON.parse((await ok(rpc(repo, caller, "blob", { rev: old.commit, path: "file-1.txt" }))).text) as { content: string };
      expect(Buffer.from(blob.content, "base64").toString()).toBe("content 1\n");
      await ok(rpc(repo, caller, "tree", { rev: old.tree }));
      await ok(rpc(repo, caller, "log", { rev: old.commit }));
      await ok(rpc(repo, caller, "diff", { from: old.commit, to: repo.main }));
      await ok(rpc(repo, caller, "grep", { rev: old.commit, pattern: "content" }));
      for (const want of [old.commit, old.tree, old.blob]) {
        const pack = await ok(rpc(repo, caller, "fetchPack", { wants: [want] }));
        expect(Buffer.from(pack.body.subarray(0, 4)).toString()).toBe("PACK");
      }
      for (const v of [0, 2] as const)
        for (const want of [old.tree, old.blob]) {
          const r = await ok(uploadPack(repo, caller, v, want));
          expect(errLine(r.body)).toBeNull();
          expect(Buffer.from(r.body).includes(Buffer.from("PACK"))).toBe(true);
        }
    });

  });

  it("a blob:none partial clone checks out, fetching blobs lazily, and never gets the secret", async () => {
    const dir = join(tempDir(), "partial");
    await git(tempDir(), ["clone", "-q", "--filter=blob:none", repo.url, dir]);
    expect(readFileSync(join(dir, "file-1.txt"), "utf8")).toBe("content 1\n");
    await git(dir, ["checkout", "-q", repo.old.commit]);
    expect((await git(dir, ["cat-file", "-e", repo.secret.blob], { allowFail: true })).code).not.toBe(0);
    const fetched = await git(dir, ["fetch", "-q", "origin", repo.secret.commit], { allowFail: true });
    expect(fetched.code).not.toBe(0);
  });
});

describe("a pushed pack holding an object nothing names", () => {
  it("indexes it, but serves it to no one, and clones leave it out", async () => {
    const src = await tinyRepo(1);
    const orphan = (await git(src, ["hash-object", "-w", "--stdin"], { input: new TextEncoder().encode(SECRET) })).stdout.trim();
    const tip = await commitFile(src, "file-2.txt", "content 2\n");
    const listed = (await git(src, ["rev-list", "--objects", "main"])).stdout + `${orphan}\n`;
    const pack = (await git(src, ["pack-objects", "-q", "--stdout"], { input: new TextEncoder().encode(listed) })).bytes;
    const withToken = uniqueRepoUrl("reach-orphan");
    const pushed = await postReceivePack(withToken, [{ old: ZERO_OID, new: tip, ref: "refs/heads/main" }], pack);
    expect(pushed.report).toContain("ok refs/heads/main");
    const url = splitCredentials(withToken).url;
    const [owner, name] = repoNames(url);
    const none = { commit: "", tree: "", blob: "" };
    const repo: Repo = { url, path: `/${owner}/${name}.git`, secret: { ...none, blob: orphan }, old: none, main: tip, all: [orphan, tip] };
    for (const caller of callers) {
      const fake = missingId(repo);
      for (const v of [0, 2] as const)
        expectLikeMissing(await uploadPack(repo, caller, v, orphan), await uploadPack(repo, caller, v, fake), orphan, fake);
      const resolve = (rev: string) => rpc(repo, caller, "resolve", { rev });
      expectLikeMissing(await resolve(orphan), await resolve(fake), orphan, fake);
    }
    const mirror = join(tempDir(), "mirror");
    await git(tempDir(), ["clone", "-q", "--mirror", url, mirror]);
    expect((await git(mirror, ["cat-file", "-e", orphan], { allowFail: true })).code).not.toBe(0);
  });
});
