import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ConversationState, Message, ServerFrame } from "../worker/protocol";
import {
  adminWatchingVisitor,
  fetchApp,
  join,
  json,
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
    expect(await op.next("error")).toEqual({
      type: "error",
      code: "forbidden",
      message: "Join the conversation to reply",
      clientId: "too-early",
    });
    v.close();
    op.close();
  });

  it("A joined, B did not: B's reply is refused over the socket, the REST API and a file upload, and leaves no trace", async () => {
    const admin = await signInAdmin();
    const bob = await newOperator(admin, "Bob");
    const session = await newVisitorSession();
    const id = session.conversationId;
    const v = await visitorSocket(session);
    await v.next("welcome");
    await say(v, "hello");
    expect((await join(bob.cookie, id)).status).toBe(200); // A (Bob) joined; B (the admin) did not

    // B over the socket.
    const b = await operatorSocket(admin, id);
    await b.next("welcome");
    b.send({ type: "send", clientId: "b-socket", text: "B by socket" });
    expect(await b.next("error")).toMatchObject({ code: "forbidden", clientId: "b-socket" });
    // B over the REST API, with a token that may write.
    const made = await fetchApp("/api/v1/tokens", json({ name: "B's CRM", scope: "write" }, { Cookie: admin }));
    expect(made.status).toBe(201);
    const { token } = (await made.json()) as { token: string };
    const rest = await fetchApp(
      `/api/v1/conversations/${id}/messages`,
      json({ text: "B by REST", clientId: "b-rest" }, { Authorization: `Bearer ${token}` }),
    );
    expect(rest.status, await rest.clone().text()).toBe(403);
    // B uploads a file.
    const body = new FormData();
    body.set("file", new File([new TextEncoder().encode("%PDF-1.4\n%%EOF\n")], "b.pdf", { type: "application/pdf" }));
    body.set("clientId", "b-file");
    const upload = await fetchApp(`/api/conversations/${id}/files`, {
      method: "POST",
      headers: { Cookie: admin },
      body,
    });
    expect(upload.status, await upload.clone().text()).toBe(403);

    // A's reply comes after all of B's attempts: once the visitor has it, B's would have come before it.
    const a = await operatorSocket(bob.cookie, id);
    await a.next("welcome");
    const ack = await say(a, "A replies", "a-1");
    const seen = await v.until("message", (f) => f.message.clientId === "a-1");
    expect(seen.message.seq).toBe(ack.seq);
    const fromB = (f: ServerFrame) => f.type === "message" && f.message.clientId?.startsWith("b-");
    expect(v.frames.filter(fromB), "the visitor got nothing of B's").toEqual([]);
    expect(a.frames.filter(fromB), "A got nothing of B's").toEqual([]);
    // Nothing of B's is stored: not in the log, not in R2.
    const page = await fetchApp(`/api/conversations/${id}/messages?limit=100`, { headers: { Cookie: admin } });
    const { messages } = (await page.json()) as { messages: Message[] };
    expect(messages.filter((m) => m.author.role !== "system").map((m) => [m.author.name, m.text])).toEqual([
      ["Visitor", "hello"],
      ["Bob", "A replies"],
    ]);
    expect(
      messages.map((m) => m.seq),
      "no seq was used up by a refused reply",
    ).toEqual(messages.map((_, i) => i + 1));
    expect((await env.ATTACHMENTS.list({ prefix: `conversations/${id}/` })).objects).toEqual([]);
    for (const s of [v, a, b]) s.close();
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
    const { admin, panel, session, v } = await adminWatchingVisitor();
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
