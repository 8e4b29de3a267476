/**
 * Runs the real git CLI for end-to-end tests, isolated from the machine's config, plus the
 * few byte helpers a test needs to talk to receive-pack by hand.
 * Invariants:
 * - Every git run sees only our config: no system file, HOME is a temp dir, no prompts, C locale.
 * - Temp dirs made here are removed after the test file that made them.
 * - The server is `E2E_BASE_URL` when set (e.g. git's own http-backend), else the shared `wrangler dev`.
 * - Against our server, repo URLs carry the suite's write token as Basic credentials, as a user
 *   would paste them into git (`http://x:TOKEN@host/...`); against an external server, no token.
 * Spec: gitprotocol-http(5) "Smart Service git-receive-pack"; gitprotocol-common(5) "pkt-line Format";
 *       RFC 7617 (Basic).
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, expect, inject } from "vitest";

export type Protocol = 0 | 2;

export interface GitOptions {
  protocol?: Protocol;
  env?: Record<string, string>;
  input?: Uint8Array;
  allowFail?: boolean;
}

export interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
  bytes: Uint8Array;
}

const made: string[] = [];
afterAll(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "edgegit-e2e-"));
  made.push(dir);
  return dir;
}

const home = tempDir();
mkdirSync(join(home, ".config"));
writeFileSync(
  join(home, ".gitconfig"),
  [
    "[user]\n\tname = E2E Tester\n\temail = e2e@example.com",
    "[init]\n\tdefaultBranch = main",
    // An automatic gc would repack loose objects that fetch-pull counts.
    "[gc]\n\tauto = 0",
    "[advice]\n\tdetachedHead = false",
    "",
  ].join("\n"),
);

const ENV = {
  PATH: process.env.PATH ?? "/usr/bin:/bin",
  HOME: home,
  XDG_CONFIG_HOME: join(home, ".config"),
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_TERMINAL_PROMPT: "0",
  LC_ALL: "C",
};

export function baseUrl(): string {
  return process.env.E2E_BASE_URL ?? inject("baseUrl");
}

/** True when the suite runs against a server other than our own `wrangler dev`. */
export function externalServer(): boolean {
  return process.env.E2E_BASE_URL !== undefined;
}

/** The suite's `write` token over every repo; undefined against an external server. */
export function writeToken(): string | undefined {
  return externalServer() ? undefined : inject("token");
}

/** `url` with `token` as its Basic credentials (any user name, the token as password); `url` itself when there is no token. */
export function withToken(url: string, token: string | undefined = writeToken()): string {
  if (token === undefined) return url;
  const u = new URL(url);
  u.username = "x";
  u.password = token;
  return u.href;
}

/** The Authorization header for Basic credentials `x:token`; none without a token. */
export function basicAuth(token: string | undefined = writeToken()): Record<string, string> {
  return token === undefined ? {} : { authorization: `Basic ${Buffer.from(`x:${token}`).toString("base64")}` };
}

/**
 * For `fetch` and `node:http`, which take no credentials in a URL: the URL without them, and the
 * Authorization header that carries them (none if the URL had none).
 */
export function splitCredentials(url: string): { url: string; headers: Record<string, string> } {
  const u = new URL(url);
  if (!u.username && !u.password) return { url, headers: {} };
  const headers = { authorization: `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString("base64")}` };
  u.username = "";
  u.password = "";
  return { url: u.href, headers };
}

/** A new repo's URL under owner `e2e`, carrying the write token. */
export function uniqueRepoUrl(name: string): string {
  return withToken(`${baseUrl()}/e2e/${name}-${randomBytes(4).toString("hex")}.git`);
}

/** `[owner, repo]` of a repo URL (`/<owner>/<repo>.git`), credentials or not. */
export function repoNames(url: string): [string, string] {
  const [owner, repo] = new URL(url).pathname.slice(1).replace(/\.git$/, "").split("/");
  return [owner!, repo!];
}

