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
  fetchApp,
  join,
  leave,
  newOperator,
  newVisitorSession,
  operatorSocket,
  say,
  signInAdmin,
  visitorSocket,
  type TestSocket,
} from "./helpers";

/** A client as the widget and panel behave: an outbox resent after every reconnect, messages merged by seq. */
class Client {
  socket: TestSocket<ServerFrame> | null = null;
  lastSeq = 0;
  readonly outbox = new Map<string, string>();
  readonly acked = new Map<string, number>();
  readonly sentOrder: string[] = [];
  /** What this user has on screen: seq → clientId, from pushed messages and acks. */
  readonly view = new Map<number, string>();
  /** A seq that arrived twice with different messages: never allowed. */
  readonly conflicts: string[] = [];
  /** Seqs the server pushed (welcome, resume, live) and any it pushed a second time: never allowed either. */
  private readonly pushed = new Set<number>();
  readonly repeats: number[] = [];
  /** Messages the server refused (an operator who is not in the conversation); never stored. */
  readonly refused = new Set<string>();
  /** Any other error frame: a drop must never cause one (a resend is not a bad frame, nor a duplicate). */
  readonly errors: string[] = [];
  /** Messages resent after a reconnect because their ack never arrived. */
  resent = 0;
  private n = 0;
  private seen = 0;

  constructor(
    readonly name: string,
    private readonly connectFn: (lastSeq: number) => Promise<TestSocket<ServerFrame>>,
  ) {}

  private see(seq: number, clientId: string): void {
    const had = this.view.get(seq);
    if (had !== undefined && had !== clientId) this.conflicts.push(`seq ${seq}: ${had} then ${clientId}`);
    this.view.set(seq, clientId);
  }

  absorb(): void {
    if (!this.socket) return;
    for (; this.seen < this.socket.frames.length; this.seen++) {
      const f = this.socket.frames[this.seen]!;
      if (f.type === "ack") {
        this.acked.set(f.clientId, f.seq);
        this.outbox.delete(f.clientId);
        this.see(f.seq, f.clientId);
      } else if (f.type === "message" || f.type === "welcome" || f.type === "messages") {
        const list = f.type === "message" ? [f.message] : f.messages;
        for (const m of list) {
          this.lastSeq = Math.max(this.lastSeq, m.seq);
          this.see(m.seq, m.clientId);
          if (this.pushed.has(m.seq)) this.repeats.push(m.seq);
          this.pushed.add(m.seq);
        }
      } else if (f.type === "error" && f.code === "forbidden" && f.clientId && this.outbox.has(f.clientId)) {
        // As the panel does: the reply is not sent, and says so; it is not retried.
        this.outbox.delete(f.clientId);
        this.refused.add(f.clientId);
      } else if (f.type === "error") {
        this.errors.push(`${this.name}: ${f.code} ${f.message}`);
      }
    }
  }

