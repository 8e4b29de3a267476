/**
 * Auth for git over HTTP, with the stock git client: who may push, clone and see a repo.
 * Invariants:
 * - A missing or bad credential where one is needed is a 401 with a Basic challenge (git then looks
 *   for credentials: none, or a bad one, and it gives up); a valid token without the scope is a 403.
 * - A private repo the caller may not read is a 404 that looks exactly like a repo that never existed.
 * - A refused push moves no ref and creates no repo.
 * Spec: README "Auth"; gitprotocol-http(5) "Authentication"; RFC 7617 (Basic); gitcredentials(7).
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { createToken, revokeToken, setVisibility, type NewToken } from "./admin-api.ts";
import { commitFile, fsck, git, lsRemote, packOf, postReceivePack, revParse, splitCredentials, tempDir, tinyRepo, withToken } from "./git.ts";

// Always our own server, even when E2E_BASE_URL points the rest of the suite at another one.
const base = inject("baseUrl");
const admin = inject("adminToken");
const writeAll = inject("token");

const mint = async (body: NewToken) => createToken(base, admin, body);
const owner = (who: string) => `${who}-${randomBytes(4).toString("hex")}`;
const repoUrl = (owner: string, name = "repo") => `${base}/${owner}/${name}.git`;
/** git options that send `token` up front, as the README says to for private repos. */
const bearer = (token: string) => ["-c", `http.extraHeader=Authorization: Bearer ${token}`];

/** A repo with main (2 commits), pushed with the suite's write token: its plain URL and its source. */
async function seeded(who: string, visibility: "public" | "private" = "public", name = "repo"): Promise<{ url: string; src: string }> {
  const src = await tinyRepo(2);
  const url = repoUrl(who, name);
  await git(src, ["push", "-q", withToken(url, writeAll), "main"]);
  if (visibility === "private") await setVisibility(url, admin, visibility);
  return { url, src };
}

/** GET info/refs of a service: status, body and challenge. */
async function advertise(url: string, service: "git-upload-pack" | "git-receive-pack", headers: Record<string, string> = {}) {
  const res = await fetch(`${url}/info/refs?service=${service}`, { headers });
  return { status: res.status, body: await res.text(), challenge: res.headers.get("www-authenticate") };
}

const AUTH_FAILED = /Authentication failed for 'http:\/\/127\.0\.0\.1:\d+\//;
const NOT_FOUND = /repository 'http:\/\/127\.0\.0\.1:\d+\/.*' not found/;
const FORBIDDEN = /The requested URL returned error: 403/;

describe("pushing needs a write token", () => {
  it("a push without a token fails asking for credentials, moves nothing and creates nothing; with the write token it lands", async () => {
    const { url, src } = await seeded(owner("anon"));
    const before = await lsRemote(url, 2);
    const next = await commitFile(src, "anonymous.txt", "pushed without a token\n");

    const r = await git(src, ["push", url, "main"], { allowFail: true });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/could not read Username for 'http:\/\/127\.0\.0\.1:\d+': terminal prompts disabled/);
    expect(await lsRemote(url, 2)).toEqual(before);
    expect(await advertise(url, "git-receive-pack")).toMatchObject({ status: 401, challenge: 'Basic realm="edgegit"' });

    // git stops at the advertisement; a receive-pack POST sent anyway is refused on its own.
    const raw = await postReceivePack(url, [{ old: before.get("refs/heads/main")!, new: next, ref: "refs/heads/main" }], await packOf(src, next, "^main~1"));
    expect(raw.status).toBe(401);
    expect(await lsRemote(url, 2)).toEqual(before);

    const fresh = repoUrl(owner("anon-new"));
    expect((await git(src, ["push", fresh, "main"], { allowFail: true })).code).not.toBe(0);
    expect((await advertise(fresh, "git-upload-pack")).status).toBe(404);

    await git(src, ["push", "-q", withToken(url, writeAll), "main"]);
    expect((await lsRemote(url, 2)).get("refs/heads/main")).toBe(next);
  });

  it("a read token clones but cannot push: 403, nothing moves", async () => {
    const who = owner("reader");
    const { url } = await seeded(who, "private");
    const { token: read } = await mint({ name: "reader", scopes: ["read"], repos: [`${who}/*`] });
    const dir = join(tempDir(), "clone");
    await git(tempDir(), [...bearer(read), "clone", "-q", url, dir]);
    await fsck(dir);
    const refs = await lsRemoteWith(read, url);
    expect(refs.get("refs/heads/main")).toBe(await revParse(dir, "HEAD"));

    await commitFile(dir, "reader.txt", "a reader tries to push\n");
    const r = await git(dir, [...bearer(read), "push", "origin", "main"], { allowFail: true });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(FORBIDDEN);
    const raw = await postReceivePack(withToken(url, read), [{ old: refs.get("refs/heads/main")!, new: await revParse(dir, "HEAD"), ref: "refs/heads/main" }], await packOf(dir, "HEAD", "^HEAD~1"));
    expect(raw.status).toBe(403);
    expect(await lsRemoteWith(read, url)).toEqual(refs);
  });

  it("a read token in the URL of a public repo: git answers the challenge, and gets a 403", async () => {
    const { url, src } = await seeded(owner("public-reader"));
    const { token: read } = await mint({ name: "public reader", scopes: ["read"] });
    const before = await lsRemote(url, 2);
    await commitFile(src, "reader.txt", "a reader tries to push\n");
    const r = await git(src, ["push", withToken(url, read), "main"], { allowFail: true });
    expect(r.stderr).toMatch(FORBIDDEN);
    expect(await lsRemote(url, 2)).toEqual(before);
    const { headers } = splitCredentials(withToken(url, read));
    expect((await advertise(url, "git-receive-pack", headers)).status).toBe(403);
  });
});

