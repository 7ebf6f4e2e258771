#!/usr/bin/env node
// `npm run bench:coldstart`: how long Microchat takes from cold, loopback only,
// bounded in count and time.
//
//   --runs K   fresh servers (default 5); every figure is reported per run and as the median
//
// Per run, on a fresh `wrangler dev` with empty state (dist/ as built):
//  - process: from the moment the workerd process exists (it appears under
//    wrangler dev) to the first answered request (GET /healthz → 200): the
//    runtime starting and loading and compiling the Worker. wrangler's own
//    start-up before it spawns workerd is left out; on Cloudflare there is
//    none, and an isolate starts in an already running process, so this is an
//    upper bound for the Worker's part;
//  - first conversation: a visitor's first message on a conversation whose
//    Durable Object has never run (the workspace's object is cold too): from
//    the session request to the message's ack, and its parts (session, ticket,
//    socket upgrade, hello → welcome, send → ack);
//  - next conversation: the same once the Worker and the workspace are warm:
//    only the Conversation object is new.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import WebSocket from "ws";
import { provenance, writeResults } from "./results.mjs";
import { freePort, procFile, processTree, spawnMicrochat, stopMicrochat } from "./server.mjs";

const { values: args } = parseArgs({ options: { runs: { type: "string", default: "5" } } });
const RUNS = Math.max(1, Math.min(10, Number(args.runs)));

/** Pids under `pid` (the wrangler dev tree) whose command is workerd. */
const workerdUnder = (pid) => processTree(pid).filter((p) => procFile(p, "cmdline").includes("workerd"));

/** Polls every 5 ms until `check()` is truthy; fails after `ms` saying `what`. */
async function until(check, ms, what) {
  const deadline = performance.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (performance.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function post(base, path, body, headers = {}) {
  const res = await fetch(base + path, {
    method: "POST",
    headers: { "Content-Type": "application/json", Origin: base, ...headers },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** A new visitor's first message, stage by stage (ms). */
async function firstMessage(base) {
  const t0 = performance.now();
  const session = await post(base, "/api/visitor/session", { siteKey: "demo" });
  const t1 = performance.now();
  const { ticket } = await post(base, "/api/visitor/ticket", {}, { Authorization: `Bearer ${session.token}` });
  const t2 = performance.now();
  const ws = new WebSocket(`${base.replace("http", "ws")}/ws/visitor?ticket=${encodeURIComponent(ticket)}`, {
    headers: { Origin: base },
  });
  const frames = [];
  ws.on("message", (d) => frames.push(JSON.parse(String(d))));
  await new Promise((resolve, reject) => (ws.once("open", resolve), ws.once("error", reject)));
  const t3 = performance.now();
  const next = (type) => until(() => frames.find((f) => f.type === type), 30_000, type);
  ws.send(JSON.stringify({ type: "hello", lastSeq: 0 }));
  await next("welcome");
  const t4 = performance.now();
  ws.send(JSON.stringify({ type: "send", clientId: crypto.randomUUID(), text: "Hello, is anyone there?" }));
  await next("ack");
  const t5 = performance.now();
  ws.terminate();
  const r = (x) => Math.round(x * 10) / 10;
  return {
    totalMs: r(t5 - t0),
    sessionMs: r(t1 - t0),
    ticketMs: r(t2 - t1),
    upgradeMs: r(t3 - t2),
    welcomeMs: r(t4 - t3),
    ackMs: r(t5 - t4),
  };
}

async function run() {
  const port = await freePort();
  const state = mkdtempSync(join(process.env.BENCH_STATE_DIR ?? tmpdir(), "microchat-cold-"));
  const child = spawnMicrochat({ port, state });
  const base = `http://127.0.0.1:${port}`;
  try {
    await until(() => workerdUnder(child.pid).length > 0, 90_000, "workerd process");
    const spawned = performance.now();
    await until(
      () =>
        fetch(`${base}/healthz`)
          .then((r) => r.ok)
          .catch(() => false),
      90_000,
      "first answer",
    );
    const processMs = Math.round((performance.now() - spawned) * 10) / 10;
    const first = await firstMessage(base);
    const next = await firstMessage(base);
    const result = { processMs, firstConversation: first, nextConversation: next };
    console.log(JSON.stringify(result));
    return result;
  } finally {
    await stopMicrochat(child, state);
    rmSync(state, { recursive: true, force: true });
  }
}

const runs = [];
for (let k = 0; k < RUNS; k++) runs.push(await run());
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const summary = {
  processMs: median(runs.map((r) => r.processMs)),
  firstConversationMs: median(runs.map((r) => r.firstConversation.totalMs)),
  nextConversationMs: median(runs.map((r) => r.nextConversation.totalMs)),
};
console.log(
  `\nworkerd up → first answer: median ${summary.processMs} ms (runs: ${runs.map((r) => r.processMs).join(", ")})`,
);
console.log(
  `first conversation (cold Worker objects), session → ack: median ${summary.firstConversationMs} ms (runs: ${runs.map((r) => r.firstConversation.totalMs).join(", ")})`,
);
console.log(
  `next conversation (cold Conversation object only): median ${summary.nextConversationMs} ms (runs: ${runs.map((r) => r.nextConversation.totalMs).join(", ")})`,
);
writeResults("coldstart-latest", { ...provenance(), runs: RUNS, summary, perRun: runs });
