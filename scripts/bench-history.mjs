// Writes a git fast-import stream of a deterministic history to stdout, for scripts/gen-history.sh.
// Invariants:
// - Same arguments, same bytes: content comes from a seeded xorshift generator and every commit has
//   a fixed date, so the object ids never change between runs or machines.
// - Every commit edits a few lines of files that already exist (plus an occasional new file), so a
//   repack stores most blob versions as deltas of their neighbours, as in a real code base.
// Spec: git-fast-import(1) "Input Format".
//
//   node scripts/bench-history.mjs [COMMITS] [FILES]      (defaults 2000 and 150)
const commits = Number(process.argv[2] ?? 2000);
const nFiles = Number(process.argv[3] ?? 150);
if (!Number.isInteger(commits) || commits < 1 || !Number.isInteger(nFiles) || nFiles < 1) {
  console.error("usage: bench-history.mjs [COMMITS] [FILES]");
  process.exit(2);
}

let seed = 0x2545f491;
const rand = (n) => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) % n;
};
const WORDS = ("alpha beta gamma delta object pack tree blob commit index offset window budget stream frame slot " +
  "actor worker reader writer cache header trailer inflate deflate hash ref push fetch clone merge base").split(" ");
const sentence = () => Array.from({ length: 4 + rand(9) }, () => WORDS[rand(WORDS.length)]).join(" ");
const codeLine = (depth) => `${"  ".repeat(depth)}${["const", "let", "return", "if", "// note:"][rand(5)]} ${sentence()};`;

const DIRS = ["src", "src/engine", "src/engine/pack", "src/protocol", "src/actors", "docs", "test", "test/fixtures", "scripts", "lib/util"];
const files = new Map(); // path -> lines
const newFile = (i) => {
  const dir = DIRS[i % DIRS.length];
  const ext = dir.startsWith("docs") ? "md" : "ts";
  const lines = Array.from({ length: 60 + rand(240) }, () => codeLine(rand(4)));
  files.set(`${dir}/file-${String(i).padStart(4, "0")}.${ext}`, lines);
};
for (let i = 0; i < nFiles; i++) newFile(i);

const out = [];
const enc = (s) => Buffer.from(s, "utf8");
const emitFile = (path, lines) => {
  const data = enc(lines.join("\n") + "\n");
  out.push(enc(`M 100644 inline ${path}\ndata ${data.length}\n`), data, enc("\n"));
};
const commit = (i, message, paths) => {
  const msg = enc(message + "\n");
  out.push(enc(`commit refs/heads/main\nmark :${i}\nauthor Dev ${i % 7} <dev${i % 7}@example.invalid> ${1_700_000_000 + i * 3600} +0000\n`));
  out.push(enc(`committer Dev ${i % 7} <dev${i % 7}@example.invalid> ${1_700_000_000 + i * 3600} +0000\ndata ${msg.length}\n`), msg);
  if (i > 1) out.push(enc(`from :${i - 1}\n`));
  for (const p of paths) emitFile(p, files.get(p));
  out.push(enc("\n"));
  if (out.length > 4096) process.stdout.write(Buffer.concat(out.splice(0)));
};

commit(1, "initial import", [...files.keys()]);
let next = nFiles;
for (let i = 2; i <= commits; i++) {
  const paths = [...files.keys()];
  const touched = new Set();
  for (let k = 1 + rand(3); k > 0; k--) {
    const p = paths[rand(paths.length)];
    const lines = files.get(p);
    for (let e = 1 + rand(4); e > 0; e--) {
      const at = rand(lines.length);
      const op = rand(10);
      if (op < 6) lines[at] = codeLine(rand(4));
      else if (op < 9) lines.splice(at, 0, codeLine(rand(4)));
      else if (lines.length > 20) lines.splice(at, 1);
    }
    touched.add(p);
  }
  if (i % 40 === 0) {
    newFile(next);
    touched.add([...files.keys()].at(-1));
    next++;
  }
  commit(i, `change ${i}: ${sentence()}`, [...touched]);
}
process.stdout.write(Buffer.concat(out));
