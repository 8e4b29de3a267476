// Samples the CPU of the Worker that `wrangler dev` runs (its isolate, actors included) while each
// command runs in turn (one inspector session: the proxy serves one client), through the DevTools inspector wrangler serves (`--inspector-port`; it wants an
// Origin header, and the runtime's own inspector takes one client, wrangler), and prints where the time went:
// each sample is put in the first category whose rule matches a frame of its stack, leaf first.
// Invariants:
// - Only each command's own span is sampled: profiling starts before it and stops after it exits.
// - Every sample lands in exactly one row; the rows add up to the sampled time.
//
//   node scripts/bench-profile.mjs WRANGLER_INSPECTOR_PORT -- COMMAND [ARGS...] [-- COMMAND [ARGS...]]...
//   env PROFILE_TOP=N also lists the N functions with the most self time
//   env PROFILE_HEAP=1 instead polls the isolate's memory (Runtime.getHeapUsage: the JS heap plus
//   ArrayBuffer backing stores, which hold every byte buffer) and prints the peaks; with it,
//   PROFILE_HEAP_SERIES=PREFIX also writes each command's samples to PREFIX.N.tsv (N: the first
//   unused, from 1; ms since the command started, JS heap used and total, buffers, and the RSS of
//   PROFILE_RSS_PID if set, in bytes): a floor that stays flat between GCs while peaks rise is
//   garbage, not retention, and PROFILE_HEAP_SNAPSHOT_AT=MS[,MS...] takes a heap snapshot that many ms into each
//   command (a full GC first, so its size is live data) to PREFIX.N.MS.heapsnapshot, for DevTools;
//   PROFILE_HEAP_GC_EVERY=MS asks for a full GC that often while a command runs, so what stays of
//   the peak is live data rather than garbage V8 had not collected yet
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";

const port = process.argv[2];
const commands = [];
for (const arg of process.argv.slice(3)) {
  if (arg === "--") commands.push([]);
  else commands.at(-1)?.push(arg);
}
if (!port || commands.length === 0 || commands.some((c) => c.length === 0)) {
  console.error("usage: bench-profile.mjs INSPECTOR_PORT -- COMMAND [ARGS...] [-- COMMAND [ARGS...]]...");
  process.exit(2);
}

