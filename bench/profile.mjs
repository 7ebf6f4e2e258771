// `npm run bench -- --profile`: a CPU profile of the workerd process that runs
// Microchat, taken through its inspector (wrangler dev --inspector-port)
// during the steady load, summarised as where the single JavaScript thread
// that every object shares spends its time. The Worker runs unminified then,
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
  await call("Profiler.start");
  return {
    async stop(name) {
      const { profile } = await call("Profiler.stop");
      ws.close();
      const file = join(root, "bench/results", `${name}.cpuprofile`);
      writeFileSync(file, JSON.stringify(profile));
      return summarise(profile, file);
    },
  };
}

/**
 * Self time per function, and the time under each of a few entry points
 * (inclusive), in per cent of the profile's wall time.
 */
export function summarise(profile, file) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const spent = new Map();
  profile.samples.forEach((s, i) => spent.set(s, (spent.get(s) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const label = (n) => {
    const f = n.callFrame;
    const where = f.url ? `${f.url.split("/").pop()}:${f.lineNumber + 1}` : "";
    return `${f.functionName || "(anonymous)"}${where ? ` ${where}` : ""}`;
  };
  const self = new Map();
  const inclusive = new Map();
  let total = 0;
  for (const [nodeId, us] of spent) {
    total += us;
    const n = nodes.get(nodeId);
    self.set(label(n), (self.get(label(n)) ?? 0) + us);
    const seen = new Set();
    for (let x = nodeId; x !== undefined; x = parent.get(x)) {
      const name = nodes.get(x).callFrame.functionName || "(anonymous)";
      if (seen.has(name)) continue;
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + us);
    }
  }
  const pct = (us) => Math.round((1000 * us) / total) / 10;
  const top = (map, k) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, k)
      .map(([fn, us]) => ({ fn, percent: pct(us) }));
  return {
    file: file.slice(root.length + 1),
    seconds: Math.round(total / 1e5) / 10,
    busyPercent: Math.round(1000 - (1000 * (self.get("(idle)") ?? 0)) / total) / 10,
    self: top(self, 30),
    inclusive: top(inclusive, 60),
  };
}