  get connected(): boolean {
    return this.socket !== null && !this.socket.closed;
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

  async ensureConnected(): Promise<void> {
    if (!this.connected) await this.connect();
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

  /** Reconnects and resends until every message is acknowledged (or refused). */
  async settle(): Promise<void> {
    for (let attempt = 0; attempt < 10 && this.outbox.size > 0; attempt++) {
      await this.ensureConnected();
      // Each ack (or refusal) arrives as a frame: wait for the outbox to empty, not for time.
      await this.socket!.settled(() => (this.absorb(), this.outbox.size === 0));
      if (this.outbox.size > 0) this.drop();
    }
    this.absorb();
    expect([...this.outbox.keys()], `${this.name} has unacknowledged messages left`).toEqual([]);
  }

  /** Connected, waits until this user has every message up to `lastSeq` on screen. */
  async catchUp(lastSeq: number): Promise<void> {
    await this.ensureConnected();
    await this.socket!.settled(() => (this.absorb(), this.view.size >= lastSeq));
  }
}

type LogRow = {
  seq: number;
  client_id: string;
  kind: string;
  event: string | null;
  author_role: string;
  author_id: string;
};

async function storedLog(conversationId: string): Promise<LogRow[]> {
  const stub = env.CONVERSATION.get(env.CONVERSATION.idFromName(conversationId));
  return runInDurableObject(stub, (_o, state) =>
    state.storage.sql
      .exec<LogRow>("SELECT seq, client_id, kind, event, author_role, author_id FROM messages ORDER BY seq")
      .toArray(),
  );
}

/**
 * The invariants: gap-free, no duplicates, acked = stored at that seq,
 * per-client order kept, refused never stored; and every user, once caught
 * up, has exactly the stored log on screen.
 */
async function checkLog(conversationId: string, clients: Client[]): Promise<LogRow[]> {
  const log = await storedLog(conversationId);
  expect(log.map((r) => r.seq)).toEqual(Array.from({ length: log.length }, (_, i) => i + 1));
  const ids = log.map((r) => r.client_id);
  expect(new Set(ids).size).toBe(ids.length);
  const seqOf = new Map(log.map((r) => [r.client_id, r.seq]));
  for (const c of clients) {
    for (const [clientId, seq] of c.acked) expect(seqOf.get(clientId), `${clientId} acked as ${seq}`).toBe(seq);
    for (const clientId of c.refused) expect(seqOf.has(clientId), `${clientId} was refused yet stored`).toBe(false);
    const stored = c.sentOrder.filter((id) => seqOf.has(id)).map((id) => seqOf.get(id)!);
    expect(stored, `${c.name} kept its order`).toEqual([...stored].sort((a, b) => a - b));
  }
  for (const c of clients) {
    await c.catchUp(log.length);
    expect(c.conflicts, `${c.name} saw two messages under one seq`).toEqual([]);
    expect(c.repeats, `${c.name} was sent the same message twice`).toEqual([]);
    const screen = [...c.view].sort((a, b) => a[0] - b[0]);
    expect(screen, `${c.name} sees the stored log, nothing more or less`).toEqual(log.map((r) => [r.seq, r.client_id]));
  }
  return log;
}

/**
 * Evicts the object as soon as it can be. workerd evicts only an object with
 * no work in hand and gives up after a while otherwise; a conversation with a
 * coalesced index report on a timer is busy until the timer fires (seconds,
 * when the workspace widens the window on a loaded machine). So: try, and on
 * "still has active references" try again, for at most 30 s. Any other
 * failure, or never getting there, fails the test.
 */
async function evictWhenIdle(stub: DurableObjectStub): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await evictDurableObject(stub);
    } catch (err) {
      if (!/active references/.test((err as Error).message) || Date.now() > deadline) throw err;
    }
  }
}

/**
 * The server closes every socket of a conversation (a deploy, a crash of the
 * connection), mid-stream. Returns once each client that was connected has
 * seen its close: until then a client cannot know, and the next action
 * (a send, an eviction check) would race the close frame still in flight.
 */
async function serverDrop(conversationId: string, clients: Client[]): Promise<void> {
  const open = clients.filter((c) => c.connected).map((c) => c.socket!);
  const stub = env.CONVERSATION.get(env.CONVERSATION.idFromName(conversationId));
  const closed = await runInDurableObject(stub, (_o, state) => {
    const sockets = state.getWebSockets();
    for (const ws of sockets) ws.close(1012, "Service restart");
    return sockets.length;
  });
  expect(closed, "the server had sockets to close").toBeGreaterThanOrEqual(open.length);
  await Promise.all(open.map((s) => s.whenClosed));
}

/**
 * The assignment rules, replayed from the stored log: a visitor's first
 * message, or first after everyone left, puts the conversation in
 * Unassigned; JOIN assigns; the last leave makes it idle; an operator's
 * reply is only ever stored while that operator is in the conversation.
 */
