// Assignment's smaller rules, each named: what JOIN tells everyone, leaving a
// conversation one never joined, and an operator marking messages read.
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { join as joinHere, store } from "../worker/conversation/assignment";
import type { ConversationContext } from "../worker/conversation/context";
import { appendEvent } from "../worker/conversation/log";
import type { ConversationSummary } from "../worker/protocol";
import {
  ADMIN,
  conversationObject,
  fetchApp,
  join,
  leave,
  newOperator,
  newVisitorSession,
  operatorSocket,
  say,
  signInAdmin,
  visitorSocket,
  visitorWithMessage,
  ownConversation,
} from "./helpers";
import { eventually } from "./mail-helpers";

describe("JOIN", () => {
  it("logs a joined event and tells the visitor the new state at once", async () => {
    const admin = await signInAdmin();
    const { session, v } = await visitorWithMessage();
    expect((await join(admin, session.conversationId)).status).toBe(200);
    const joined = await v.until("message", (f) => f.message.kind === "event");
    expect(joined.message).toMatchObject({
      kind: "event",
      event: "joined",
      text: `${ADMIN.name} joined`,
      author: { role: "system", name: ADMIN.name },
    });
    const state = await v.next("state");
    expect(state.state.status).toBe("assigned");
    expect(state.state.operators.map((o) => o.name)).toEqual([ADMIN.name]);
    v.close();
  });

  it("leaving a conversation one never joined is refused in words, and changes nothing", async () => {
    const admin = await signInAdmin();
    const bob = await newOperator(admin, "Bob");
    const { session, v } = await visitorWithMessage();
    await join(admin, session.conversationId);
    const res = await leave(bob.cookie, session.conversationId);
    expect(res.status).toBe(403);
    expect(await res.text()).toContain("You have not joined this conversation");
    const op = await operatorSocket(admin, session.conversationId);
    const welcome = await op.next("welcome");
    expect(welcome.state.operators.map((o) => o.name)).toEqual([ADMIN.name]);
    expect(welcome.state.status).toBe("assigned");
    op.close();
    v.close();
  });
});

describe("read", () => {
  const lastRead = (id: string) =>
    runInDurableObject(conversationObject(id), (_o, state) =>
      Number(
        state.storage.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'last_read_seq'").toArray()[0]
          ?.value ?? 0,
      ),
    );

  it("an operator's read moves the mark forward only, never past the last message, and clears the unread count", async () => {
    const admin = await signInAdmin();
    const session = await newVisitorSession();
    const id = session.conversationId;
    const v = await visitorSocket(session);
    await v.next("welcome");
    await say(v, "one");
    await say(v, "two");
    const last = (await say(v, "three")).seq;
    const unread = async () => {
      const res = await fetchApp("/api/conversations?view=all&limit=200", { headers: { Cookie: admin } });
      const { conversations } = (await res.json()) as { conversations: ConversationSummary[] };
      return conversations.find((c) => c.id === id)?.unread;
    };
    expect(await eventually(unread, (n) => n === 3, 10_000), "unread before any read").toBe(3);

    const op = await operatorSocket(admin, id);
    await op.next("welcome");
    /** Sends `read` and waits until the object has handled it: a history request after it is answered. */
    const read = async (seq: number) => {
      op.send({ type: "read", seq });
      op.send({ type: "history", beforeSeq: 1, limit: 1 });
      await op.next("history");
    };
    await read(last - 1);
    expect(await lastRead(id)).toBe(last - 1);
    await read(last + 50);
    expect(await lastRead(id), "a mark past the last message stops at it").toBe(last);
    await read(1);
    expect(await lastRead(id), "a mark never moves back").toBe(last);
    expect(await eventually(unread, (n) => n === 0, 10_000), "unread after reading").toBe(0);

    // The visitor cannot mark anything read.
    v.send({ type: "read", seq: last });
    expect(await v.next("error")).toMatchObject({ code: "forbidden", message: "Only operators mark messages read" });
    op.close();
    v.close();
  });
});

