/**
 * The admin API: tokens are created, listed and revoked by an admin over every repo, and a repo's
 * visibility is set by an admin of that repo.
 * Invariants:
 * - A token's secret is in exactly one answer, the one that created it; no list shows a secret or a hash.
 * - No token is 401; a token without admin over every repo is 403; a bad request is 400 and creates nothing.
 * Spec: README "Auth"; actors/auth/admin-routes.ts.
 */
import { createHash, randomBytes } from "node:crypto";
import { join } from "node:path";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { adminCall, createToken, listTokens, postSettings, revokeToken, type TokenInfo } from "./admin-api.ts";
import { git, revParse, tempDir, tinyRepo, withToken } from "./git.ts";

// Always our own server, even when E2E_BASE_URL points the rest of the suite at another one.
const base = inject("baseUrl");
const admin = inject("adminToken");
const writeAll = inject("token");

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");
const INFO_KEYS = ["createdAt", "expiresAt", "id", "name", "repos", "revokedAt", "scopes"];

describe("tokens", () => {
  it("are created, listed without secret or hash, and revoked", async () => {
    const expiresAt = Date.now() + 3_600_000;
    const t0 = Date.now();
    const res = await adminCall(base, admin, "POST", "", { name: "listed", scopes: ["read", "write"], repos: ["alice/*", "bob/demo"], expiresAt });
    expect(res.status).toBe(201);
    const { token, info } = (await res.json()) as { token: string; info: TokenInfo };
    expect(token).toMatch(/^egt_[A-Za-z0-9_-]{43}$/);
    expect(info).toMatchObject({ name: "listed", scopes: ["read", "write"], repos: ["alice/*", "bob/demo"], expiresAt, revokedAt: null });
    expect(info.createdAt).toBeGreaterThanOrEqual(t0 - 60_000);
    expect(info.createdAt).toBeLessThanOrEqual(Date.now() + 60_000);
    expect(Object.keys(info).sort()).toEqual(INFO_KEYS);

    const listed = await adminCall(base, admin, "GET");
    expect(listed.status).toBe(200);
    const text = await listed.text();
    const { tokens } = JSON.parse(text) as { tokens: TokenInfo[] };
    expect(tokens.find((t) => t.id === info.id)).toEqual(info);
    for (const t of tokens) expect(Object.keys(t).sort()).toEqual(INFO_KEYS);
    for (const secret of [token, admin, writeAll]) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(sha256(secret));
    }

    const revoked = await adminCall(base, admin, "DELETE", `/${info.id}`);
    expect(revoked.status).toBe(200);
    expect(await revoked.json()).toEqual({ revoked: info.id });
    const after = (await listTokens(base, admin)).find((t) => t.id === info.id)!;
    expect(after.revokedAt).toBeGreaterThanOrEqual(info.createdAt);
    expect({ ...after, revokedAt: null }).toEqual(info);
    expect((await adminCall(base, admin, "DELETE", `/${info.id}`)).status).toBe(404); // already revoked
    expect((await adminCall(base, admin, "DELETE", `/${crypto.randomUUID()}`)).status).toBe(404);
  });

  it("an issued admin token over every repo manages tokens too; a revoked one no longer does", async () => {
    const { token, info } = await createToken(base, admin, { name: "second admin", scopes: ["admin"] });
    const made = await createToken(base, token, { name: "made by the second admin", scopes: ["read"] });
    expect((await listTokens(base, token)).map((t) => t.id)).toContain(made.info.id);
    await revokeToken(base, token, made.info.id);
    await revokeToken(base, admin, info.id);
    expect((await adminCall(base, token, "GET")).status).toBe(401);
  });
});

