/**
 * The RPC over plain HTTP, as a curl user sees it: `POST /<owner>/<repo>/rpc/<method>` with a JSON
 * body, answered with plain JSON (or superjson on request), errors as `{ error }` with a 4xx status.
 * Invariants:
 * - The same methods and errors as over the WebSocket; bytes are base64 and dates ISO strings.
 * Spec: RFC 9110 (statuses); superjson's payload format.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { git, revParse, splitCredentials, tinyRepo, uniqueRepoUrl, writeToken } from "./git.ts";

let src: string;
let url: string;
let rpcBase: string;

beforeAll(async () => {
  src = await tinyRepo(3);
  url = uniqueRepoUrl("rpc-http");
  await git(src, ["push", "-q", url, "main"]);
  rpcBase = `${splitCredentials(url).url.replace(/\.git$/, "")}/rpc`;
});

/** A curl-style call with the write token as a Bearer token (the table below mixes reads and writes). */
function post(method: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${rpcBase}/${method}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${writeToken()}`, ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

describe("RPC over HTTP JSON", () => {
  it("answers plain JSON: refs, resolve, log with ISO dates, blob as base64", async () => {
    const refs = (await (await post("refs", {})).json()) as { refs: { name: string; oid: string }[] };
    expect(refs.refs).toEqual([{ name: "refs/heads/main", oid: await revParse(src, "main") }]);
    const res = await post("resolve", { rev: "main~2" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/application\/json/);
    expect(await res.json()).toEqual({ oid: await revParse(src, "main~2"), type: "commit" });
    const log = (await (await post("log", { limit: 1 })).json()) as { commits: { author: { date: string } }[] };
    expect(log.commits[0]!.author.date).toMatch(/^\d{4}-\d\d-\d\dT/);
    const blob = (await (await post("blob", { rev: "main", path: "file-2.txt" })).json()) as { content: string };
    expect(atob(blob.content)).toBe("content 2\n");
  });

  it("answers superjson when asked, and takes superjson input", async () => {
    const res = await post("blob", { rev: "main", path: "file-1.txt" }, { accept: "application/vnd.superjson+json" });
    const body = (await res.json()) as { json: { content: string }; meta: { values: Record<string, unknown> } };
    expect(atob(body.json.content)).toBe("content 1\n");
    expect(body.meta.values.content).toEqual([["custom", "bytes"]]);
    const main = await revParse(src, "main");
    const commit = await post(
      "commit",
      {
        json: { branch: "main", expectedParent: main, message: "bytes over http", author: { name: "Curl User", email: "c@example.com" }, changes: [{ path: "b.bin", content: btoa("\u0000\u0001\u00ff") }] },
        meta: { values: { "changes.0.content": [["custom", "bytes"]] } },
      },
      { "content-type": "application/vnd.superjson+json" },
    );
    expect(commit.status).toBe(200);
    const out = (await commit.json()) as { commit: string };
    await git(src, ["fetch", "-q", url, "main"]);
    expect(await revParse(src, "FETCH_HEAD")).toBe(out.commit);
    expect(new Uint8Array((await git(src, ["cat-file", "blob", "FETCH_HEAD:b.bin"])).bytes)).toEqual(new Uint8Array([0, 1, 255]));
  });

  it.each([
    ["resolve", { rev: "nope" }, 404, "rev-not-found"],
    ["resolve", { rev: 1 }, 400, "rpc-bad-input"],
    ["resolve", "{not json", 400, "rpc-bad-input"],
    ["tree", { rev: "main", path: "missing" }, 404, "path-not-found"],
    ["blob", { rev: "main", path: "file-1.txt", offset: 999 }, 416, "range-invalid"],
    ["grep", { pattern: "(" }, 400, "grep-pattern-invalid"],
    ["commit", { branch: "main", expectedParent: "0".repeat(39) + "1", message: "m", author: { name: "a", email: "b" }, changes: [{ path: "x", content: "x" }] }, 409, "ref-conflict"],
    ["deleteBranch", { name: "no-such" }, 404, "ref-not-found"],
    ["noSuchMethod", {}, 404, "rpc-unknown-method"],
    ["subscribe", { id: "x" }, 404, "rpc-unknown-method"],
  ] as [string, unknown, number, string][])("%s %j answers %i %s", async (method, body, status, code) => {
    const res = await post(method, body);
    expect(res.status).toBe(status);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(code);
  });

  it("a missing repository is 404, a GET is 405", async () => {
    const missing = await fetch(rpcBase.replace(/rpc-http-[0-9a-f]+/, "never-made") + "/refs", { method: "POST", body: "{}" });
    expect(missing.status).toBe(404);
    expect((await fetch(`${rpcBase}/refs`)).status).toBe(405);
  });
});
