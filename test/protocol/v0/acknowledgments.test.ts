import { describe, expect, it } from "vitest";
import type { Oid } from "../../../engine/index.ts";
import { writeAck, writeNak } from "../../../protocol/v0/acknowledgments.ts";
import { asLatin1 } from "../helpers.ts";

describe("v0 acknowledgments", () => {
  it("writes the ACK and NAK lines git's upload-pack sent (captured)", () => {
    const a = "e8c7d272864c8e6fd8e09f7a7bb7e50e719def1b" as Oid;
    const b = "00bbb2adccbd892979d7c227e10f604dead36f5a" as Oid;
    expect(asLatin1([writeAck(a, "common"), writeAck(b, "common"), writeAck(b)])).toBe(
      `0038ACK ${a} common\n0038ACK ${b} common\n0031ACK ${b}\n`,
    );
    expect(asLatin1(writeNak())).toBe("0008NAK\n");
  });

  it("writes the ready and continue statuses", () => {
    const a = "0123456789abcdef0123456789abcdef01234567" as Oid;
    expect(asLatin1(writeAck(a, "ready"))).toBe(`0037ACK ${a} ready\n`);
    expect(asLatin1(writeAck(a, "continue"))).toBe(`003aACK ${a} continue\n`);
  });
});
