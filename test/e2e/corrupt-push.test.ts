/**
 * Hand-made receive-pack requests carrying damaged packs.
 * Invariants:
 * - A damaged pack is reported (`unpack <error>`, or a 4xx) and moves no ref.
 * - The repo stays whole: a clone afterwards fscks clean and lacks the rejected commit.
 * Spec: gitprotocol-pack(5) "Report Status"; gitformat-pack(5) (trailer checksum).
 */
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { commitFile, fsck, git, lsRemote, packOf, postReceivePack, tempDir, tinyRepo, uniqueRepoUrl, ZERO_OID } from "./git.ts";

describe("corrupt pushes", () => {
  let src: string;
  let tip: string;
  let pack: Uint8Array;

  beforeAll(async () => {
    src = await tinyRepo(3);
    tip = await commitFile(src, "dir/new.txt", "this commit only travels in a hand-made pack\n".repeat(20));
    pack = await packOf(src, tip, "^HEAD~1");
  });

  /** A fresh repo holding main without `tip`; returns its URL and advertisement. */
  async function serverRepo(name: string): Promise<{ url: string; before: Map<string, string> }> {
    const url = uniqueRepoUrl(name);
    await git(src, ["push", "-q", url, "HEAD~1:refs/heads/main"]);
    return { url, before: await lsRemote(url, 2) };
  }

  const damages: Record<string, (p: Uint8Array) => Uint8Array> = {
    "a flipped byte": (p) => {
      const bad = p.slice();
      bad[Math.floor(bad.length / 2)] ^= 0xff;
      return bad;
    },
    "a flipped trailer byte": (p) => {
      const bad = p.slice();
      bad[bad.length - 1] ^= 0x01;
      return bad;
    },
    "a truncated pack": (p) => p.slice(0, p.length - 30),
    "an object count one too high": (p) => {
      const bad = p.slice();
      new DataView(bad.buffer).setUint32(8, new DataView(p.buffer, p.byteOffset).getUint32(8) + 1);
      return bad;
    },
  };

  for (const [what, damage] of Object.entries(damages)) {
    it(`rejects ${what} and changes nothing`, async () => {
      const { url, before } = await serverRepo("corrupt");
      const { status, report } = await postReceivePack(url, [{ old: ZERO_OID, new: tip, ref: "refs/heads/bad" }], damage(pack));
      if (status === 200) {
        expect(report[0]).toMatch(/^unpack /);
        expect(report[0]).not.toBe("unpack ok");
        expect(report.some((l) => l.startsWith("ok "))).toBe(false);
      } else {
        expect(status).toBeGreaterThanOrEqual(400);
        expect(status).toBeLessThan(500);
      }
      expect(await lsRemote(url, 2)).toEqual(before);

      const clone = join(tempDir(), "clone");
      await git(tempDir(), ["clone", "-q", url, clone]);
      await fsck(clone);
      expect((await git(clone, ["cat-file", "-e", tip], { allowFail: true })).code).not.toBe(0);
    });
  }

  it("accepts the same request with the intact pack (the request itself is well formed)", async () => {
    const { url, before } = await serverRepo("intact");
    const { status, report } = await postReceivePack(url, [{ old: ZERO_OID, new: tip, ref: "refs/heads/bad" }], pack);
    expect(status).toBe(200);
    expect(report).toEqual(["unpack ok", "ok refs/heads/bad"]);
    expect(await lsRemote(url, 2)).toEqual(new Map([...before, ["refs/heads/bad", tip]]));
  });
});
