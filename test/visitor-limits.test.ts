/**
 * A visitor's limits, tried the way an attacker would: many sockets on one
 * conversation, a burst of messages across all of them, many visitors from
 * one network, and a flood of each kind of frame. Every refused message is
 * answered with its clientId, so the widget keeps it and sends it again.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ConversationContext } from "../worker/conversation/context";
import type { Env } from "../worker/env";
import type { ServerFrame, VisitorSession } from "../worker/protocol";
import {
  failingBinding,
  fetchApp,
  newVisitorSession,
  operatorSocket,
  say,
  signInAdmin,
  TestSocket,
  upgradeRaw,
  visitorSocket,
  visitorTicket,
} from "./helpers";
import { eventually } from "./mail-helpers";

/** Tries to open a visitor socket (with an optional client IP); the socket, or the refusal. */
async function tryVisitorSocket(
  session: VisitorSession,
  ip?: string,
): Promise<{ socket: TestSocket<ServerFrame> } | { status: number; retryAfter: string | null; body: string }> {
  const ticket = await visitorTicket(session);
  const res = await upgradeRaw(
    `/ws/visitor?ticket=${encodeURIComponent(ticket)}`,
    ip ? { "CF-Connecting-IP": ip } : {},
  );
  if (res.status === 101 && res.webSocket) {
    const socket = new TestSocket<ServerFrame>(res.webSocket);
    socket.send({ type: "hello", lastSeq: 0 });
    return { socket };
  }
  return { status: res.status, retryAfter: res.headers.get("Retry-After"), body: await res.text() };
}

type Answer = { kind: "ack"; seq: number } | { kind: "error"; code: string; message: string; retryAfterMs?: number };

/** Sends `texts` round-robin over `sockets` at once; resolves with every clientId's answer once all have one. */
async function burst(sockets: TestSocket<ServerFrame>[], count: number, prefix: string) {
  const sent = sockets.map(() => new Set<string>());
  for (let i = 0; i < count; i++) {
    const s = i % sockets.length;
    const clientId = `${prefix}-${i}`;
    sent[s]!.add(clientId);
    sockets[s]!.send({ type: "send", clientId, text: `message ${i}` });
  }
  const answers = new Map<string, Answer>();
  const collect = (s: number) => {
    for (const f of sockets[s]!.frames) {
      if (f.type === "ack" && sent[s]!.has(f.clientId)) answers.set(f.clientId, { kind: "ack", seq: f.seq });
      if (f.type === "error" && f.clientId && sent[s]!.has(f.clientId)) {
        answers.set(f.clientId, { kind: "error", code: f.code, message: f.message, retryAfterMs: f.retryAfterMs });
      }
    }
  };
  for (let s = 0; s < sockets.length; s++) {
    const answered = () =>
      [...sent[s]!].every((id) => sockets[s]!.frames.some((f) => "clientId" in f && f.clientId === id));
    const ok = await sockets[s]!.settled(answered, 30_000);
    collect(s);
    expect(ok, `socket ${s}: ${[...sent[s]!].filter((id) => !answers.has(id)).length} sends had no answer`).toBe(true);
  }
  return answers;
}

const windowOf = (t: number) => Math.floor(t / 60_000);

/**
 * A visitor on network `ip` with their welcome, whose conversation asks a
 * stand-in for the network's limiter: it holds each answer (a yes) in `held`
 * until the test gives it; `asked` hears each question as it comes.
 */
async function visitorWithHeldLimiter(ip: string, asked?: (held: (() => void)[]) => void) {
  const session = await newVisitorSession();
  const r = await tryVisitorSocket(session, ip);
  if (!("socket" in r)) throw new Error(`refused: ${r.status} ${r.body}`);
  const v = r.socket;
  await v.next("welcome");
  const held: (() => void)[] = [];
  const stub = env.CONVERSATION.get(env.CONVERSATION.idFromName(session.conversationId));
  await runInDurableObject(stub, (object) => {
    const o = object as unknown as { env: Env };
    const limiter: RateLimit = {
      limit: () =>
        new Promise((resolve) => {
          held.push(() => resolve({ success: true }));
          asked?.(held);
        }),
    };
    o.env = { ...o.env, MESSAGE_LIMIT: limiter };
  });
  return { session, v, stub, held };
}

