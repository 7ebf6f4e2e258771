#!/usr/bin/env node
// `npm run bench:syscalls -- [messages]`: what one busy conversation asks of
// the disk per stored message. One conversation, operator → visitor, 64
// messages in flight (as the busy-conversation row of `npm run bench`), while
// `strace -c` counts workerd's fsync, fdatasync, pwrite64 and pread64 calls;
// the summary, per message, goes to bench/results/syscalls-latest.json.
// Bounded (default 2,000 messages), loopback only; needs strace (Debian:
// `apt-get install -y strace`). State on /tmp (BENCH_STATE_DIR to change it).
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { next, open, post } from "./client.mjs";
import { provenance, writeResults } from "./results.mjs";
import { freePort, processTree, spawnMicrochat, stopMicrochat, waitReady } from "./server.mjs";

const N = Math.max(1, Number(process.argv[2] ?? 2000));
const CALLS = ["fsync", "fdatasync", "pwrite64", "pread64"];
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const stateDir = process.env.BENCH_STATE_DIR ?? tmpdir();
const state = mkdtempSync(join(stateDir, "microchat-syscalls-"));
const child = spawnMicrochat({ port, state });
try {
  await waitReady(`${base}/healthz`, child);
  const { cookie } = await post(base, "/api/setup", {
    name: "B",
    email: "b@example.com",
    password: "bench password 1",
  });
  const { body: session } = await post(base, "/api/visitor/session", { siteKey: "demo" });
  const { body: ticket } = await post(base, "/api/visitor/ticket", {}, { Authorization: `Bearer ${session.token}` });
  const ws = base.replace("http", "ws");
  const visitor = await open(`${ws}/ws/visitor?ticket=${encodeURIComponent(ticket.ticket)}`, { Origin: base });
  visitor.send(JSON.stringify({ type: "hello", lastSeq: 0 }));
  await next(visitor, "welcome");
  visitor.send(JSON.stringify({ type: "send", clientId: "start", text: "start" }));
  await next(visitor, "ack");
  await post(base, `/api/conversations/${session.conversationId}/join`, {}, { Cookie: cookie });
  const operator = await open(`${ws}/ws/conversations/${session.conversationId}`, { Origin: base, Cookie: cookie });
  operator.send(JSON.stringify({ type: "hello", lastSeq: 0 }));
  await next(operator, "welcome");

  const workerd = processTree(child.pid).filter((p) => readFileSync(`/proc/${p}/comm`, "utf8").trim() === "workerd");
  let report = "";
  const strace = spawn(
    "strace",
    ["-f", "-c", "-e", `trace=${CALLS.join(",")}`, ...workerd.flatMap((p) => ["-p", `${p}`])],
    {
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  strace.stderr.on("data", (d) => (report += d));
  // strace prints "Process N attached" once it holds every thread.
  while (!report.includes("attached")) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 500));

  let sent = 0;
  let acked = 0;
  const start = performance.now();
  await new Promise((resolve) => {
    const pump = () => {
      while (sent - acked < 64 && sent < N) {
        operator.send(JSON.stringify({ type: "send", clientId: `m${sent}`, text: `t:${sent}` }));
        sent++;
      }
    };
    operator.on("message", (d) => {
      if (JSON.parse(String(d)).type !== "ack") return;
      if (++acked === N) resolve(undefined);
      else pump();
    });
    pump();
  });
  const seconds = (performance.now() - start) / 1000;
  strace.kill("SIGINT");
  await new Promise((r) => strace.on("exit", r));
  visitor.terminate();
  operator.terminate();

  const perMessage = {};
  for (const call of CALLS) {
    const row = report.split("\n").find((l) => l.trim().endsWith(` ${call}`));
    const calls = row ? Number(row.trim().split(/\s+/)[3]) : 0;
    perMessage[call] = Math.round((calls / N) * 100) / 100;
  }
  const result = { ...provenance(), stateDir, messages: N, seconds: Math.round(seconds * 10) / 10, perMessage };
  console.log(
    `${N} messages stored and acked in ${result.seconds} s (under strace); per message: ${JSON.stringify(perMessage)}`,
  );
  writeResults("syscalls-latest", result);
} finally {
  await stopMicrochat(child, state);
}
process.exit(0);
