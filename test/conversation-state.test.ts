/**
 * The conversation object's own rules, pinned down where the routes cannot
 * reach them: the state every client is sent (status, visitor, online), and
 * the object's refusal of a call that names another conversation, another
 * workspace or another visitor than the one it holds. The Worker routes by
 * conversation id, so these refusals are the second line: each is called
 * here on the object directly, as a Worker bug would call it.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Message, ServerFrame, VisitorSession } from "../worker/protocol";
import {
  fetchApp,
  identify,
  join,
  identityHash,
  newVisitorSession,
  operatorSocket,
  say,
  signInAdmin,
  TestSocket,
  upgradeRaw,
  visitorSocket,
} from "./helpers";

const WORKSPACE = "demo";
const conversation = (id: string) => env.CONVERSATION.get(env.CONVERSATION.idFromName(id));

describe("the conversation's state as clients see it", () => {
  it("starts unassigned, names its visitor, and says whether the visitor is online as their socket opens and closes", async () => {
    const admin = await signInAdmin();
    const session = await newVisitorSession();
    const v = await visitorSocket(session);
    const mine = (await v.next("welcome")).state;
    expect(mine).toMatchObject({ id: session.conversationId, status: "unassigned", visitorOnline: true });
    expect(mine.visitor.id).toBe(session.visitorId);
    expect(Object.keys(mine.visitor), "an anonymous visitor carries no verified flag").not.toContain("verified");

    const op = await operatorSocket(admin, session.conversationId);
    const seen = (await op.next("welcome")).state;
    expect(seen.visitorOnline, "the visitor's socket is open").toBe(true);
    expect(seen.visitor.id).toBe(session.visitorId);

    v.close();
    const after = (await op.next("state")).state;
    expect(after.visitorOnline, "the visitor's only socket closed").toBe(false);

    // Back online: the operators hear it before the visitor's welcome.
    const again = await visitorSocket(session, 0);
    await again.next("welcome");
    expect((await op.next("state")).state.visitorOnline).toBe(true);
    again.close();
    op.close();
  });

  it("an operator clearing a verified visitor's name keeps the badge: the email shown is still the vouched one", async () => {
    const admin = await signInAdmin();
    const userId = `state-user-${crypto.randomUUID()}`;
    const anonymous = await newVisitorSession();
    const res = await identify({
      token: anonymous.token,
      user: { id: userId, name: "Kari", email: "kari@example.org", hash: await identityHash(userId) },
    });
    expect(res.status, await res.clone().text()).toBe(200);
    const session = (await res.json()) as VisitorSession;
    const v = await visitorSocket(session);
    expect((await v.next("welcome")).state.visitor).toMatchObject({ name: "Kari", verified: true });
    const cleared = await fetchApp(`/api/conversations/${session.conversationId}/visitor`, {
      method: "PATCH",
      headers: { Cookie: admin, "Content-Type": "application/json" },
      body: JSON.stringify({ name: null }),
    });
    expect(cleared.status, await cleared.clone().text()).toBe(200);
    const state = await conversation(session.conversationId).getState(session.conversationId, WORKSPACE);
    expect(state.ok && state.value.visitor).toEqual({
      id: session.visitorId,
      name: null,
      email: "kari@example.org",
      verified: true,
    });
    v.close();
  });
});

describe("live frames go only to sockets whose welcome went out", () => {
  it("a socket that has not said hello hears nothing live; its welcome then holds what was said meanwhile, once", async () => {
    const admin = await signInAdmin();
    const session = await newVisitorSession();
    const v = await visitorSocket(session);
    await v.next("welcome");
    const res = await upgradeRaw(`/ws/conversations/${session.conversationId}`, { Cookie: admin });
    expect(res.status).toBe(101);
    const op = new TestSocket<ServerFrame>(res.webSocket!);
    await say(v, "said before the operator's hello");
    // The pong comes after anything the object sent this socket before it.
    await op.roundTrip();
    expect(
      op.frames.map((f) => f.type),
      "nothing live before the hello",
    ).toEqual(["pong"]);

    op.send({ type: "hello", lastSeq: 0 });
    const welcome = await op.next("welcome");
    expect(welcome.messages.map((m) => m.text)).toEqual(["said before the operator's hello"]);
    await say(v, "said after");
    const live = await op.next("message");
    expect(live.message.text).toBe("said after");
    await op.roundTrip();
    const texts = op.frames.flatMap((f) => (f.type === "message" ? [f.message.text] : []));
    expect(texts, "each message once: the first in the welcome, the second live").toEqual(["said after"]);
    op.close();
    v.close();
  });
});

describe("the message log as clients get it", () => {
  const CHAT_TEXT = ["at", "author", "clientId", "kind", "seq", "text"];

  it("a chat text carries exactly its fields, live and from history", async () => {
    const admin = await signInAdmin();
    const session = await newVisitorSession();
    const v = await visitorSocket(session);
    await v.next("welcome");
    await say(v, "first");
    const op = await operatorSocket(admin, session.conversationId);
    await op.next("welcome");
    await say(v, "second", "second-id");
    const live = (await op.next("message")).message;
    expect(live).toMatchObject({ clientId: "second-id", kind: "text", text: "second" });
    expect(live.author).toEqual({ role: "visitor", id: session.visitorId, name: "Visitor" });
    expect(Object.keys(live).sort(), "live").toEqual(CHAT_TEXT);
    const res = await fetchApp(`/api/conversations/${session.conversationId}/messages`, { headers: { Cookie: admin } });
    const stored = ((await res.json()) as { messages: Message[] }).messages;
    expect(stored.map((m) => m.text)).toEqual(["first", "second"]);
    for (const m of stored) expect(Object.keys(m).sort(), `from history: ${JSON.stringify(m)}`).toEqual(CHAT_TEXT);
    op.close();
    v.close();
  });

  it("a page has more exactly when older messages are left", async () => {
    const session = await newVisitorSession();
    const v = await visitorSocket(session);
    await v.next("welcome");
    for (const text of ["one", "two", "three"]) await say(v, text);
    v.close();
    const stub = conversation(session.conversationId);
    const all = await stub.getMessages(session.conversationId, WORKSPACE, null, 3);
    expect(all.ok && all.value.hasMore, "three of three").toBe(false);
    const newest = await stub.getMessages(session.conversationId, WORKSPACE, null, 2);
    expect(newest.ok && newest.value.messages.map((m) => m.text)).toEqual(["two", "three"]);
    expect(newest.ok && newest.value.hasMore, "two of three").toBe(true);
    const older = await stub.getMessages(session.conversationId, WORKSPACE, 2, 1);
    expect(older.ok && [older.value.messages.map((m) => m.text), older.value.hasMore]).toEqual([["one"], false]);
  });
});

describe("a second hello starts over", () => {
  it("what an operator says while the visitor's second welcome is prepared reaches the visitor once", async () => {
    const admin = await signInAdmin();
    const session = await newVisitorSession();
    const v = await visitorSocket(session);
    await v.next("welcome");
    await say(v, "hi");
    await join(admin, session.conversationId);
    const op = await operatorSocket(admin, session.conversationId);
    await op.next("welcome");
    // The visitor's second hello asks the workspace who is available before its welcome; the reply lands meanwhile
    // or just before or after: whichever, it reaches the visitor exactly once, in the welcome or live after it.
    v.send({ type: "hello", lastSeq: 0 });
    op.send({ type: "send", clientId: "during-hello", text: "an answer" });
    await op.until("ack", (a) => a.clientId === "during-hello");
    await v.next("welcome");
    await v.roundTrip();
    const second = v.frames.findLastIndex((f) => f.type === "welcome");
    const heard = v.frames.slice(second).flatMap((f) => {
      if (f.type === "welcome") return f.messages.map((m) => m.clientId);
      return f.type === "message" ? [f.message.clientId] : [];
    });
    expect(
      heard.filter((id) => id === "during-hello"),
      JSON.stringify(v.frames.map((f) => f.type)),
    ).toHaveLength(1);
    op.close();
    v.close();
  });
});

describe("a conversation object refuses calls that name another conversation, workspace or visitor", () => {
  /** A conversation with one visitor message; the visitor's socket closed again. */
  async function existing(): Promise<VisitorSession> {
    const session = await newVisitorSession();
    const v = await visitorSocket(session);
    await v.next("welcome");
    await say(v, "hello");
    v.close();
    return session;
  }
  const unknown = { ok: false, code: "not_found", message: "Unknown conversation" };

  it("an operator call with the wrong id or workspace, or on an object never used, is an unknown conversation", async () => {
    const s = await existing();
    const stub = conversation(s.conversationId);
    expect(await stub.getState(s.conversationId, "another-workspace")).toEqual(unknown);
    expect(await stub.getState("another-conversation", WORKSPACE)).toEqual(unknown);
    expect(await stub.getMessages(s.conversationId, "another-workspace", null, 10)).toEqual(unknown);
    expect(await stub.visitorInfo("another-conversation", WORKSPACE)).toEqual(unknown);
    const ok = await stub.getState(s.conversationId, WORKSPACE);
    expect(ok.ok && ok.value.id).toBe(s.conversationId);

    const fresh = crypto.randomUUID();
    expect(await conversation(fresh).getState(fresh, WORKSPACE), "nothing was ever stored there").toEqual(unknown);
  });

  it("a visitor call from another visitor, or naming another conversation or workspace, is refused", async () => {
    const s = await existing();
    const stub = conversation(s.conversationId);
    expect(await stub.getVisitorMessages(s.conversationId, WORKSPACE, "someone-else", null, 10)).toEqual({
      ok: false,
      code: "forbidden",
      message: "Not your conversation",
    });
    const views = [{ id: "v1", url: "https://example.com/", title: "Home", at: Date.now(), ms: null }];
    const info = { ip: null, userAgent: null, geo: null };
    expect(await stub.recordPageViews(s.conversationId, WORKSPACE, "someone-else", views, null, info)).toEqual({
      ok: false,
      code: "forbidden",
      message: "Not your conversation",
    });
    expect(
      await stub.receiveEmail(
        s.conversationId,
        WORKSPACE,
        { id: "someone-else", name: null, email: "x@example.net" },
        "mail-1",
        "hi",
        {
          subject: "Hi",
          from: { name: "", address: "x@example.net" },
          to: "support@microchat.example",
          messageId: "<m1@example.net>",
        },
        "token",
      ),
    ).toEqual({ ok: false, code: "forbidden", message: "Not this visitor's conversation" });
    // First contact fixed the id and workspace: a later call naming others finds nothing.
    expect(
      await stub.setSiteIdentity("another-conversation", WORKSPACE, s.visitorId, {
        name: "X",
        email: null,
        verified: false,
      }),
    ).toEqual(unknown);
    expect(
      await stub.setSiteIdentity(s.conversationId, "another-workspace", s.visitorId, {
        name: "X",
        email: null,
        verified: false,
      }),
    ).toEqual(unknown);
    const mine = await stub.getVisitorMessages(s.conversationId, WORKSPACE, s.visitorId, null, 10);
    expect(mine.ok && mine.value.messages.map((m) => m.text)).toEqual(["hello"]);
  });

  it("erasing names the conversation too; once erased, a late first-contact call is told it was deleted", async () => {
    const s = await existing();
    const stub = conversation(s.conversationId);
    expect(await stub.erase("another-conversation", WORKSPACE)).toEqual(unknown);
    expect(await stub.erase(s.conversationId, "another-workspace")).toEqual(unknown);
    const still = await stub.getVisitorMessages(s.conversationId, WORKSPACE, s.visitorId, null, 10);
    expect(still.ok && still.value.messages.length, "a refused erase deleted nothing").toBe(1);

    expect(await stub.erase(s.conversationId, WORKSPACE)).toEqual({ ok: true, value: { files: 0 } });
    const views = [{ id: "late", url: "https://example.com/", title: "Home", at: Date.now(), ms: null }];
    expect(
      await stub.recordPageViews(s.conversationId, WORKSPACE, s.visitorId, views, null, {
        ip: null,
        userAgent: null,
        geo: null,
      }),
    ).toEqual({ ok: false, code: "deleted", message: "This conversation was deleted" });
  });
});