/** Categories, tried in order against each frame from the leaf up; the first match wins. */
const RULES = [
  ["deflate (zlib)", (f) => /^(deflateSync|deflate|createDeflate|encodeWholeEntry)$/.test(f.functionName)],
  ["inflate (zlib)", (f) => /^(inflateSync|inflateEntry|inflateFromReader|zlibBufferSync|processChunkSync|inflate|inflateCodes|readDynamicCodes|buildHuffman|decodeSlow|copyStored|adler32)$/.test(f.functionName)],
  ["SHA-1 hashing", (f) => /^(update|digest|hashObject|sha1|createHash|sha1ObjectId|sha1Block|sha1Header|putBigEndian32)$/.test(f.functionName) || /ObjectHasher/.test(f.functionName)],
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

// undici's WebSocket takes headers as an extension; the proxy refuses an upgrade without Origin.
const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, /** @type {any} */ ({ headers: { Origin: "http://localhost" } }));
const keepAlive = setInterval(() => undefined, 1000); // an open WebSocket alone does not keep Node running
await new Promise((ok, fail) => {
  ws.onopen = ok;
  ws.onerror = fail;
});
let seq = 0;
const pending = new Map();
let snapshotChunks = [];
ws.onmessage = (m) => {
  const msg = JSON.parse(m.data);
  if (msg.method === "HeapProfiler.addHeapSnapshotChunk") snapshotChunks.push(msg.params.chunk);
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

if (process.env.PROFILE_HEAP === "1") {
  const seriesPrefix = process.env.PROFILE_HEAP_SERIES;
  const snapshotAt = (process.env.PROFILE_HEAP_SNAPSHOT_AT ?? "").split(",").filter(Boolean).map(Number);
  const rssPid = process.env.PROFILE_RSS_PID;
  const rss = () => {
    if (!rssPid) return "";
    try {
      return String(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${rssPid}/status`, "utf8"))?.[1] ?? 0) * 1024);
    } catch {
      return "";
    }
  };
  let n = 0;
  for (const cmd of commands) {
    n++;
    while (seriesPrefix && existsSync(`${seriesPrefix}.${n}.tsv`)) n++; // bench.sh runs one command per call
    const rows = ["ms\theap_used\theap_total\tbuffers\trss"];
    // Each command's peak starts from live data only. workerd never answers collectGarbage, so it
    // is sent without waiting; the next request is handled after it.
    ws.send(JSON.stringify({ id: ++seq, method: "HeapProfiler.collectGarbage", params: {} }));
    await send("Runtime.getHeapUsage");
    let peak = 0;
    let peakHeap = 0;
    let peakBuffers = 0;
    let polling = true;
    const t0 = performance.now();
    const snapshots = [...snapshotAt];
    const gcEvery = Number(process.env.PROFILE_HEAP_GC_EVERY ?? 0);
    let lastGc = 0;
    const poll = (async () => {
      while (polling) {
        const { usedSize, totalSize, backingStorageSize = 0 } = await send("Runtime.getHeapUsage");
        const ms = performance.now() - t0;
        if (gcEvery > 0 && ms - lastGc >= gcEvery) {
          lastGc = ms;
          ws.send(JSON.stringify({ id: ++seq, method: "HeapProfiler.collectGarbage", params: {} })); // never answered
        }
        if (seriesPrefix) rows.push(`${ms.toFixed(0)}\t${usedSize}\t${totalSize}\t${backingStorageSize}\t${rss()}`);
        if (seriesPrefix && snapshots.length && ms >= snapshots[0]) {
          const at = snapshots.shift();
          snapshotChunks = [];
          await send("HeapProfiler.takeHeapSnapshot", { reportProgress: false });
          const file = `${seriesPrefix}.${n}.${at}.heapsnapshot`;
          writeFileSync(file, snapshotChunks.join(""));
          snapshotChunks = [];
          console.error(`heap snapshot ${((performance.now() - t0) / 1000).toFixed(1)} s into the command: ${file}`);
        }
        peak = Math.max(peak, usedSize + backingStorageSize);
        peakHeap = Math.max(peakHeap, usedSize);
        peakBuffers = Math.max(peakBuffers, backingStorageSize);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const code = await new Promise((ok) => spawn(cmd[0], cmd.slice(1), { stdio: ["ignore", "inherit", "inherit"] }).on("exit", ok));
    polling = false;
    await poll;
    if (seriesPrefix) writeFileSync(`${seriesPrefix}.${n}.tsv`, rows.join("\n") + "\n");
    const mb = (n) => (n / 2 ** 20).toFixed(0);
    console.log(`${mb(peak)} MB peak (JS heap ${mb(peakHeap)}, buffers ${mb(peakBuffers)}): \`${cmd.map((a) => a.replace(/\/\/[^@/]*@/, "//")).join(" ")}\` (exit ${code})`);
  }
  process.exit(0);
}
await send("Profiler.enable");
await send("Profiler.setSamplingInterval", { interval: 250 });
for (const cmd of commands) {
  await send("Profiler.start");
  const t0 = performance.now();
  const code = await new Promise((ok) => spawn(cmd[0], cmd.slice(1), { stdio: ["ignore", "inherit", "inherit"] }).on("exit", ok));
  const wall = performance.now() - t0;
  const { profile } = await send("Profiler.stop");
  report(cmd, code, wall, profile);
}
ws.close();
clearInterval(keepAlive);
process.exit(0); // the closing socket would otherwise hold the process

function report(cmd, code, wall, profile) {
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
  const shown = cmd.map((a) => a.replace(/\/\/[^@/]*@/, "//")).join(" "); // no credentials in the output
  console.log(`\n\`${shown}\`: exit ${code}, ${wall.toFixed(0)} ms wall; ${total.toFixed(0)} ms sampled in the Worker isolate`);
  console.log("| where | ms | share |\n|---|---:|---:|");
  for (const [cat, ms] of [...byCategory].sort((a, b) => b[1] - a[1])) console.log(`| ${cat} | ${ms.toFixed(0)} | ${((100 * ms) / total).toFixed(1)}% |`);
  const top = Number(process.env.PROFILE_TOP ?? 0);
  if (top > 0) {
    console.log(`\ntop ${top} functions by self time:`);
    for (const [fn, ms] of [...selfTime].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${ms.toFixed(1).padStart(8)} ms  ${fn}`);
  }
}
