// Assignment's smaller rules, each named: what JOIN tells everyone, leaving a
// conversation one never joined, and an operator marking messages read.
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
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