function replayAssignment(log: LogRow[]): { status: string | null; operators: string[] } {
  let status: string | null = null;
  const joined = new Set<string>();
  for (const m of log) {
    if (m.kind === "event" && m.event === "joined") {
      joined.add(m.author_id);
      status = "assigned";
    } else if (m.kind === "event" && m.event === "left") {
      joined.delete(m.author_id);
      if (joined.size === 0) status = "idle";
    } else if (m.author_role === "visitor" && m.kind === "text") {
      if (status === null || status === "idle") status = "unassigned";
    } else if (m.author_role === "operator") {
      expect(joined.has(m.author_id), `seq ${m.seq}: a reply from an operator not in the conversation`).toBe(true);
    }
  }
  return { status, operators: [...joined].sort() };
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
    let serverDrops = 0;
    let round = 0;
    while (drops + serverDrops < 1000) {
      round++;
      await Promise.all(
        conversations.map(async ({ session, visitor, operator }, i) => {
          for (const c of [visitor, operator]) {
            await c.ensureConnected();
            // Visitors stay inside their rate limit (20 in a burst); operators send more.
            const count = c === visitor ? (round % 2 === 0 ? 1 : 0) : 1 + (round % 3);
            for (let k = 0; k < count; k++) c.send();
          }
          if ((round + i) % 4 === 0) {
            // The server cuts both sockets while their frames are in flight.
            await serverDrop(session.conversationId, [visitor, operator]);
            serverDrops += 2;
          } else {
            // The clients drop right away: some frames are still in flight, some acks never arrive.
            for (const c of [visitor, operator]) c.drop();
            drops += 2;
          }
        }),
      );
    }
    expect(serverDrops).toBeGreaterThan(200);
    for (const { session, visitor, operator } of conversations) {
      await visitor.settle();
      await operator.settle();
      await checkLog(session.conversationId, [visitor, operator]);
    }
    // What the drops must not do: make the server answer a resend or a reconnect with an error.
    expect(conversations.flatMap((c) => [...c.visitor.errors, ...c.operator.errors])).toEqual([]);
    // The drops really cut streams: many messages had to be resent, and were stored once.
    const resent = conversations.reduce((n, c) => n + c.visitor.resent + c.operator.resent, 0);
    expect(resent).toBeGreaterThan(100);
  }, 180_000);

  it("random interleavings of send, resend, drop, reconnect, join, leave and eviction keep the invariants (fast-check)", async () => {
    const admin = await signInAdmin();
    const second = await newOperator(admin, "Olga Second");
    const adminId = (
      (await (await fetchApp("/api/auth/me", { headers: { Cookie: admin } })).json()) as {
        operator: { id: string };
      }
    ).operator.id;
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.constantFrom(
            "vsend",
            "o1send",
            "o2send",
            "vdrop",
            "o1drop",
            "o2drop",
            "vresend",
            "o1resend",
            "reconnect",
            "serverdrop",
            "o1join",
            "o2join",
            "o1leave",
            "o2leave",
            "evict",
            "wait",
          ),
          { minLength: 5, maxLength: 40 },
        ),
        async (actions) => {
          const { session, visitor, operator } = await conversationWithClients(admin, `p${run}`);
          const other = new Client(`p${run}-o2`, (lastSeq) =>
            operatorSocket(second.cookie, session.conversationId, lastSeq),
          );
          run++;
          const ops = { o1: { client: operator, cookie: admin }, o2: { client: other, cookie: second.cookie } };
          const clients = [visitor, operator, other];
          for (const c of clients) await c.connect();
          const stub = env.CONVERSATION.get(env.CONVERSATION.idFromName(session.conversationId));
          const joined = new Set<string>(["o1"]);
          let visitorSent = 0;
          let rogue = 0;
          for (const a of actions) {
            const who = a.slice(0, 2) as "o1" | "o2";
            if (a === "vsend" && visitorSent < 15) {
              await visitor.ensureConnected();
              visitor.send();
              visitorSent++;
            } else if (a === "o1send" || a === "o2send") {
              const { client } = ops[who];
              await client.ensureConnected();
              if (joined.has(who)) client.send();
              else {
                // Not in the conversation: refused with a clear error, and nothing is stored.
                const clientId = `${client.name}-rogue-${rogue++}`;
                client.socket!.send({ type: "send", clientId, text: "not joined" });
                const err = await client.socket!.until("error", (f) => f.clientId === clientId);
                expect(err.code).toBe("forbidden");
                client.refused.add(clientId);
              }
            } else if (a === "vdrop") visitor.drop();
            else if (a === "o1drop" || a === "o2drop") ops[who].client.drop();
            else if (a === "vresend") (visitor.drop(), await visitor.connect());
            else if (a === "o1resend") (operator.drop(), await operator.connect());
            else if (a === "reconnect") for (const c of clients) await c.ensureConnected();
            else if (a === "serverdrop") await serverDrop(session.conversationId, clients);
            else if (a === "o1join" || a === "o2join") {
              const res = await join(ops[who].cookie, session.conversationId);
              expect(res.status).toBe(200);
              joined.add(who);
            } else if (a === "o1leave" || a === "o2leave") {
              // Leaving with replies still in flight: each is stored (it came first) or refused (it came after).
              const res = await leave(ops[who].cookie, session.conversationId);
              expect(res.status).toBe(joined.has(who) ? 200 : 403);
              joined.delete(who);
            } else if (a === "evict") {
              const open = clients.filter((c) => c.connected);
              // workerd evicts an object only between requests, and gives up (failing
              // the test) if one runs too long, as a frame being handled on a loaded
              // machine can. Let the frames in flight be answered first: the eviction
              // then lands at the same point it would have, without the race.
              for (const c of open) await c.socket!.settled(() => (c.absorb(), c.outbox.size === 0));
              // Wake it first (it may already be evicted by an earlier step), so every
              // eviction really happens; a failed one fails the test.
              await runInDurableObject(stub, () => undefined);
              await evictWhenIdle(stub);
              // Hibernation is invisible: no socket was closed by it. A ping
              // answered after the eviction proves each socket still works (a
              // close sent by the eviction would have arrived before the pong).
              for (const c of open) {
                const alive = await c.socket!.roundTrip().then(
                  () => true,
                  (e: Error) => e.message,
                );
                expect(alive, `${c.name} lost its socket to an eviction`).toBe(true);
              }
            } else if (a === "wait") await new Promise((r) => setTimeout(r, 5));
          }
          for (const c of clients) await c.settle();
          const log = await checkLog(session.conversationId, clients);
          // Assignment rules: what the log says happened is what the conversation and the index hold.
          const expected = replayAssignment(log);
          const ids = { o1: adminId, o2: second.id };
          expect(expected.operators).toEqual([...joined].map((k) => ids[k as "o1" | "o2"]).sort());
          const state = await runInDurableObject(stub, (_o, st) => ({
            status: st.storage.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'status'").one().value,
            operators: st.storage.sql
              .exec<{ operator_id: string }>("SELECT operator_id FROM operators ORDER BY operator_id")
              .toArray()
              .map((r) => r.operator_id),
          }));
          expect(state).toEqual(expected);
          const workspace = env.WORKSPACE.get(env.WORKSPACE.idFromName("demo"));
          await expect
            .poll(
              () =>
                runInDurableObject(workspace, (_o, st) => {
                  const row = st.storage.sql
                    .exec<{ status: string; operators: string }>(
                      "SELECT status, operators FROM conversations WHERE id = ?",
                      session.conversationId,
                    )
                    .one();
                  return {
                    status: row.status,
                    operators: (JSON.parse(row.operators) as { id: string }[]).map((o) => o.id).sort(),
                  };
                }),
              { timeout: 3000 },
            )
            .toEqual(expected);
          for (const c of clients) c.drop();
        },
      ),
      {
        numRuns: 40,
        // Found by a run with seed -1957041364: the eviction check raced the
        // close frames of the server drop before it. Always run it.
        examples: [[["o1leave", "vsend", "serverdrop", "vsend", "evict"]]],
      },
    );
  }, 240_000);
});