/** Runs any program with the isolated git environment. */
function run(cwd: string, file: string, args: string[], opts: GitOptions = {}): Promise<GitResult> {
  return new Promise((ok, fail) => {
    const child = execFile(
      file,
      args,
      { cwd, env: { ...ENV, ...opts.env }, encoding: "buffer", maxBuffer: 256 << 20, timeout: 60_000 },
      (err, stdout, stderr) => {
        const result = { code: child.exitCode ?? -1, stdout: stdout.toString("utf8"), stderr: stderr.toString("utf8"), bytes: new Uint8Array(stdout) };
        if (err && !opts.allowFail) {
          fail(new Error(`${file} ${args.join(" ")} (in ${cwd}) failed: ${err.message}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`));
        } else ok(result);
      },
    );
    child.stdin!.on("error", () => {}); // git may exit before reading all input; its exit code tells
    child.stdin!.end(opts.input ?? new Uint8Array());
  });
}

export function git(cwd: string, args: string[], opts: GitOptions = {}): Promise<GitResult> {
  const proto = opts.protocol === undefined ? [] : ["-c", `protocol.version=${opts.protocol}`];
  return run(cwd, "git", [...proto, ...args], opts);
}

/** A new temp dir holding the repo built by test/fixtures/history.sh. */
export async function historyRepo(): Promise<string> {
  const dir = join(tempDir(), "history");
  await run(tmpdir(), "bash", [resolve(import.meta.dirname, "../fixtures/history.sh"), dir]);
  return dir;
}

/** A new temp repo with `n` commits on main, each adding one small file. */
export async function tinyRepo(n = 1): Promise<string> {
  const dir = tempDir();
  await git(dir, ["init", "-q"]);
  for (let i = 1; i <= n; i++) await commitFile(dir, `file-${i}.txt`, `content ${i}\n`);
  return dir;
}

/** Writes `path` (creating its folders), commits it, returns the new commit id. */
export async function commitFile(dir: string, path: string, content: string, message = `add ${path}`): Promise<string> {
  mkdirSync(join(dir, path, ".."), { recursive: true });
  writeFileSync(join(dir, path), content);
  await git(dir, ["add", path]);
  await git(dir, ["commit", "-q", "-m", message]);
  return revParse(dir, "HEAD");
}

export async function revParse(dir: string, rev: string): Promise<string> {
  return (await git(dir, ["rev-parse", "--verify", rev])).stdout.trim();
}

export function treeOf(dir: string, rev: string): Promise<string> {
  return revParse(dir, `${rev}^{tree}`);
}

/** Every ref of a local repo: refname -> object id. */
export async function refsOf(dir: string, ...patterns: string[]): Promise<Map<string, string>> {
  const out = (await git(dir, ["for-each-ref", "--format=%(objectname) %(refname)", ...patterns])).stdout;
  return new Map(lines(out).map((l) => l.split(" ")).map(([oid, ref]) => [ref, oid]));
}

/** What a server holding exactly `dir`'s branches and tags should advertise: HEAD, refs and peeled tags. */
export async function expectedAdvertisement(dir: string): Promise<Map<string, string>> {
  const fmt = "--format=%(objectname) %(refname) %(*objectname)";
  const out = (await git(dir, ["for-each-ref", fmt, "refs/heads", "refs/tags"])).stdout;
  const refs = new Map<string, string>([["HEAD", await revParse(dir, "refs/heads/main")]]);
  for (const [oid, ref, peeled] of lines(out).map((l) => l.split(" "))) {
    refs.set(ref, oid);
    if (peeled) refs.set(`${ref}^{}`, peeled);
  }
  return refs;
}

/** `git ls-remote` as refname -> oid (symref lines dropped). */
export async function lsRemote(url: string, protocol: Protocol, ...args: string[]): Promise<Map<string, string>> {
  const out = (await git(tmpdir(), ["ls-remote", ...args, url], { protocol })).stdout;
  return new Map(lines(out).filter((l) => !l.startsWith("ref: ")).map((l) => l.split("\t")).map(([oid, ref]) => [ref, oid]));
}

