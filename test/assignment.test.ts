import { describe, expect, it } from "vitest";
import type { ConversationState } from "../worker/protocol";
import {
  fetchApp,
  join,
  leave,
  newOperator,
  newVisitorSession,
  operatorSocket,
  panelSocket,
  say,
  signInAdmin,
  visitorSocket,
} from "./helpers";

describe("the rules from the article", () => {
  it("a visitor's first message puts the conversation in Unassigned for every online operator, live", async () => {
    const admin = await signInAdmin();
    const bob = await newOperator(admin, "Bob");
    const panelA = await panelSocket(admin);
    const panelB = await panelSocket(bob.cookie);
    await panelA.next("index");
    await panelB.next("index");

    const session = await newVisitorSession();
    const v = await visitorSocket(session);
    await v.next("welcome");
    await say(v, "I need help with my invoice");

    for (const panel of [panelA, panelB]) {
      const up = await panel.until("upsert", (f) => f.conversation.id === session.conversationId);
      expect(up.conversation.status).toBe("unassigned");
      expect(up.conversation.preview).toBe("I need help with my invoice");
      expect(up.conversation.unread).toBe(1);
    }
    const list = await fetchApp("/api/conversations?view=unassigned", { headers: { Cookie: bob.cookie } });
    const body = (await list.json()) as { conversations: { id: string }[] };
    expect(body.conversations.map((c) => c.id)).toContain(session.conversationId);
    v.close();
    panelA.close();
    panelB.close();
  });

  it("a visitor who connects but never writes does not appear in Unassigned", async () => {
    const admin = await signInAdmin();
    const session = await newVisitorSession();
    const v = await visitorSocket(session);
    await v.next("welcome");
    const list = await fetchApp("/api/conversations?view=all&limit=200", { headers: { Cookie: admin } });
    const body = (await list.json()) as { conversations: { id: string }[] };
    expect(body.conversations.map((c) => c.id)).not.toContain(session.conversationId);
    v.close();
  });

  it("JOIN assigns the operator: the conversation leaves Unassigned for everyone and enters the operator's active list", async () => {
    const admin = await signInAdmin();
    const bob = await newOperator(admin, "Bob");
    const panelA = await panelSocket(admin);
    const panelB = await panelSocket(bob.cookie);
    await panelA.next("index");
    await panelB.next("index");
    const session = await newVisitorSession();
    const v = await visitorSocket(session);
    await v.next("welcome");
    await say(v, "hello");
    await panelB.until(
      "upsert",
      (f) => f.conversation.id === session.conversationId && f.conversation.status === "unassigned",
    );

    const res = await join(bob.cookie, session.conversationId);
    expect(res.status).toBe(200);
    const { state } = (await res.json()) as { state: ConversationState };
    expect(state.status).toBe("assigned");
    expect(state.operators.map((o) => o.id)).toEqual([bob.id]);

    for (const panel of [panelA, panelB]) {
      const up = await panel.until(
        "upsert",
        (f) => f.conversation.id === session.conversationId && f.conversation.status === "assigned",
      );
      expect(up.conversation.operators.map((o) => o.id)).toEqual([bob.id]);
    }
    const unassigned = (await (
      await fetchApp("/api/conversations?view=unassigned", { headers: { Cookie: admin } })
    ).json()) as {
      conversations: { id: string }[];
    };
    expect(unassigned.conversations.map((c) => c.id)).not.toContain(session.conversationId);
    const mine = (await (
      await fetchApp("/api/conversations?view=mine", { headers: { Cookie: bob.cookie } })
    ).json()) as {
      conversations: { id: string }[];
    };
    expect(mine.conversations.map((c) => c.id)).toContain(session.conversationId);
    const notMine = (await (await fetchApp("/api/conversations?view=mine", { headers: { Cookie: admin } })).json()) as {
      conversations: { id: string }[];
    };
    expect(notMine.conversations.map((c) => c.id)).not.toContain(session.conversationId);
    v.close();
    panelA.close();
    panelB.close();
  });

  it("several operators may join the same conversation", async () => {
    const admin = await signInAdmin();
    const bob = await newOperator(admin, "Bob");
    const session = await newVisitorSession();
    const v = await visitorSocket(session);
    await v.next("welcome");
    await say(v, "hello");
    await join(admin, session.conversationId);
    const res = await join(bob.cookie, session.conversationId);
    const { state } = (await res.json()) as { state: ConversationState };
    expect(state.operators).toHaveLength(2);
    // Joining twice changes nothing.
    const again = (await (await join(bob.cookie, session.conversationId)).json()) as { state: ConversationState };
    expect(again.state.operators).toHaveLength(2);
    v.close();
  });

  it("an operator must join before replying", async () => {
    const admin = await signInAdmin();
    const session = await newVisitorSession();
    const v = await visitorSocket(session);
    await v.next("welcome");
    await say(v, "hello");
    const op = await operatorSocket(admin, session.conversationId);
    await op.next("welcome");
    op.send({ type: "send", clientId: "too-early", text: "hi" });
    expect(await op.next("error")).toMatchObject({ code: "forbidden", clientId: "too-early" });
    v.close();
    op.close();
  });

  it("Leave Conversation unassigns that operator only", async () => {
    const admin = await signInAdmin();
    const bob = await newOperator(admin, "Bob");
    const session = await newVisitorSession();
    const v = await visitorSocket(session);
    await v.next("welcome");
    await say(v, "hello");
    await join(admin, session.conversationId);
    await join(bob.cookie, session.conversationId);
    const res = await leave(bob.cookie, session.conversationId);
    const { state } = (await res.json()) as { state: ConversationState };
    expect(state.status).toBe("assigned");
    expect(state.operators.map((o) => o.name)).toEqual([ADMIN_NAME]);
    const left = await v.until("message", (f) => f.message.kind === "event" && f.message.event === "left");
    expect(left.message.text).toBe("Bob left");
    // Leaving again is refused.
    expect((await leave(bob.cookie, session.conversationId)).status).toBe(403);
    v.close();
  });

  it("visitor message after all operators left returns the conversation to Unassigned", async () => {
    const admin = await signInAdmin();
    const panel = await panelSocket(admin);
    await panel.next("index");
    const session = await newVisitorSession();
    const v = await visitorSocket(session);
    await v.next("welcome");
    await say(v, "first question");
    await join(admin, session.conversationId);
    const res = await leave(admin, session.conversationId);
    expect(((await res.json()) as { state: ConversationState }).state.status).toBe("idle");
    await panel.until(
      "upsert",
      (f) => f.conversation.id === session.conversationId && f.conversation.status === "idle",
    );

    await say(v, "one more thing");
    const back = await panel.until(
      "upsert",
      (f) => f.conversation.id === session.conversationId && f.conversation.status === "unassigned",
    );
    expect(back.conversation.operators).toEqual([]);
    v.close();
    panel.close();
  });

  it("a visitor and two operators go through join → chat → leave → requeue over real sockets", async () => {
    const admin = await signInAdmin();
    const bob = await newOperator(admin, "Bob");
    const panel = await panelSocket(bob.cookie);
    await panel.next("index");
    const session = await newVisitorSession();
    const v = await visitorSocket(session);
    await v.next("welcome");
    await say(v, "Is anyone there?");
    await panel.until(
      "upsert",
      (f) => f.conversation.id === session.conversationId && f.conversation.status === "unassigned",
    );

    await join(admin, session.conversationId);
    await join(bob.cookie, session.conversationId);
    const opA = await operatorSocket(admin, session.conversationId);
    const opB = await operatorSocket(bob.cookie, session.conversationId);
    const welcomeB = await opB.next("welcome");
    expect(welcomeB.state.operators).toHaveLength(2);
    await opA.next("welcome");

    await say(opA, "Hi, I'm Ada");
    await v.until("message", (f) => f.message.text === "Hi, I'm Ada");
    await opB.until("message", (f) => f.message.text === "Hi, I'm Ada");
    await say(v, "Thanks!");
    await opA.until("message", (f) => f.message.text === "Thanks!");
    await opB.until("message", (f) => f.message.text === "Thanks!");

    await leave(admin, session.conversationId);
    await leave(bob.cookie, session.conversationId);
    const idle = await v.until("state", (f) => f.state.status === "idle");
    expect(idle.state.operators).toEqual([]);

    await say(v, "Sorry, one more question");
    await panel.until(
      "upsert",
      (f) => f.conversation.id === session.conversationId && f.conversation.status === "unassigned",
    );
    const requeued = await opA.until("state", (f) => f.state.status === "unassigned");
    expect(requeued.state.operators).toEqual([]);
    for (const s of [v, opA, opB, panel]) s.close();
  });
});

const ADMIN_NAME = "Ada Admin";
