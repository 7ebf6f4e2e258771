#!/usr/bin/env node
// `npm run test:faults`: the whole `wrangler dev` process tree is killed with
// SIGKILL in the middle of a message stream and restarted on the same local
// state. Clients keep outboxes (as the widget and panel do) and resend what was
// not acknowledged. Afterwards every acknowledged message must be stored under
// the sequence number it was acknowledged with, each conversation's log must be
// gap-free and hold every message exactly once. Loopback only, bounded.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import { freePort, spawnMicrochat, waitReady } from "./server.mjs";

const CONVERSATIONS = 20;
const state = mkdtempSync(join(tmpdir(), "microchat-faults-"));
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
let failures = 0;
let passes = 0;
const check = (ok, what) => {
  if (ok) passes++;
  else failures++;
  console.log(`${ok ? "✓" : "✖"} ${what}`);
};

const start = () => spawnMicrochat({ port, state });
const ready = (child) => waitReady(`${base}/healthz`, child);

async function post(path, body, headers = {}) {
  const res = await fetch(base + path, {
    method: "POST",
    headers: { "Content-Type": "application/json", Origin: base, ...headers },
    body: JSON.stringify(body),
  });
  return {
    status: res.status,
    body: await res.json().catch(() => null),
    cookie: res.headers.get("set-cookie")?.split(";")[0],
  };
}

/** A client with an outbox, resending after every reconnect, as the widget and panel do. */
class Client {
  constructor(name, connect) {
    this.name = name;
    this.connectFn = connect;
    this.outbox = new Map();
    this.acked = new Map();
    /** Error frames other than a rate limit's: none is expected. */
    this.errors = [];
    /** Messages refused for the visitor's burst (and sent again after the wait). */
    this.limited = 0;
    this.n = 0;
    this.lastSeq = 0;
    this.ws = null;
    /** Called on every ack (the drain below waits for these, not for time). */
    this.onAck = () => {};
  }
  async connect() {
    try {
      const ws = await this.connectFn();
      this.ws = ws;
      ws.on("message", (d) => {
        const f = JSON.parse(String(d));
        if (f.type === "ack") {
          this.acked.set(f.clientId, f.seq);
          this.outbox.delete(f.clientId);
          this.onAck();
        } else if (f.type === "error" && f.code === "rate_limited" && this.outbox.has(f.clientId)) {
          // A visitor's burst is bounded: after a restart a long outbox is refused in part. As the
          // widget does, the refused message goes again after the wait the server names.
          this.limited++;
          setTimeout(() => {
            const text = this.outbox.get(f.clientId);
            if (text !== undefined && this.ws === ws && ws.readyState === WebSocket.OPEN)
              ws.send(JSON.stringify({ type: "send", clientId: f.clientId, text }));
          }, f.retryAfterMs ?? 1000);
        } else if (f.type === "error") {
          this.errors.push(`${f.code}: ${f.message}`);
        }
      });
      ws.on("close", () => {
        if (this.ws === ws) this.ws = null;
        this.onAck(); // not an ack, but a reason for the drain to look again (reconnect)
      });
      ws.on("error", () => {});
      ws.send(JSON.stringify({ type: "hello", lastSeq: this.lastSeq }));
      for (const [clientId, text] of this.outbox) ws.send(JSON.stringify({ type: "send", clientId, text }));
      return true;
    } catch {
      this.ws = null;
      return false;
    }
  }
  send() {
    const clientId = `${this.name}-${this.n++}`;
    const text = `${this.name} #${this.n}`;
    this.outbox.set(clientId, text);
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ type: "send", clientId, text }));
  }
}

/**
 * Resends every outbox until all are acknowledged, reconnecting clients whose
 * socket closed. It waits for acks and closes, not for a set time: it gives
 * up only when nothing was acknowledged for STALL_MS (a server that stopped
 * answering), and then says what it saw.
 */
const STALL_MS = 60_000;
async function drain(clients) {
  const left = () => clients.reduce((n, c) => n + c.outbox.size, 0);
  let wake = () => {};
  for (const c of clients) c.onAck = () => wake();
  let best = left();
  let progressAt = Date.now();
  while (left() > 0) {
    for (const c of clients) if (c.outbox.size > 0 && !c.ws) await c.connect();
    if (left() < best) {
      best = left();
      progressAt = Date.now();
    }
    const stalledFor = Date.now() - progressAt;
    if (stalledFor > STALL_MS) {
      const waiting = clients.filter((c) => c.outbox.size > 0);
      return {
        ok: false,
        saw:
          `${left()} messages unacknowledged in ${waiting.length} outboxes, nothing acknowledged for ${Math.round(stalledFor / 1000)} s; ` +
          `${waiting.filter((c) => c.ws).length} of them connected (e.g. ${waiting[0]?.name}); ` +
          `error frames they got: ${JSON.stringify(waiting.flatMap((c) => c.errors.map((e) => `${c.name} ${e}`)).slice(-6))}`,
      };
    }
    // The next ack or close, or a second to retry connecting those that could not connect.
    await new Promise((resolve) => {
      wake = resolve;
      setTimeout(resolve, 1000);
    });
  }
  return { ok: true, saw: "" };
}

