/**
 * `git ls-remote` against a pushed history, with protocol v0 and v2.
 * Invariants:
 * - The advertisement is exactly the pushed refs, HEAD, and `^{}` lines for annotated tags.
 * - A v2 ref-prefix is applied by the server: it sends no ref outside the prefix.
 * Spec: gitprotocol-pack(5) "Reference Discovery"; gitprotocol-v2(5) "ls-refs".
 */
import { beforeAll, describe, expect, it } from "vitest";
import { expectedAdvertisement, git, historyRepo, lines, lsRemote, revParse, tempDir, uniqueRepoUrl } from "./git.ts";

describe("ls-remote", () => {
  let src: string;
  let url: string;
  let expected: Map<string, string>;

  beforeAll(async () => {
    src = await historyRepo();
    url = uniqueRepoUrl("ls-remote");
    await git(src, ["push", "-q", url, "refs/heads/*:refs/heads/*", "refs/tags/*:refs/tags/*"]);
    expected = await expectedAdvertisement(src);
  });

  for (const protocol of [0, 2] as const) {
    it(`v${protocol} lists exactly the pushed refs, HEAD and peeled tags`, async () => {
      const refs = await lsRemote(url, protocol);
      expect(refs).toEqual(expected);
      expect(refs.get("HEAD")).toBe(await revParse(src, "main"));
      expect(refs.get("refs/tags/v1.0^{}")).toBe(await revParse(src, "v1.0^{}"));
      expect(refs.get("refs/tags/v1.0")).not.toBe(refs.get("refs/tags/v1.0^{}"));
      expect(refs.has("refs/tags/v0.1^{}")).toBe(false);
    });

    it(`v${protocol} --symref shows HEAD pointing at main`, async () => {
      const out = (await git(tempDir(), ["ls-remote", "--symref", url, "HEAD"], { protocol })).stdout;
      expect(lines(out)).toEqual(["ref: refs/heads/main\tHEAD", `${expected.get("HEAD")}\tHEAD`]);
    });
  }

  for (const [flag, prefix] of [["--tags", "refs/tags/"], ["--heads", "refs/heads/"]] as const) {
    it(`v2 ${flag} sends ref-prefix ${prefix} and the server sends only those refs`, async () => {
      const r = await git(tempDir(), ["ls-remote", flag, url], { protocol: 2, env: { GIT_TRACE_PACKET: "1" } });
      expect(r.stderr).toContain(`ls-remote> ref-prefix ${prefix}`);
      // The client filters too, so the trace of what arrived is what shows the server's filtering.
      const sent = [...r.stderr.matchAll(/ls-remote< [0-9a-f]{40} (\S+)/g)].map((m) => m[1]);
      const want = [...expected].filter(([k]) => k.startsWith(prefix));
      expect(sent.sort()).toEqual(want.map(([k]) => k).filter((k) => !k.endsWith("^{}")).sort());
      expect(await lsRemote(url, 2, flag)).toEqual(new Map(want));
    });
  }

  it("v2 with a pattern lists only the matching refs", async () => {
    const refs = await lsRemote(url, 2, "--refs");
    const tags = await git(tempDir(), ["ls-remote", url, "refs/tags/*"], { protocol: 2 });
    const want = [...expected].filter(([k]) => k.startsWith("refs/tags/")).map(([k, v]) => `${v}\t${k}`);
    expect(lines(tags.stdout).sort()).toEqual(want.sort());
    // --refs drops HEAD and peeled lines: only real refs remain.
    expect([...refs.keys()].sort()).toEqual([...expected.keys()].filter((k) => k.startsWith("refs/") && !k.endsWith("^{}")).sort());
  });
});