describe("repo patterns", () => {
  it("a token for alice/* pushes to alice's repos only: 403 on bob's public repo, 404 on bob's private or missing one", async () => {
    const alice = owner("alice");
    const bob = owner("bob");
    const { token } = await mint({ name: "alice's", scopes: ["write"], repos: [`${alice}/*`] });
    const src = await tinyRepo(2);

    await git(src, ["push", "-q", withToken(repoUrl(alice, "one"), token), "main"]);
    expect((await lsRemote(repoUrl(alice, "one"), 2)).get("refs/heads/main")).toBe(await revParse(src, "main"));

    const pub = await seeded(bob);
    const pubBefore = await lsRemote(pub.url, 2);
    await commitFile(pub.src, "from-alice.txt", "alice writes to bob's repo\n");
    const refused = await git(pub.src, ["push", withToken(pub.url, token), "main"], { allowFail: true });
    expect(refused.stderr).toMatch(FORBIDDEN);
    expect(await lsRemote(pub.url, 2)).toEqual(pubBefore);

    const hidden = await seeded(bob, "private", "hidden");
    const clone = await git(tempDir(), [...bearer(token), "clone", hidden.url, join(tempDir(), "c")], { allowFail: true });
    expect(clone.stderr).toMatch(NOT_FOUND);
    await commitFile(hidden.src, "from-alice.txt", "alice writes to bob's private repo\n");
    const push = await git(hidden.src, [...bearer(token), "push", hidden.url, "main"], { allowFail: true });
    expect(push.stderr).toMatch(NOT_FOUND);
    expect((await advertise(hidden.url, "git-receive-pack", { authorization: `Bearer ${token}` })).status).toBe(404);

    // A new repo under bob, or under an owner whose name merely starts with alice's, is not created;
    // and the refusal is the 404 of bob's private repo, so the token cannot tell missing from private.
    for (const target of [repoUrl(bob, "new"), repoUrl(`${alice}x`, "one")]) {
      const r = await git(src, ["push", withToken(target, token), "main"], { allowFail: true });
      expect(r.stderr, target).toMatch(NOT_FOUND);
      expect((await advertise(target, "git-upload-pack")).status, target).toBe(404);
    }
  });
});

describe("expired and revoked tokens", () => {
  it("a token past its expiry is refused with 401", async () => {
    const { url, src } = await seeded(owner("expiry"));
    const expiresAt = Date.now() + 5_000;
    const { token } = await mint({ name: "short-lived", scopes: ["write"], expiresAt });
    const first = await commitFile(src, "before-expiry.txt", "in time\n");
    await git(src, ["push", "-q", withToken(url, token), "main"]);
    expect((await lsRemote(url, 2)).get("refs/heads/main")).toBe(first);

    await new Promise((r) => setTimeout(r, Math.max(0, expiresAt - Date.now()) + 1_000));
    await commitFile(src, "after-expiry.txt", "too late\n");
    const r = await git(src, ["push", withToken(url, token), "main"], { allowFail: true });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(AUTH_FAILED);
    expect((await lsRemote(url, 2)).get("refs/heads/main")).toBe(first);
    const { headers } = splitCredentials(withToken(url, token));
    expect(await advertise(url, "git-receive-pack", headers)).toMatchObject({ status: 401, challenge: 'Basic realm="edgegit"' });
  });

  it("a revoked token is refused with 401", async () => {
    const { url, src } = await seeded(owner("revoked"));
    const { token, info } = await mint({ name: "to be revoked", scopes: ["write"] });
    const first = await commitFile(src, "before-revoke.txt", "allowed\n");
    await git(src, ["push", "-q", withToken(url, token), "main"]);
    await revokeToken(base, admin, info.id);
    await commitFile(src, "after-revoke.txt", "refused\n");
    const r = await git(src, ["push", withToken(url, token), "main"], { allowFail: true });
    expect(r.stderr).toMatch(AUTH_FAILED);
    expect((await lsRemote(url, 2)).get("refs/heads/main")).toBe(first);
    expect((await advertise(url, "git-upload-pack", { authorization: `Bearer ${token}` })).status).toBe(401);
  });
});