/** Loose objects in a repo, from `git count-objects -v`. */
export async function looseObjects(dir: string): Promise<number> {
  const out = (await git(dir, ["count-objects", "-v"])).stdout;
  return Number(/^count: (\d+)$/m.exec(out)![1]);
}

/** Asserts `git fsck --full --strict` reports nothing wrong. */
export async function fsck(dir: string): Promise<void> {
  const r = await git(dir, ["fsck", "--full", "--strict"], { allowFail: true });
  expect(r.stderr + r.stdout).toBe("");
  expect(r.code).toBe(0);
}

export function lines(text: string): string[] {
  return text.split("\n").filter((l) => l !== "");
}

const enc = new TextEncoder();

/** One pkt-line: four hex digits of total length, then the payload. */
function pktLine(payload: string | Uint8Array): Uint8Array {
  const body = typeof payload === "string" ? enc.encode(payload) : payload;
  return concat(enc.encode((body.length + 4).toString(16).padStart(4, "0")), body);
}

const FLUSH = enc.encode("0000");
export const ZERO_OID = "0".repeat(40);

function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Splits a pkt-line stream into payloads; a flush becomes null. */
function parsePktLines(bytes: Uint8Array): (Uint8Array | null)[] {
  const out: (Uint8Array | null)[] = [];
  for (let at = 0; at < bytes.length; ) {
    const len = parseInt(new TextDecoder().decode(bytes.subarray(at, at + 4)), 16);
    if (Number.isNaN(len) || (len > 0 && len < 4) || at + Math.max(len, 4) > bytes.length) {
      throw new Error(`bad pkt-line at ${at}: ${JSON.stringify(new TextDecoder().decode(bytes.subarray(at, at + 20)))}`);
    }
    out.push(len === 0 ? null : bytes.subarray(at + 4, at + len));
    at += Math.max(len, 4);
  }
  return out;
}

export interface ReceivePackCommand {
  old: string;
  new: string;
  ref: string;
}

/**
 * POSTs a hand-made receive-pack request and returns the HTTP status and the report-status lines
 * (band 1 unwrapped when the server used side-band-64k).
 */
export async function postReceivePack(
  repoUrl: string,
  commands: ReceivePackCommand[],
  pack: Uint8Array | undefined,
  capabilities = "report-status side-band-64k",
): Promise<{ status: number; report: string[] }> {
  const cmds = commands.map((c, i) => pktLine(`${c.old} ${c.new} ${c.ref}${i === 0 ? `\0${capabilities}` : ""}\n`));
  const { url, headers } = splitCredentials(repoUrl);
  const res = await fetch(`${url}/git-receive-pack`, {
    method: "POST",
    headers: { "Content-Type": "application/x-git-receive-pack-request", Accept: "application/x-git-receive-pack-result", ...headers },
    body: concat(...cmds, FLUSH, pack ?? new Uint8Array()),
  });
  const body = new Uint8Array(await res.arrayBuffer());
  if (!res.ok) return { status: res.status, report: [] };
  let inner: Uint8Array = body;
  if (capabilities.includes("side-band")) {
    inner = concat(...parsePktLines(body).filter((p): p is Uint8Array => p !== null && p[0] === 1).map((p) => p.subarray(1)));
  }
  const report = parsePktLines(inner).filter((p): p is Uint8Array => p !== null).map((p) => new TextDecoder().decode(p).replace(/\n$/, ""));
  return { status: res.status, report };
}

/** A pack of the objects in `revs` (rev-list syntax; none gives an empty pack), as `git pack-objects --stdout` writes it. */
export async function packOf(dir: string, ...revs: string[]): Promise<Uint8Array> {
  const objects = revs.length === 0 ? "" : (await git(dir, ["rev-list", "--objects", ...revs])).stdout;
  return (await git(dir, ["pack-objects", "-q", "--stdout"], { input: enc.encode(objects) })).bytes;
}