describe("who may call the admin API", () => {
  const calls = [
    ["GET", "", undefined],
    ["POST", "", { name: "should not exist", scopes: ["admin"] }],
    ["DELETE", "/some-id", undefined],
  ] as const;
  let tokens: Record<string, string>;

  beforeAll(async () => {
    const mint = async (name: string, scopes: ("read" | "write" | "admin")[], repos?: string[]) =>
      (await createToken(base, admin, { name, scopes, ...(repos ? { repos } : {}) })).token;
    tokens = {
      read: await mint("read over all", ["read"]),
      write: await mint("write over all", ["write"]),
      "admin over alice/*": await mint("admin over alice", ["admin"], ["alice/*"]),
    };
  });

  it("no token, or a bad one: 401", async () => {
    for (const [method, path, body] of calls) {
      for (const credential of [undefined, "egt_not-a-real-token", ""]) {
        const res = await adminCall(base, credential, method, path, body);
        expect(res.status, `${method} ${path} with ${JSON.stringify(credential)}`).toBe(401);
        expect(await res.text()).not.toContain("egt_not-a-real-token");
      }
    }
  });

  it("a read, write, or repo-limited admin token: 403, and nothing is created or revoked", async () => {
    const before = await listTokens(base, admin);
    for (const [what, token] of Object.entries(tokens)) {
      for (const [method, path, body] of calls) {
        const target = method === "DELETE" ? `/${before[0]!.id}` : path;
        expect((await adminCall(base, token, method, target, body)).status, `${method} with ${what}`).toBe(403);
      }
    }
    expect(await listTokens(base, admin)).toEqual(before);
  });

  it("bad requests are 400 and create nothing", async () => {
    const before = (await listTokens(base, admin)).length;
    const bad: unknown[] = [
      {},
      { scopes: ["read"] },
      { name: "", scopes: ["read"] },
      { name: "no scopes", scopes: [] },
      { name: "unknown scope", scopes: ["root"] },
      { name: "in the past", scopes: ["read"], expiresAt: Date.now() - 1_000 },
      { name: "bad pattern", scopes: ["read"], repos: ["alice"] },
      { name: "bad pattern", scopes: ["read"], repos: ["a/b/c"] },
      { name: "bad pattern", scopes: ["read"], repos: ["alice/"] },
    ];
    const statuses = new Map<string, number>();
    for (const body of bad) statuses.set(JSON.stringify(body), (await adminCall(base, admin, "POST", "", body)).status);
    expect(statuses).toEqual(new Map(bad.map((body) => [JSON.stringify(body), 400])));
    const notJson = await fetch(`${base}/admin/tokens`, { method: "POST", headers: { authorization: `Bearer ${admin}` }, body: "{not json" });
    expect(notJson.status).toBe(400);
    expect((await listTokens(base, admin)).length).toBe(before);
  });
});

describe("repo visibility", () => {
  const owner = `visibility-${randomBytes(4).toString("hex")}`;
  const url = `${base}/${owner}/repo.git`;
  let src: string;
  let mine: string;
  let theirs: string;
  let writer: string;

  beforeAll(async () => {
    src = await tinyRepo(2);
    await git(src, ["push", "-q", withToken(url, writeAll), "main"]);
    const mint = async (name: string, scopes: ("write" | "admin")[], repos: string[]) => (await createToken(base, admin, { name, scopes, repos })).token;
    mine = await mint("admin of the owner", ["admin"], [`${owner}/*`]);
    theirs = await mint("admin of another owner", ["admin"], [`${owner}-other/*`]);
    writer = await mint("writer of the owner", ["write"], [`${owner}/*`]);
  });

  const advertised = async (headers: Record<string, string> = {}) => (await fetch(`${url}/info/refs?service=git-upload-pack`, { headers })).status;
  const answer = async (res: Response) => ({ status: res.status, body: (await res.json()) as { visibility?: string; error?: { code: string } } });

  it("needs admin on that repo: 401 without a token, 403 for a writer or another owner's admin, 200 for its admin", async () => {
    expect((await answer(await postSettings(url, undefined, { visibility: "private" }))).status).toBe(401);
    expect(await answer(await postSettings(url, writer, { visibility: "private" }))).toMatchObject({ status: 403, body: { error: { code: "forbidden" } } });
    expect(await answer(await postSettings(url, theirs, { visibility: "private" }))).toMatchObject({ status: 403, body: { error: { code: "forbidden" } } });
    expect(await advertised()).toBe(200);

    expect(await answer(await postSettings(url, mine, { visibility: "private" }))).toEqual({ status: 200, body: { visibility: "private" } });
    expect(await advertised()).toBe(404);
    expect(await advertised({ authorization: `Bearer ${theirs}` })).toBe(404);
    expect(await advertised({ authorization: `Bearer ${writer}` })).toBe(200);
    // Once private, another owner's admin can't even see it.
    expect((await answer(await postSettings(url, theirs, { visibility: "public" }))).status).toBe(404);

    for (const body of [{ visibility: "secret" }, {}, "public"]) {
      expect(await answer(await postSettings(url, mine, body)), JSON.stringify(body)).toMatchObject({ status: 400, body: { error: { code: "bad-settings" } } });
    }
    expect(await advertised()).toBe(404);

    expect(await answer(await postSettings(url, admin, { visibility: "public" }))).toEqual({ status: 200, body: { visibility: "public" } });
    const dir = join(tempDir(), "public-again");
    await git(tempDir(), ["clone", "-q", url, dir]);
    expect(await revParse(dir, "HEAD")).toBe(await revParse(src, "main"));
  });

  it("of a repo that does not exist is 404", async () => {
    expect((await postSettings(`${base}/${owner}/never-made.git`, admin, { visibility: "private" })).status).toBe(404);
  });
});
