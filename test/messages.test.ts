import { env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { join, newVisitorSession, operatorSocket, say, signInAdmin, visitorSocket } from "./helpers";

function stub(conversationId: string) {
  return env.CONVERSATION.get(env.CONVERSATION.idFromName(conversationId));
}

/**
 * Writes `count` visitor messages straight into storage (the socket path is
 * covered by the other tests), then evicts the object so it rereads what it
 * keeps in memory, as it would after a restart.
 */
async function seedMessages(session: { conversationId: string; visitorId: string }, count: number): Promise<void> {
  await runInDurableObject(stub(session.conversationId), (_o, state) => {
    state.storage.sql.exec(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
       INSERT INTO messages (seq, client_id, kind, author_role, author_id, author_name, text, at)
       SELECT i, 'seed-' || i, 'text', 'visitor', ?, 'V', 'm' || i, ? FROM n`,
      count,
      session.visitorId,
      Date.now(),
    );
  });
  await evictDurableObject(stub(session.conversationId));
}

/** A visitor writes "one" and "two", then an operator joins: seqs 1–3 are stored, and the visitor has seen them. */
async function twoLinesAndAJoin() {
  const admin = await signInAdmin();
  const session = await newVisitorSession();
  const v = await visitorSocket(session);
  await v.next("welcome");
  await say(v, "one");
  await say(v, "two");
  expect((await join(admin, session.conversationId)).status).toBe(200);
  await v.until("message", (f) => f.message.seq === 3);
  return { admin, session, v };
}

describe("message log", () => {
  it("gives messages gap-free sequence numbers starting at 1", async () => {
    const session = await newVisitorSession();
    const v = await visitorSocket(session);
    await v.next("welcome");
    const seqs: number[] = [];
    for (let i = 0; i < 10; i++) seqs.push((await say(v, `message ${i}`)).seq);
    expect(seqs).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    v.close();
  });

  it("stores a resent client id once and acknowledges it with the same sequence number", async () => {
    const session = await newVisitorSession();
    const v = await visitorSocket(session);
    await v.next("welcome");
    const first = await say(v, "hello", "client-1");
    const again = await say(v, "hello", "client-1");
    expect(again.seq).toBe(first.seq);
    const after = await say(v, "next", "client-2");
    expect(after.seq).toBe(first.seq + 1);
    const count = await runInDurableObject(
      stub(session.conversationId),
      (_o, state) =>
        state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM messages WHERE client_id = 'client-1'").one()
          .n,
    );
    expect(count).toBe(1);
    v.close();
  });

  it("acknowledges a message only once it is in storage", async () => {
    const session = await newVisitorSession();
    const v = await visitorSocket(session);
    await v.next("welcome");
    const ack = await say(v, "stored before ack", "ack-check");
    const row = await runInDurableObject(stub(session.conversationId), (_o, state) =>
      state.storage.sql
        .exec<{ seq: number; text: string }>("SELECT seq, text FROM messages WHERE client_id = 'ack-check'")
        .one(),
    );
    expect(row).toEqual({ seq: ack.seq, text: "stored before ack" });
    v.close();
  });

  it("a reconnecting client receives exactly the messages it missed, in order", async () => {
    const { admin, session, v } = await twoLinesAndAJoin();
    const op = await operatorSocket(admin, session.conversationId);
    await op.next("welcome");
    v.close(); // the visitor drops after seeing seq 3 (the join event)
    await say(op, "three from operator");
    await say(op, "four from operator");
    const again = await visitorSocket(session, 3);
    const welcome = await again.next("welcome");
    expect(welcome.messages.map((m) => m.text)).toEqual(["three from operator", "four from operator"]);
    expect(welcome.messages.map((m) => m.seq)).toEqual([4, 5]);
    expect(welcome.partial).toBe(false);
    again.close();
    op.close();
  });

  it("a client already caught up (lastSeq = the newest stored) gets an empty welcome, then only what is new", async () => {
    const { admin, session, v } = await twoLinesAndAJoin();
    v.close();
    const again = await visitorSocket(session, 3);
    const welcome = await again.next("welcome");
    expect(welcome.messages, "nothing is sent again to a client that has it all").toEqual([]);
    expect(welcome.partial).toBe(false);
    const op = await operatorSocket(admin, session.conversationId);
    await op.next("welcome");
    await say(op, "four");
    const live = await again.next("message");
    expect(live.message.seq).toBe(4);
    // Everything the caught-up client got, in order: the empty welcome, then the new message.
    expect(again.frames.map((f) => f.type)).toEqual(["welcome", "message"]);
    again.close();
    op.close();
  });

  it("resume of more than one chunk arrives split, complete and in order", async () => {
    const session = await newVisitorSession();
    const v = await visitorSocket(session);
    await v.next("welcome");
    // Seed 1,200 messages directly (the socket path is covered above).
    await seedMessages(session, 1200);
    v.close();
    const again = await visitorSocket(session, 100);
    const welcome = await again.next("welcome");
    const got = [...welcome.messages];
    expect(welcome.partial).toBe(true);
    for (;;) {
      const more = await again.next("messages");
      got.push(...more.messages);
      if (more.done) break;
    }
    expect(got.map((m) => m.seq)).toEqual(Array.from({ length: 1100 }, (_, i) => i + 101));
    again.close();
  });

  it("history is paged: newest page first, older pages on request", async () => {
    const session = await newVisitorSession();
    const v = await visitorSocket(session);
    await v.next("welcome");
    await seedMessages(session, 120);
    v.close();
    const fresh = await visitorSocket(session, 0);
    const welcome = await fresh.next("welcome");
    expect(welcome.messages.map((m) => m.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 71));
    expect(welcome.hasMore).toBe(true);
    fresh.send({ type: "history", beforeSeq: 71 });
    const older = await fresh.next("history");
    expect(older.messages.map((m) => m.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 21));
    expect(older.hasMore).toBe(true);
    fresh.send({ type: "history", beforeSeq: 21 });
    const oldest = await fresh.next("history");
    expect(oldest.messages.map((m) => m.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(oldest.hasMore).toBe(false);
    fresh.close();
  });

  it("delivers messages live both ways between visitor and operator", async () => {
    const admin = await signInAdmin();
    const session = await newVisitorSession();
    const v = await visitorSocket(session);
    await v.next("welcome");
    await say(v, "hi, anyone there?");
    await join(admin, session.conversationId);
    const op = await operatorSocket(admin, session.conversationId);
    await op.next("welcome");
    await say(op, "Hello! How can I help?");
    const atVisitor = await v.until("message", (f) => f.message.text === "Hello! How can I help?");
    expect(atVisitor.message.author.role).toBe("operator");
    await say(v, "my order is late");
    const atOperator = await op.until("message", (f) => f.message.text === "my order is late");
    expect(atOperator.message.author.role).toBe("visitor");
    v.close();
    op.close();
  });
});