describe("the message log as stored", () => {
  it("a chat text is stored on the chat channel with no attachment row; a file adds exactly its own", async () => {
    const session = await newVisitorSession();
    const v = await visitorSocket(session);
    await v.next("welcome");
    await say(v, "plain words");
    const body = new FormData();
    body.set("file", new File([new TextEncoder().encode("%PDF-1.4\n%%EOF\n")], "a.pdf", { type: "application/pdf" }));
    body.set("clientId", "a-file");
    const upload = await fetchApp("/api/visitor/files", {
      method: "POST",
      headers: { Authorization: `Bearer ${session.token}` },
      body,
    });
    expect(upload.status, await upload.clone().text()).toBe(201);
    const fileMessage = await v.until("message", (f) => f.message.clientId === "a-file");
    const stored = await runInDurableObject(conversation(session.conversationId), (_o, state) => ({
      messages: state.storage.sql
        .exec<{ text: string; channel: string }>(
          "SELECT text, channel FROM messages WHERE kind != 'event' ORDER BY seq",
        )
        .toArray(),
      attachments: state.storage.sql
        .exec<{ file_id: string; seq: number }>("SELECT file_id, seq FROM attachments")
        .toArray(),
    }));
    expect(stored.messages.map((m) => m.channel)).toEqual(["chat", "chat"]);
    expect(stored.attachments).toEqual([{ file_id: fileMessage.message.file!.id, seq: fileMessage.message.seq }]);
    v.close();
  });
});
