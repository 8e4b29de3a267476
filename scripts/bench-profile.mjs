// Samples the CPU of the Worker that `wrangler dev` runs (its isolate, actors included) while one
// command runs, through the user workerd's own DevTools inspector (wrangler's inspector proxy refuses
// scripted clients; `bench.sh --profile` finds the port), and prints where the time went:
// each sample is put in the first category whose rule matches a frame of its stack, leaf first.
// Invariants:
// - Only the command's own span is sampled: profiling starts before it and stops after it exits.
// - Every sample lands in exactly one row; the rows add up to the sampled time.
//
//   node scripts/bench-profile.mjs INSPECTOR_PORT -- COMMAND [ARGS...]
//   env PROFILE_TOP=N also lists the N functions with the most self time
import { spawn } from "node:child_process";

const sep = process.argv.indexOf("--");
const port = process.argv[2];
const cmd = process.argv.slice(sep + 1);
if (!port || sep < 0 || cmd.length === 0) {
  console.error("usage: bench-profile.mjs INSPECTOR_PORT -- COMMAND [ARGS...]");
  process.exit(2);
}

/** Categories, tried in order against each frame from the leaf up; the first match wins. */
const RULES = [
  ["deflate (zlib)", (f) => /^(deflateSync|deflate|createDeflate|encodeWholeEntry)$/.test(f.functionName)],
  ["inflate (zlib)", (f) => /^(inflateSync|inflateEntry|inflateFromReader|zlibBufferSync|processChunkSync)$/.test(f.functionName)],
  ["SHA-1 hashing", (f) => /^(update|digest|hashObject|sha1|createHash)$/.test(f.functionName) || /ObjectHasher/.test(f.functionName)],
  ["delta resolution (applyDelta)", (f) => /^(applyDelta|readDeltaSizes)$/.test(f.functionName)],
  ["SQLite", (f) => /^(exec|one|toArray|next|raw)$/.test(f.functionName) && /sql|storage/i.test(f.url + f.functionName) || /^(insertObjects|insertCommit|locateSync|allLocations|commitsSync|existing|transact|setPackState|insertGraph)$/.test(f.functionName)],
  ["R2 reads and uploads", (f) => /^(readRange|get|arrayBuffer|uploadPart|createMultipartUpload|complete|put)$/.test(f.functionName) && /r2|R2/.test(f.url + f.functionName)],
  ["object decoding (commit/tree/tag)", (f) => /^(decodeCommit|decodeTree|decodeTag|validateTree|referencedIds|decodeEntryHeader)$/.test(f.functionName)],
  ["pack copy and side-band framing", (f) => /^(writePack|emit|flush|sideBand|concatBytes|streamPack|windows)$/.test(f.functionName)],
  ["byte-stream plumbing", (f) => /^(fill|more|peek|consume|#append|pull|enqueue|read|write|fromReadableStream|toReadableStream|limitBytes)$/.test(f.functionName)],
  ["garbage collection", (f) => f.functionName === "(garbage collector)"],
  ["idle: waiting on I/O (network, R2, SQLite, RPC)", (f) => f.functionName === "(idle)"],
  ["runtime (program)", (f) => f.functionName === "(program)"],
];

const list = await (await fetch(`http://127.0.0.1:${port}/json`)).json();
const target = list.find((t) => t.id.startsWith("core:user:"));
if (!target) throw new Error(`no user worker among the inspector's targets: ${list.map((t) => t.id).join(", ")}`);
const ws = new WebSocket(target.webSocketDebuggerUrl);
const keepAlive = setInterval(() => undefined, 1000); // an open WebSocket alone does not keep Node running
await new Promise((ok, fail) => {
  ws.onopen = ok;
  ws.onerror = fail;
});
let seq = 0;
const pending = new Map();
ws.onmessage = (m) => {
  const msg = JSON.parse(m.data);
  if (msg.id && pending.has(msg.id)) {
    pending.get(msg.id)(msg);
    pending.delete(msg.id);
  }
};
const send = (method, params = {}) =>
  new Promise((ok, fail) => {
    const id = ++seq;
    pending.set(id, (msg) => (msg.error ? fail(new Error(`${method}: ${msg.error.message}`)) : ok(msg.result)));
    ws.send(JSON.stringify({ id, method, params }));
  });

await send("Profiler.enable");
await send("Profiler.setSamplingInterval", { interval: 250 });
await send("Profiler.start");
const t0 = performance.now();
const code = await new Promise((ok) => spawn(cmd[0], cmd.slice(1), { stdio: ["ignore", "inherit", "inherit"] }).on("exit", ok));
const wall = performance.now() - t0;
const { profile } = await send("Profiler.stop");
ws.close();
clearInterval(keepAlive);

const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const byCategory = new Map();
const selfTime = new Map();
let total = 0;
profile.samples.forEach((id, i) => {
  const dt = (profile.timeDeltas[i] ?? 0) / 1000;
  total += dt;
  const leaf = nodes.get(id).callFrame;
  const fn = `${leaf.functionName || "(anonymous)"} ${(leaf.url || "").split("/").pop()}:${leaf.lineNumber + 1}`;
  selfTime.set(fn, (selfTime.get(fn) ?? 0) + dt);
  let cat = "other JavaScript";
  for (let at = id; at !== undefined; at = parent.get(at)) {
    const f = nodes.get(at).callFrame;
    const hit = RULES.find(([, test]) => test(f));
    if (hit) {
      cat = hit[0];
      break;
    }
  }
  byCategory.set(cat, (byCategory.get(cat) ?? 0) + dt);
});

console.log(`command exit ${code}, ${wall.toFixed(0)} ms wall; ${total.toFixed(0)} ms sampled in the Worker isolate`);
console.log("| where | ms | share |\n|---|---:|---:|");
for (const [cat, ms] of [...byCategory].sort((a, b) => b[1] - a[1])) console.log(`| ${cat} | ${ms.toFixed(0)} | ${((100 * ms) / total).toFixed(1)}% |`);
const top = Number(process.env.PROFILE_TOP ?? 0);
if (top > 0) {
  console.log(`\ntop ${top} functions by self time:`);
  for (const [fn, ms] of [...selfTime].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${ms.toFixed(1).padStart(8)} ms  ${fn}`);
}
