/**
 * Fault tolerance: sockets dropped in the middle of message streams, Durable
 * Object evictions at random points, and random interleavings of the
 * protocol (fast-check). Afterwards every conversation's log must have no
 * gap, no duplicate and no reordering, and every message a client saw
 * acknowledged must be stored, once, under the sequence number it was told.
 */
import { env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ServerFrame, VisitorSession } from "../worker/protocol";
import {
  join,
  leave,
  newVisitorSession,
  operatorSocket,
  say,
  signInAdmin,
  visitorSocket,
  type TestSocket,
} from "./helpers";

/** A client as the widget and panel behave: an outbox resent after every reconnect. */
class Client {
  socket: TestSocket<ServerFrame> | null = null;
  lastSeq = 0;
  readonly outbox = new Map<string, string>();
  readonly acked = new Map<string, number>();
  readonly sentOrder: string[] = [];
  /** Messages resent after a reconnect because their ack never arrived. */
  resent = 0;
  private n = 0;
  private seen = 0;

  constructor(
    readonly name: string,
    private readonly connectFn: (lastSeq: number) => Promise<TestSocket<ServerFrame>>,
  ) {}

  private absorb(): void {
    if (!this.socket) return;
    for (; this.seen < this.socket.frames.length; this.seen++) {
      const f = this.socket.frames[this.seen]!;
      if (f.type === "ack") {
        this.acked.set(f.clientId, f.seq);
        this.outbox.delete(f.clientId);
      } else if (f.type === "message" || f.type === "welcome" || f.type === "messages") {
        const list = f.type === "message" ? [f.message] : f.messages;
        for (const m of list) this.lastSeq = Math.max(this.lastSeq, m.seq);
      }
    }
  }

  async connect(): Promise<void> {
    this.absorb();
    this.socket = await this.connectFn(this.lastSeq);
    this.seen = 0;
    await this.socket.next("welcome");
    this.absorb();
    for (const [clientId, text] of this.outbox) {
      this.resent++;
      this.socket.send({ type: "send", clientId, text });
    }
  }

  send(): void {
    const clientId = `${this.name}-${this.n++}`;
    const text = `${this.name} #${this.n}`;
    this.outbox.set(clientId, text);
    this.sentOrder.push(clientId);
    this.socket?.send({ type: "send", clientId, text });
  }

  /** Closes the socket without waiting for answers still in flight. */
  drop(): void {
    this.absorb();
    this.socket?.close();
    this.socket = null;
  }

  /** Reconnects and resends until every message is acknowledged. */
  async settle(): Promise<void> {
    for (let attempt = 0; attempt < 50 && this.outbox.size > 0; attempt++) {
      if (!this.socket) await this.connect();
      await new Promise((r) => setTimeout(r, 30));
      this.absorb();
      if (this.outbox.size > 0) this.drop();
    }
    this.absorb();
    expect(this.outbox.size, `${this.name} has unacknowledged messages left`).toBe(0);
  }
}

async function storedLog(conversationId: string) {
  const stub = env.CONVERSATION.get(env.CONVERSATION.idFromName(conversationId));
  return runInDurableObject(stub, (_o, state) =>
    state.storage.sql
      .exec<{ seq: number; client_id: string }>("SELECT seq, client_id FROM messages ORDER BY seq")
      .toArray(),
  );
}

/** The invariants: gap-free, no duplicates, acked = stored at that seq, per-client order kept. */
async function checkLog(conversationId: string, clients: Client[]): Promise<void> {
  const log = await storedLog(conversationId);
  expect(log.map((r) => r.seq)).toEqual(Array.from({ length: log.length }, (_, i) => i + 1));
  const ids = log.map((r) => r.client_id);
  expect(new Set(ids).size).toBe(ids.length);
  const seqOf = new Map(log.map((r) => [r.client_id, r.seq]));
  for (const c of clients) {
    for (const [clientId, seq] of c.acked) expect(seqOf.get(clientId), `${clientId} acked as ${seq}`).toBe(seq);
    const stored = c.sentOrder.filter((id) => seqOf.has(id)).map((id) => seqOf.get(id)!);
    expect(stored, `${c.name} kept its order`).toEqual([...stored].sort((a, b) => a - b));
  }
}

