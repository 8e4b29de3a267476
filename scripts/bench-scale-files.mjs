// Writes the files of `npm run bench -- --scale`: N files of seeded random bytes, 10 KB on average
// (2, 10 or 18 KB in turn), spread over nested directories, so 50,000 files make a ~500 MB pack that
// no compression or delta can shrink.
// Invariants:
// - Same N, same bytes: content is an AES-128-CTR keystream keyed by a fixed seed, one counter range per file.
//
//   node scripts/bench-scale-files.mjs OUTDIR N
import { createCipheriv, createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const [outdir, nArg] = process.argv.slice(2);
const n = Number(nArg);
if (!outdir || !Number.isInteger(n) || n < 1) {
  console.error("usage: bench-scale-files.mjs OUTDIR N");
  process.exit(2);
}
const key = createHash("sha256").update("edgegit-scale-v1").digest().subarray(0, 16);
const SIZES = [2048, 10240, 18432];
let bytes = 0;
for (let i = 1; i <= n; i++) {
  const dir = join(outdir, `d${i % 16}`, `e${i % 97}`);
  if (i <= 16 * 97) mkdirSync(dir, { recursive: true });
  const iv = Buffer.alloc(16);
  iv.writeUInt32BE(i, 0);
  const cipher = createCipheriv("aes-128-ctr", key, iv);
  const data = cipher.update(Buffer.alloc(SIZES[i % 3]));
  writeFileSync(join(dir, `f${i}.bin`), data);
  bytes += data.length;
}
console.log(JSON.stringify({ files: n, bytes }));