const open = (url, headers) =>
  new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
  });

let child = start();
try {
  await ready(child);
  const { cookie } = await post("/api/setup", {
    name: "Faults",
    email: "faults@example.com",
    password: "faults password 1",
  });
  const wsBase = base.replace("http", "ws");
  const conversations = [];
  for (let i = 0; i < CONVERSATIONS; i++) {
    const { body: session } = await post("/api/visitor/session", { siteKey: "demo" });
    const visitor = new Client(`v${i}`, async () => {
      const { body } = await post("/api/visitor/ticket", {}, { Authorization: `Bearer ${session.token}` });
      return open(`${wsBase}/ws/visitor?ticket=${encodeURIComponent(body.ticket)}`, { Origin: base });
    });
    await visitor.connect();
    visitor.send();
    // JOIN needs the conversation to exist: wait for its first message's ack.
    await new Promise((resolve) => {
      visitor.onAck = () => visitor.outbox.size === 0 && resolve();
    });
    visitor.onAck = () => {};
    await post(`/api/conversations/${session.conversationId}/join`, {}, { Cookie: cookie });
    const operator = new Client(`o${i}`, () =>
      open(`${wsBase}/ws/conversations/${session.conversationId}`, { Origin: base, Cookie: cookie }),
    );
    await operator.connect();
    conversations.push({ session, visitor, operator });
  }

  // A steady stream, then SIGKILL in the middle of it.
  const stream = setInterval(() => {
    for (const c of conversations) {
      c.operator.send();
      if (Math.random() < 0.1) c.visitor.send();
    }
  }, 20);
  await new Promise((r) => setTimeout(r, 3000));
  const ackedBefore = conversations.reduce((n, c) => n + c.operator.acked.size + c.visitor.acked.size, 0);
  const inFlight = conversations.reduce((n, c) => n + c.operator.outbox.size + c.visitor.outbox.size, 0);
  const exited = new Promise((resolve) => child.once("exit", resolve));
  process.kill(-child.pid, "SIGKILL");
  await exited;
  const down = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(2000) }).then(
    () => false,
    () => true,
  );
  clearInterval(stream);
  const pending = conversations.reduce((n, c) => n + c.operator.outbox.size + c.visitor.outbox.size, 0);
  console.log(
    `killed with ${ackedBefore} messages acknowledged, ${inFlight} sent and not yet acknowledged at that instant, ${pending} waiting in outboxes after`,
  );
  check(ackedBefore > 100, "the stream was running when the server was killed");
  check(down, "the server was really down (nothing answered /healthz)");
  check(pending > 0, "messages were waiting in the clients' outboxes while the server was down");

  child = start();
  await ready(child);
  const drained = await drain(conversations.flatMap((c) => [c.visitor, c.operator]));
  check(
    drained.ok,
    `after the restart every outbox drained (all messages acknowledged)${drained.ok ? "" : `: ${drained.saw}`}`,
  );

  let gapFree = true;
  let allAckedStored = true;
  let noDuplicates = true;
  let total = 0;
  for (const c of conversations) {
    const messages = [];
    let before = "";
    for (;;) {
      const res = await fetch(`${base}/api/conversations/${c.session.conversationId}/messages?limit=200${before}`, {
        headers: { Cookie: cookie },
      });
      const page = await res.json();
      messages.unshift(...page.messages);
      if (!page.hasMore) break;
      before = `&before=${page.messages[0].seq}`;
    }
    total += messages.length;
    const seqs = messages.map((m) => m.seq);
    gapFree &&= seqs.every((s, i) => s === i + 1);
    const ids = messages.map((m) => m.clientId);
    noDuplicates &&= new Set(ids).size === ids.length;
    const seqOf = new Map(messages.map((m) => [m.clientId, m.seq]));
    for (const client of [c.visitor, c.operator]) {
      for (const [clientId, seq] of client.acked) allAckedStored &&= seqOf.get(clientId) === seq;
    }
    for (const client of [c.visitor, c.operator]) client.ws?.terminate();
  }
  const limited = conversations.reduce((n, c) => n + c.visitor.limited, 0);
  console.log(
    `${total} messages stored across ${CONVERSATIONS} conversations; ${limited} resends waited for a visitor's limit`,
  );
  check(allAckedStored, "every message acknowledged before or after the kill is stored under its acknowledged seq");
  check(noDuplicates, "no message is stored twice (resends after the kill were deduplicated)");
  check(gapFree, "every conversation's log is gap-free");
} finally {
  const gone = child.exitCode !== null ? null : new Promise((resolve) => child.once("exit", resolve));
  try {
    process.kill(-child.pid, "SIGTERM");
  } catch {
    // gone
  }
  await gone;
  rmSync(state, { recursive: true, force: true });
}
console.log(`\nfaults: ${passes} passed, ${failures} failed`);
process.exit(failures === 0 ? 0 : 1);