async function conversationWithClients(admin: string, tag: string) {
  const session: VisitorSession = await newVisitorSession();
  const first = await visitorSocket(session);
  await first.next("welcome");
  await say(first, `${tag} hello`, `${tag}-hello`);
  first.close();
  await join(admin, session.conversationId);
  const visitor = new Client(`${tag}-v`, (lastSeq) => visitorSocket(session, lastSeq));
  const operator = new Client(`${tag}-o`, (lastSeq) => operatorSocket(admin, session.conversationId, lastSeq));
  return { session, visitor, operator };
}

describe("fault tolerance", () => {
  it("1,000 socket drops in the middle of message streams lose, duplicate and reorder nothing", async () => {
    const admin = await signInAdmin();
    const conversations = await Promise.all(
      Array.from({ length: 40 }, (_, i) => conversationWithClients(admin, `c${i}`)),
    );
    let drops = 0;
    let round = 0;
    while (drops < 1000) {
      round++;
      await Promise.all(
        conversations.map(async ({ visitor, operator }) => {
          for (const c of [visitor, operator]) {
            if (!c.socket) await c.connect();
            // Visitors stay inside their rate limit (20 in a burst); operators send more.
            const count = c === visitor ? (round % 2 === 0 ? 1 : 0) : 1 + (round % 3);
            for (let k = 0; k < count; k++) c.send();
            // Drop right away: some frames are still in flight, some acks never arrive.
            c.drop();
            drops++;
          }
        }),
      );
    }
    expect(drops).toBeGreaterThanOrEqual(1000);
    for (const { session, visitor, operator } of conversations) {
      await visitor.settle();
      await operator.settle();
      await checkLog(session.conversationId, [visitor, operator]);
    }
    // The drops really cut streams: many messages had to be resent, and were stored once.
    const resent = conversations.reduce((n, c) => n + c.visitor.resent + c.operator.resent, 0);
    expect(resent).toBeGreaterThan(100);
  }, 120_000);

  it("random interleavings of send, resend, drop, reconnect, join, leave and eviction keep the invariants (fast-check)", async () => {
    const admin = await signInAdmin();
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom("vsend", "osend", "vdrop", "odrop", "join", "leave", "evict", "wait"), {
          minLength: 5,
          maxLength: 30,
        }),
        async (actions) => {
          const { session, visitor, operator } = await conversationWithClients(admin, `p${run++}`);
          const stub = env.CONVERSATION.get(env.CONVERSATION.idFromName(session.conversationId));
          let joined = true;
          let visitorSent = 0;
          for (const a of actions) {
            if (a === "vsend" && visitorSent < 15) {
              if (!visitor.socket) await visitor.connect();
              visitor.send();
              visitorSent++;
            } else if (a === "osend" && joined) {
              if (!operator.socket) await operator.connect();
              operator.send();
            } else if (a === "vdrop") visitor.drop();
            else if (a === "odrop") operator.drop();
            else if (a === "join" && !joined) joined = (await join(admin, session.conversationId)).status === 200;
            else if (a === "leave" && joined && operator.outbox.size === 0) {
              joined = !((await leave(admin, session.conversationId)).status === 200);
            } else if (a === "evict") await evictDurableObject(stub).catch(() => undefined);
            else if (a === "wait") await new Promise((r) => setTimeout(r, 5));
          }
          if (!joined) await join(admin, session.conversationId);
          await visitor.settle();
          await operator.settle();
          await checkLog(session.conversationId, [visitor, operator]);
          // Assignment rules hold: the state reflects the joined operator.
          const state = await runInDurableObject(stub, (_o, st) =>
            st.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM operators").one(),
          );
          expect(state.n).toBe(1);
          visitor.drop();
          operator.drop();
        },
      ),
      { numRuns: 25 },
    );
  }, 120_000);
});
