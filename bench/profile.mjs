// `npm run bench -- --profile`: a CPU profile of the workerd process that runs
// Microchat, taken through its inspector (wrangler dev --inspector-port)
// during the steady load, summarised as where the single JavaScript thread
// that every object shares spends its time (per cent of busy samples). The Worker runs unminified then,
// so functions keep their names. The raw profile is written beside the
// results, for Chrome DevTools (Performance → Load profile).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import WebSocket from "ws";
import { root } from "./server.mjs";

/** Starts sampling the Worker's isolate behind inspector `port`; `stop()` answers the summary. */
export async function startProfile(port) {
  const targets = await (await fetch(`http://127.0.0.1:${port}/json`)).json();
  const ws = new WebSocket(targets[0].webSocketDebuggerUrl);
  await new Promise((resolve, reject) => (ws.once("open", resolve), ws.once("error", reject)));
  let id = 0;
  const waiting = new Map();
  ws.on("message", (data) => {
    const m = JSON.parse(String(data));
    waiting.get(m.id)?.(m);
    waiting.delete(m.id);
  });
  const call = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const n = ++id;
      const timer = setTimeout(() => reject(new Error(`${method}: no answer in 60 s`)), 60_000);
      waiting.set(n, (m) => (clearTimeout(timer), m.error ? reject(new Error(m.error.message)) : resolve(m.result)));
      ws.send(JSON.stringify({ id: n, method, params }));
    });
  await call("Profiler.enable");
  await call("Profiler.setSamplingInterval", { interval: 500 });
  await call("Runtime.enable");
  const heapAtStart = await call("Runtime.getHeapUsage");
  await call("Profiler.start");
  return {
    async stop(name) {
      const { profile } = await call("Profiler.stop");
      const heapAtEnd = await call("Runtime.getHeapUsage");
      ws.close();
      const file = join(root, "bench/results", `${name}.cpuprofile`);
      writeFileSync(file, JSON.stringify(profile));
      const mb = (bytes) => Math.round(bytes / 1e5) / 10;
      return {
        ...summarise(profile, file),
        // The isolate's JavaScript heap (all objects of the Worker share it): used / allocated, MB.
        heapMb: {
          start: { used: mb(heapAtStart.usedSize), total: mb(heapAtStart.totalSize) },
          end: { used: mb(heapAtEnd.usedSize), total: mb(heapAtEnd.totalSize) },
        },
      };
    },
  };
}

/**
 * Self and inclusive time per function, in per cent of the samples in which
 * the thread was busy (not idle). Samples are counted, not their time deltas:
 * a sampler that could not run for a while (a busy machine) would otherwise
 * charge the whole gap to whichever function it found next.
 */
export function summarise(profile, file) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const hits = new Map();
  for (const s of profile.samples) hits.set(s, (hits.get(s) ?? 0) + 1);
  const name = (n) => n.callFrame.functionName || "(anonymous)";
  const label = (n) => {
    const f = n.callFrame;
    return f.url ? `${name(n)} ${f.url.split("/").pop()}:${f.lineNumber + 1}` : name(n);
  };
  const self = new Map();
  const inclusive = new Map();
  let idle = 0;
  for (const [nodeId, count] of hits) {
    const n = nodes.get(nodeId);
    if (name(n) === "(idle)") {
      idle += count;
      continue;
    }
    self.set(label(n), (self.get(label(n)) ?? 0) + count);
    const seen = new Set();
    for (let x = nodeId; x !== undefined; x = parent.get(x)) {
      const fn = name(nodes.get(x));
      if (fn === "(root)" || seen.has(fn)) continue;
      seen.add(fn);
      inclusive.set(fn, (inclusive.get(fn) ?? 0) + count);
    }
  }
  const busy = profile.samples.length - idle;
  const pct = (count) => Math.round((1000 * count) / Math.max(1, busy)) / 10;
  const top = (map, k) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, k)
      .map(([fn, count]) => ({ fn, percent: pct(count) }));
  // Garbage collection stretches: consecutive samples in the collector, by wall time (a stretch holds up every
  // object on the thread; the longest ones are tail latency).
  const gc = [];
  let at = profile.startTime;
  let stretch = null;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i];
    if (name(nodes.get(profile.samples[i])) === "(garbage collector)") {
      stretch ??= { from: at, to: at };
      stretch.to = at;
    } else if (stretch) {
      gc.push((stretch.to - stretch.from) / 1000);
      stretch = null;
    }
  }
  gc.sort((a, b) => b - a);
  return {
    file: file.slice(root.length + 1),
    gcStretchesMs: { count: gc.length, longest: gc.slice(0, 5).map((ms) => Math.round(ms * 10) / 10) },
    seconds: Math.round((profile.endTime - profile.startTime) / 1e5) / 10,
    samples: profile.samples.length,
    busyPercent: Math.round((1000 * busy) / Math.max(1, profile.samples.length)) / 10,
    self: top(self, 30),
    inclusive: top(inclusive, 60),
  };
}
