// `npm run bench -- --gc-trace`: V8's own trace of every garbage collection in
// each side's workerd processes (MINIFLARE_WORKERD_V8_FLAGS=--trace-gc), cut
// to the timed load and summarised per isolate: how often the young
// generation was collected and how much of it outlived a collection into the
// old space (promoted), and every full collection (Mark-Compact) with its
// pause. A full collection here is atomic: the one thread that every object
// of a workerd process shares stops for all of it (README, Performance).
import { existsSync, readFileSync, statSync } from "node:fs";
import { procFile, processTree } from "./server.mjs";

/**
 * The environment that makes a server's workerd processes trace their collections. V8 prints the trace with C's
 * stdio, which writes to a file or pipe in blocks of a few KB: a minute of lines could arrive a minute late, and in the wrong
 * window. coreutils' stdbuf library makes it line-buffered.
 */
export function gcTraceEnv(env) {
  const flags = [env.MINIFLARE_WORKERD_V8_FLAGS, "--trace-gc"].filter(Boolean).join(" ");
  const stdbuf = ["/usr/libexec/coreutils/libstdbuf.so", "/usr/lib/coreutils/libstdbuf.so"].find((f) => existsSync(f));
  if (!stdbuf) throw new Error("--gc-trace needs coreutils' libstdbuf.so (stdbuf), to read the trace as it is written");
  const preload = [env.LD_PRELOAD, stdbuf].filter(Boolean).join(" ");
  return { ...env, MINIFLARE_WORKERD_V8_FLAGS: flags, LD_PRELOAD: preload, _STDBUF_O: "L" };
}

// "[pid:0xisolate]   12345 ms: Scavenge 21.3 (41.8) -> 10.6 (41.8) MB, pooled: 0.0 MB, 8.12 / 0.00 ms (…) reason"
const LINE =
  /^\[(\d+):(0x[0-9a-f]+)\]\s+\d+ ms: (Scavenge|Mark-Compact|Minor Mark-Sweep)\b[^\d]*([\d.]+) \([\d.]+\) -> ([\d.]+) \([\d.]+\) MB, (?:pooled: [\d.]+ MB, )?([\d.]+) \/ [\d.]+ ms/;

/** Every collection in `text`, in order, with its byte offset in the log. */
function parseGcTrace(text) {
  const events = [];
  let offset = 0;
  for (const line of text.split("\n")) {
    const m = LINE.exec(line);
    if (m) {
      events.push({
        at: offset,
        pid: Number(m[1]),
        isolate: m[2],
        kind: m[3] === "Mark-Compact" ? "full" : "young",
        beforeMb: Number(m[4]),
        afterMb: Number(m[5]),
        pauseMs: Number(m[6]),
      });
    }
    offset += Buffer.byteLength(line) + 1;
  }
  return events;
}

/**
 * Per isolate, the collections that began between byte offsets `from` and
 * `to` of the log: young collections, MB promoted by them, and full
 * collections' pauses. `roles` names processes by pid. "Promoted" is the
 * heap after each young collection less the heap after the collection before
 * it in that isolate: what young collections moved to the old space, plus
 * anything allocated there directly meanwhile (large or pretenured objects),
 * so an upper bound of promotion proper.
 */
function summariseGc(events, from, to, seconds, roles = new Map()) {
  const last = new Map();
  const by = new Map();
  for (const e of events) {
    const key = `${e.pid}:${e.isolate}`;
    const before = last.get(key);
    last.set(key, e);
    if (e.at < from || e.at >= to) continue;
    const s = by.get(key) ?? {
      process: roles.get(e.pid) ?? "?",
      pid: e.pid,
      isolate: e.isolate,
      young: 0,
      promotedMb: 0,
      youngPauseMs: 0,
      fullPausesMs: [],
      fullHeapMb: [],
    };
    by.set(key, s);
    if (e.kind === "full") {
      s.fullPausesMs.push(e.pauseMs);
      s.fullHeapMb.push([e.beforeMb, e.afterMb]);
      continue;
    }
    s.young++;
    s.youngPauseMs += e.pauseMs;
    if (before) s.promotedMb += Math.max(0, e.afterMb - before.afterMb);
  }
  const round = (x) => Math.round(x * 100) / 100;
  return [...by.values()]
    .map((s) => ({
      process: s.process,
      pid: s.pid,
      isolate: s.isolate,
      youngCollections: s.young,
      promotedMbPerSecond: round(s.promotedMb / seconds),
      youngPauseMs: round(s.youngPauseMs),
      fullCollections: s.fullPausesMs.length,
      fullPausesMs: s.fullPausesMs,
      // The heap before and after each full collection: what filled it, and what was still alive.
      fullHeapMb: s.fullHeapMb,
    }))
    .sort((a, b) => b.youngCollections + b.fullCollections - (a.youngCollections + a.fullCollections));
}

/**
 * The server's workerd processes by pid, named by role: "front" is the one listening on the server's own `port`
 * (wrangler's proxy, which every frame passes through), "worker" the one running the Worker and its objects.
 */
function workerdRoles(serverPid, port) {
  const roles = new Map();
  for (const pid of processTree(serverPid)) {
    const cmd = procFile(pid, "cmdline").replaceAll("\0", " ");
    if (cmd.includes("workerd")) roles.set(pid, cmd.includes(`127.0.0.1:${port} `) ? "front" : "worker");
  }
  return roles;
}

/**
 * Starts a window on `log` (the server's output, which the trace goes to);
 * `stop(seconds)` answers the window's summary, by isolate.
 */
export function gcWindow(log, serverPid, port) {
  const from = statSync(log).size;
  return {
    stop(seconds) {
      const text = readFileSync(log, "utf8");
      const roles = workerdRoles(serverPid, port);
      return summariseGc(parseGcTrace(text), from, Buffer.byteLength(text), seconds, roles);
    },
  };
}

/** Full collections in the log of the server `serverPid` so far, in its Worker's process (not wrangler's front). */
export function fullCollections(log, serverPid, port) {
  const roles = workerdRoles(serverPid, port);
  return parseGcTrace(readFileSync(log, "utf8")).filter((e) => e.kind === "full" && roles.get(e.pid) === "worker")
    .length;
}

/** A full collection's heap, before → after ("?" in results written before it was recorded). */
const heap = (mb) => (mb ? `${mb[0]} → ${mb[1]} MB` : "? MB");

/** One line per isolate that collected anything, for the console. */
export function describeGc(isolates) {
  return isolates.map(
    (s) =>
      `${s.process} (pid ${s.pid}) ${s.isolate}: ${s.youngCollections} young (${s.youngPauseMs} ms, ${s.promotedMbPerSecond} MB/s promoted), ` +
      `${s.fullCollections} full${s.fullCollections ? ` (${s.fullPausesMs.map((ms, i) => `${ms} ms, ${heap(s.fullHeapMb?.[i])}`).join("; ")})` : ""}`,
  );
}