describe("a reply", () => {
  const VISITOR = { role: "visitor" as const, id: "visitor-r", name: "Vera" };
  const OLGA = { role: "operator" as const, id: "op-olga", name: "Olga" };
  /** What the conversation's storage holds for the figures and the read mark, and what its hot copy says. */
  const stored = (c: ConversationContext) => ({
    figures: c.sql
      .exec<{ kind: string; operator_id: string; at: number; value: number }>(
        "SELECT kind, operator_id, at, value FROM pending_stats ORDER BY rowid",
      )
      .toArray()
      .map((r) => ({ ...r })),
    mark: c.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'last_read_seq'").toArray()[0]?.value,
    hotMark: c.meta.lastReadSeq,
    statsPending: c.memory.report.statsPending,
  });

  it("stores its figure for Report > Operator and moves the read mark in its own insert; a resend, an event or a visitor's message stores neither", async () => {
    const f = ownConversation("reply-rules", VISITOR.id);
    const seen = await f.in((c) => {
      store(c, VISITOR, "v-1", "text", "hello");
      joinHere(c, { id: OLGA.id, name: OLGA.name });
      const afterJoin = stored(c);
      c.sql.exec("DELETE FROM pending_stats"); // the join's own figure, queued by queueStat
      c.memory.report.statsPending = false;
      const reply = store(c, OLGA, "o-1", "text", "hi, how can I help?");
      const afterReply = stored(c);
      const resend = store(c, OLGA, "o-1", "text", "hi, how can I help?");
      const afterResend = stored(c);
      store(c, VISITOR, "v-2", "text", "my order is late");
      appendEvent(c, { id: OLGA.id, name: OLGA.name }, "Olga did something", { event: "left" });
      const afterOthers = stored(c);
      // A later reply is no first response: its own figure alone tells the next report that figures wait.
      c.memory.report.statsPending = false;
      const queuedBefore = c.memory.report.statsQueued;
      const file = store(c, OLGA, "o-2", "file", "label.pdf", {
        file: { id: "f1", name: "label.pdf", size: 10, type: "application/pdf", image: false },
      });
      return {
        afterJoin,
        reply: reply.message,
        afterReply,
        resend,
        afterResend,
        afterOthers,
        file: file.message,
        afterFile: stored(c),
        queued: c.memory.report.statsQueued - queuedBefore,
      };
    });
    expect(
      seen.afterJoin.figures.map((r) => r.kind),
      "joining queues its own figure, not a reply's",
    ).toEqual(["joined"]);
    expect(seen.afterJoin.mark, "joining reads nothing").toBe("0");
    expect(seen.afterReply).toEqual({
      figures: [
        { kind: "message", operator_id: OLGA.id, at: seen.reply.at, value: 1 },
        // The first reply to a waiting visitor also queues its response time (queueStat).
        { kind: "first_response", operator_id: OLGA.id, at: expect.any(Number), value: expect.any(Number) },
      ],
      mark: String(seen.reply.seq),
      hotMark: seen.reply.seq,
      statsPending: true,
    });
    expect(seen.resend.fresh, "the same clientId again is a resend").toBe(false);
    expect(seen.afterResend, "a resend counts nothing and moves nothing").toEqual(seen.afterReply);
    expect(seen.afterOthers, "a visitor's message and an event are not replies").toEqual(seen.afterReply);
    expect(
      seen.afterFile.figures.map((r) => r.kind),
      "a file is a reply too",
    ).toEqual(["message", "first_response", "message"]);
    expect(seen.afterFile.mark).toBe(String(seen.file.seq));
    expect(seen.afterFile.hotMark).toBe(seen.file.seq);
    expect(seen.afterFile.statsPending, "the next report looks for figures").toBe(true);
    expect(seen.queued, "one figure queued, as the report counts them").toBe(1);

    // A new instance reads the same mark from storage (the figures have gone with the reports since).
    await evictDurableObject(f.stub());
    const woken = await f.in((c) => stored(c));
    expect(woken.mark).toBe(String(seen.file.seq));
    expect(woken.hotMark).toBe(seen.file.seq);
  });
});