describe("private repos", () => {
  it("are 404 without a token and with another owner's token, exactly like a missing repo; a read token clones", async () => {
    const who = owner("private");
    const { url, src } = await seeded(who, "private");
    const missing = repoUrl(who, "never-made");
    const { token: other } = await mint({ name: "someone else's", scopes: ["admin"], repos: [`${owner("other")}/*`] });
    const { token: read } = await mint({ name: "private reader", scopes: ["read"], repos: [`${who}/repo`] });

    for (const [who, headers] of [["anonymous", {}], ["another owner's token", { authorization: `Bearer ${other}` }]] as const) {
      const hidden = await advertise(url, "git-upload-pack", headers);
      expect(hidden.status, who).toBe(404);
      expect(hidden, who).toEqual(await advertise(missing, "git-upload-pack", headers));
    }
    // An anonymous push is challenged (401) whether the repo is private, missing or public.
    expect(await advertise(url, "git-receive-pack")).toEqual(await advertise(missing, "git-receive-pack"));
    const anon = await git(tempDir(), ["clone", url, join(tempDir(), "anon")], { allowFail: true });
    expect(anon.stderr).toMatch(NOT_FOUND);
    const wrong = await git(tempDir(), [...bearer(other), "clone", url, join(tempDir(), "wrong")], { allowFail: true });
    expect(wrong.stderr).toMatch(NOT_FOUND);

    const dir = join(tempDir(), "read");
    await git(tempDir(), [...bearer(read), "clone", "-q", url, dir]);
    await fsck(dir);
    expect(await revParse(dir, "HEAD")).toBe(await revParse(src, "main"));
    // Basic credentials sent up front work the same way.
    const basic = Buffer.from(`anyone:${read}`).toString("base64");
    const viaBasic = await git(tempDir(), ["-c", `http.extraHeader=Authorization: Basic ${basic}`, "ls-remote", url], { protocol: 2 });
    expect(viaBasic.stdout).toContain(`${await revParse(src, "main")}\trefs/heads/main`);
  });
});

describe("a token in the URL", () => {
  it("works with stock git: clone, commit, push back through origin; a bad one fails the push", async () => {
    const who = owner("url");
    const { token } = await mint({ name: "in the url", scopes: ["write"], repos: [`${who}/*`] });
    const src = await tinyRepo(1);
    const url = withToken(repoUrl(who), token);
    await git(src, ["push", "-q", url, "main"]); // creates the repo: git answered the challenge from the URL
    const dir = join(tempDir(), "clone");
    await git(tempDir(), ["clone", "-q", url, dir]);
    const tip = await commitFile(dir, "via-origin.txt", "pushed through origin\n");
    await git(dir, ["push", "-q", "origin", "main"]);
    expect((await lsRemote(repoUrl(who), 2)).get("refs/heads/main")).toBe(tip);

    const bad = join(tempDir(), "bad");
    await git(tempDir(), ["clone", "-q", withToken(repoUrl(who), `${token}x`), bad]); // public: a clone needs no token
    await commitFile(bad, "bad-token.txt", "never lands\n");
    const r = await git(bad, ["push", "origin", "main"], { allowFail: true });
    expect(r.stderr).toMatch(AUTH_FAILED);
    expect((await lsRemote(repoUrl(who), 2)).get("refs/heads/main")).toBe(tip);
  });
});

/** ls-remote of a private repo, with `token` sent up front. */
async function lsRemoteWith(token: string, url: string): Promise<Map<string, string>> {
  const out = (await git(tempDir(), [...bearer(token), "ls-remote", url], { protocol: 2 })).stdout;
  return new Map(out.split("\n").filter((l) => l && !l.startsWith("ref: ")).map((l) => l.split("\t")).map(([oid, ref]) => [ref!, oid!]));
}