describe("visitor limits count per visitor and per network, not per socket", () => {
  it("one visitor with 100 sockets: 10 open, and a burst of 2,000 messages stores no more than the visitor's allowance", async () => {
    const session = await newVisitorSession();
    const sockets: TestSocket<ServerFrame>[] = [];
    const refusals: { status: number; retryAfter: string | null; body: string }[] = [];
    for (let i = 0; i < 100; i++) {
      const r = await tryVisitorSocket(session);
      if ("socket" in r) sockets.push(r.socket);
      else refusals.push(r);
    }
    expect(sockets.length, "sockets one visitor may hold").toBe(10);
    expect(refusals.length).toBe(90);
    for (const r of refusals) {
      expect(r.status).toBe(429);
      expect(r.retryAfter).toBe("10");
      expect(JSON.parse(r.body)).toMatchObject({
        error: { code: "rate_limited", message: expect.stringMatching(/too many windows \(at most 10\)/) },
      });
    }
    for (const s of sockets) await s.next("welcome");

    const started = Date.now();
    const answers = await burst(sockets, 2000, "flood");
    const elapsedS = Math.ceil((Date.now() - started) / 1000);
    const acked = [...answers.values()].filter((a) => a.kind === "ack");
    const refused = [...answers.values()].filter((a) => a.kind === "error");
    // Nothing silently lost: every message was stored or refused by name.
    expect(answers.size).toBe(2000);
    // 20 at once, then 1 a second, for the visitor as a whole.
    expect(acked.length, `${acked.length} stored in ${elapsedS} s`).toBeGreaterThanOrEqual(20);
    expect(acked.length, `${acked.length} stored in ${elapsedS} s`).toBeLessThanOrEqual(20 + elapsedS);
    expect(new Set(acked.map((a) => a.kind === "ack" && a.seq)).size).toBe(acked.length);
    for (const r of refused) {
      expect(r).toMatchObject({ kind: "error", code: "rate_limited" });
      expect(r.kind === "error" && r.message).toMatch(/^You're sending messages too fast; try again in \d+ s$/);
      expect(r.kind === "error" && r.retryAfterMs).toBeGreaterThan(0);
    }
    for (const s of sockets) s.close();
  });

  it("a closed socket frees its place: the visitor opens another", async () => {
    const session = await newVisitorSession();
    const sockets: TestSocket<ServerFrame>[] = [];
    for (let i = 0; i < 10; i++) {
      const r = await tryVisitorSocket(session);
      if (!("socket" in r)) throw new Error(`socket ${i} refused: ${r.status} ${r.body}`);
      await r.socket.next("welcome");
      sockets.push(r.socket);
    }
    const eleventh = await tryVisitorSocket(session);
    expect("status" in eleventh && eleventh.status).toBe(429);
    sockets[0]!.close();
    await sockets[0]!.whenClosed;
    // The close reaches the object a moment later: the widget retries after the Retry-After, as here.
    let again = await tryVisitorSocket(session);
    for (let i = 0; i < 50 && !("socket" in again); i++) {
      await sockets[1]!.roundTrip();
      again = await tryVisitorSocket(session);
    }
    expect("socket" in again, JSON.stringify(again)).toBe(true);
    if ("socket" in again) await again.socket.next("welcome");
    for (const s of sockets) s.close();
  });

  it("8 visitors on one network share its 120 messages a minute; each refusal names its message", async () => {
    const ip = `198.51.100.${Math.floor(Math.random() * 200) + 1}`;
    const sockets: TestSocket<ServerFrame>[] = [];
    for (let i = 0; i < 8; i++) {
      const r = await tryVisitorSocket(await newVisitorSession(), ip);
      if (!("socket" in r)) throw new Error(`refused: ${r.status} ${r.body}`);
      await r.socket.next("welcome");
      sockets.push(r.socket);
    }
    const started = Date.now();
    // 20 each: within every visitor's own allowance, 160 in all.
    const answers = new Map<string, Answer>();
    const all = await Promise.all(sockets.map((s, i) => burst([s], 20, `net-${i}`)));
    for (const a of all) for (const [k, v] of a) answers.set(k, v);
    // Waiting for the network's verdict does not reorder a visitor's messages: stored in the order sent.
    for (const [i, a] of all.entries()) {
      const seqs = [...Array(20).keys()]
        .map((n) => a.get(`net-${i}-${n}`))
        .flatMap((x) => (x?.kind === "ack" ? [x.seq] : []));
      expect(seqs, `visitor ${i}'s stored messages in the order sent`).toEqual([...seqs].sort((x, y) => x - y));
    }
    const windows = windowOf(Date.now()) - windowOf(started) + 1;
    const acked = [...answers.values()].filter((a) => a.kind === "ack").length;
    const refused = [...answers.values()].filter((a) => a.kind === "error");
    expect(answers.size).toBe(160);
    if (windows === 1) {
      expect(acked, "stored from one network in one minute").toBe(120);
      expect(refused.length).toBe(40);
    } else {
      // The test ran across the limiter's minute boundary: at most a full minute's worth on each side.
      expect(acked).toBeLessThanOrEqual(120 * windows);
    }
    for (const r of refused) {
      expect(r).toMatchObject({
        kind: "error",
        code: "rate_limited",
        message: "Too many messages from your network; try again in 10 s",
        retryAfterMs: 10_000,
      });
    }
    // Another network is not affected.
    const other = await tryVisitorSocket(await newVisitorSession(), "192.0.2.200");
    if (!("socket" in other)) throw new Error(`refused: ${other.status}`);
    await other.socket.next("welcome");
    expect((await say(other.socket, "from elsewhere")).seq).toBe(1);
    for (const s of [...sockets, other.socket]) s.close();
  });

  it("messages waiting for the network's verdict are stored in the order sent, even when verdicts come back out of order", async () => {
    // The limiter holds its answers until 5 are asked, then gives them last first.
    const { v } = await visitorWithHeldLimiter("198.51.100.250", (held) => {
      if (held.length === 5) for (const answer of held.reverse()) answer();
    });
    for (let i = 0; i < 5; i++) v.send({ type: "send", clientId: `order-${i}`, text: `in order ${i}` });
    const acks = () => v.frames.flatMap((f) => (f.type === "ack" ? [f] : []));
    expect(await v.settled(() => acks().length === 5), JSON.stringify(v.frames)).toBe(true);
    const seqOf = new Map(acks().map((a) => [a.clientId, a.seq]));
    expect(
      [0, 1, 2, 3, 4].map((i) => seqOf.get(`order-${i}`)),
      "seq of each message, in the order sent",
    ).toEqual([1, 2, 3, 4, 5]);
    v.close();
  });

  it("a message waiting for the network's verdict when the visitor signs out is not stored: the right ended first", async () => {
    const { session, v, stub, held } = await visitorWithHeldLimiter("198.51.100.251");
    v.send({ type: "send", clientId: "after-sign-out", text: "sent before the sign-out landed" });
    const asked = await eventually(
      async () => held.length,
      (n) => n === 1,
      10_000,
    );
    expect(asked, "the limiter was asked").toBe(1);
    const out = await fetchApp("/api/visitor/logout", {
      method: "POST",
      headers: { "Content-Type": "text/plain", "Sec-Fetch-Site": "cross-site" },
      body: JSON.stringify({ siteKey: "demo", token: session.token }),
    });
    expect(out.status, "logout").toBe(204);
    await v.closedByServer("the signed-out socket");
    await runInDurableObject(stub, () => held[0]!());
    const stored = await runInDurableObject(stub, async (object, state) => {
      // The frame's turn ends when its network line is let go: after it was handled, or dropped.
      await (object as unknown as { c: ConversationContext }).c.memory.networkLine;
      return state.storage.sql.exec("SELECT COUNT(*) AS n FROM messages WHERE client_id = 'after-sign-out'").one().n;
    });
    expect(stored, `frames seen: ${JSON.stringify(v.frames)}`).toBe(0);
    expect(
      v.frames.some((f) => f.type === "ack"),
      "no ack",
    ).toBe(false);
  });

  it("when the network's limiter is down, messages still go through (the chat does not stop)", async () => {
    const session = await newVisitorSession();
    await failingBinding(session.conversationId, "MESSAGE_LIMIT", {
      limit: () => Promise.reject(new Error("rate limiter unavailable")),
    });
    const opened = await tryVisitorSocket(session, "198.51.100.61");
    if (!("socket" in opened)) throw new Error(`socket refused: ${opened.status} ${opened.body}`);
    const v = opened.socket;
    await v.next("welcome");
    const acks = [await say(v, "first"), await say(v, "second")];
    expect(acks.map((a) => a.seq)).toEqual([1, 2]);
    v.close();
  });

  it("every visitor frame type has a limit; an operator's frames are not limited", async () => {
    const session = await newVisitorSession();
    const v = await visitorSocket(session);
    await v.next("welcome");
    await say(v, "hello there");
    /** Floods `frame`; the refusal says what is too fast, and the wait is what one more of it takes to come back. */
    const tooFast = async (frame: Record<string, unknown>, times: number, words: RegExp, refillMs: number) => {
      for (let i = 0; i < times; i++) v.send(frame);
      // Earlier floods' refusals may still be arriving: wait for this one's.
      const err = await v.until("error", (f) => f.code === "rate_limited" && words.test(f.message), 8000);
      // Refused with less than one left: one comes back within a refill. For the slow allowances (a refill of 10 s,
      // the flood sent at once) it is most of a refill away; a 1 s refill may be nearly back under load.
      expect(err.retryAfterMs, err.message).toBeLessThanOrEqual(refillMs);
      expect(err.retryAfterMs, err.message).toBeGreaterThan(refillMs >= 10_000 ? refillMs / 10 : 0);
      expect(err.message).toMatch(new RegExp(`try again in ${Math.ceil(err.retryAfterMs! / 1000)} s$`));
      expect(err.clientId).toBeUndefined();
    };
    await tooFast(
      { type: "history", beforeSeq: 1 },
      25,
      /^You're loading older messages too fast; try again in \d+ s$/,
      1000,
    );
    await tooFast({ type: "profile", name: "Name" }, 10, /^You're changing your name or email too fast/, 10_000);
    await tooFast(
      { type: "rate", surveyId: "no-such-survey", rating: 5 },
      10,
      /^You're answering the survey too fast/,
      10_000,
    );
    // A hello over the limit closes the socket (1013, try again later): a socket without its welcome is no use.
    for (let i = 0; i < 25; i++) v.send({ type: "hello", lastSeq: 0 });
    const err = await v.until(
      "error",
      (f) => f.code === "rate_limited" && /reconnecting too fast/.test(f.message),
      8000,
    );
    expect(err.retryAfterMs).toBeGreaterThan(0);
    await v.whenClosed;

    const admin = await signInAdmin();
    const op = await operatorSocket(admin, session.conversationId);
    await op.next("welcome");
    for (let i = 0; i < 40; i++) op.send({ type: "history", beforeSeq: 2 });
    for (let i = 0; i < 40; i++) await op.next("history");
    await op.roundTrip();
    expect(op.frames.filter((f) => f.type === "error")).toEqual([]);
    op.close();
  });
});
