/**
 * The Conversation object itself (worker/conversation/object.ts), rule by
 * rule, its RPC methods called directly as the Worker calls them, each test
 * on a conversation object of its own: what a call stores and answers where
 * the routes never reach (a file on the chat channel unless said, the
 * refusals of a file, a visitor's first contact, the page size's bounds,
 * what a resent mail answers), the alarm (used socket tickets cleared, the
 * alarm armed again for what is left), a workspace's word ending operator
 * sockets, a socket error logged, and the runtime's answer to a ping.
 * The object's own identity checks are pinned here too (leave, a visitor's
 * history and site identity naming another workspace, id or visitor), even
 * though the Worker checks the same first, and an operator's HTTP reply
 * reaching the visitor's open socket.
 * (`conversation-state.test.ts` and `access-rules.test.ts` pin the
 * refusals of a call naming another conversation, workspace or visitor.)
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Conversation } from "../worker/conversation/object";
import type { EmailMeta, FileRef } from "../worker/protocol";
import {
  conversationObject,
  fetchApp,
  framesSince,
  operatorSocket,
  ownConversation,
  say,
  signInAdmin,
  visitorWithMessage,
} from "./helpers";

afterEach(() => vi.restoreAllMocks());

const VISITOR = { role: "visitor" as const, id: "visitor-1", name: "Vera" };
const OPERATOR = { id: "operator-1", name: "Olga" };
const NOT_FOUND = { ok: false, code: "not_found", message: "Unknown conversation" };

const pdf = (id: string): FileRef => ({ id, name: `${id}.pdf`, size: 15, type: "application/pdf", image: false });

/** A conversation object and workspace of the test's own; nothing stored in it yet. */
const own = () => ownConversation("conv-object", VISITOR.id);

/** The stored messages' clientId, kind and channel, oldest first. */
const stored = (f: ReturnType<typeof own>) =>
  runInDurableObject(f.stub(), (_o, state) =>
    state.storage.sql
      .exec<{ client_id: string; kind: string; channel: string }>(
        "SELECT client_id, kind, channel FROM messages WHERE kind != 'event' ORDER BY seq",
      )
      .toArray()
      .map((m) => [m.client_id, m.kind, m.channel]),
  );

describe("files", () => {
  it("a visitor's first file starts the conversation; it is stored on the chat channel unless said, and served back", async () => {
    const f = own();
    const stub = f.stub();
    const first = await stub.attachFile(f.id, f.workspace, VISITOR, "file-1", pdf("f1"));
    expect(first).toMatchObject({ ok: true, value: { fresh: true, message: { clientId: "file-1", kind: "file" } } });
    expect(first.ok && first.value.message.file).toEqual(pdf("f1"));
    expect(await stub.attachFile(f.id, f.workspace, VISITOR, "file-2", pdf("f2"), "chat")).toMatchObject({ ok: true });
    expect(await stored(f)).toEqual([
      ["file-1", "file", "chat"],
      ["file-2", "file", "chat"],
    ]);
    expect(await stub.getFile(f.id, f.workspace, "f1")).toEqual({ ok: true, value: pdf("f1") });
    expect(await stub.getFile(f.id, f.workspace, "f3")).toEqual({
      ok: false,
      code: "not_found",
      message: "No such file",
    });
    expect(await stub.getFile(f.id, "another-workspace", "f1")).toEqual(NOT_FOUND);
  });

  it("is refused from another visitor, from an operator before anyone wrote, and by email to a visitor with no address", async () => {
    const f = own();
    const stub = f.stub();
    const operator = { role: "operator" as const, ...OPERATOR };
    expect(await stub.attachFile(f.id, f.workspace, operator, "op-file", pdf("f0"))).toEqual(NOT_FOUND);
    expect(await stub.getState(f.id, f.workspace), "an operator's file started nothing").toEqual(NOT_FOUND);
    await stub.attachFile(f.id, f.workspace, VISITOR, "file-1", pdf("f1"));
    const other = { role: "visitor" as const, id: "visitor-2", name: "Otto" };
    expect(await stub.attachFile(f.id, f.workspace, other, "file-2", pdf("f2"))).toEqual({
      ok: false,
      code: "forbidden",
      message: "Not your conversation",
    });
    expect(await stub.attachFile(f.id, f.workspace, VISITOR, "file-3", pdf("f3"), "email")).toEqual({
      ok: false,
      code: "no_email",
      message: "This visitor has not given an email address",
    });
    expect(await stored(f)).toEqual([["file-1", "file", "chat"]]);
  });
});

describe("an operator's message over HTTP", () => {
  it("goes on the chat channel with no email needed; on the email channel only once the visitor has an address", async () => {
    const f = own();
    const stub = f.stub();
    await stub.attachFile(f.id, f.workspace, VISITOR, "file-1", pdf("f1"));
    expect(await stub.join(f.id, f.workspace, OPERATOR)).toMatchObject({ ok: true });
    const who = { role: "operator" as const, ...OPERATOR };
    expect(await stub.sendAsOperator(f.id, f.workspace, who, "chat-1", "Hello", "chat")).toMatchObject({
      ok: true,
      value: { fresh: true, message: { clientId: "chat-1", text: "Hello" } },
    });
    expect(await stub.sendAsOperator(f.id, f.workspace, who, "mail-1", "Hello by mail", "email")).toEqual({
      ok: false,
      code: "no_email",
      message: "This visitor has not given an email address",
    });
    expect(await stub.sendAsOperator(f.id, "another-workspace", who, "chat-2", "Hi", "chat")).toEqual(NOT_FOUND);
    expect(await stored(f)).toEqual([
      ["file-1", "file", "chat"],
      ["chat-1", "text", "chat"],
    ]);
  });

  it("reaches the visitor's open socket once stored; a resend of the same clientId is not delivered twice", async () => {
    const admin = await signInAdmin();
    const me = (await (await fetchApp("/api/auth/me", { headers: { Cookie: admin } })).json()) as {
      operator: { id: string; name: string };
    };
    const { session, v } = await visitorWithMessage("hello");
    const stub = conversationObject(session.conversationId);
    expect(await stub.join(session.conversationId, "demo", me.operator)).toMatchObject({ ok: true });
    const who = { role: "operator" as const, ...me.operator };
    const sent = await stub.sendAsOperator(session.conversationId, "demo", who, "http-1", "Hi from HTTP", "chat");
    expect(sent).toMatchObject({ ok: true, value: { fresh: true } });
    const frame = await v.until("message", (f) => f.message.clientId === "http-1");
    expect([frame.message.text, frame.message.author.role]).toEqual(["Hi from HTTP", "operator"]);
    const from = v.frames.length;
    const again = await stub.sendAsOperator(session.conversationId, "demo", who, "http-1", "Hi from HTTP", "chat");
    expect(again).toMatchObject({ ok: true, value: { fresh: false } });
    await say(v, "after the resend");
    const later = (await framesSince(v, from)).filter((f) => f.type === "message");
    expect(
      later.map((f) => f.message.clientId),
      "the resend was broadcast again",
    ).not.toContain("http-1");
    v.close();
  });
});

describe("a resend of a clientId", () => {
  it("is answered with the stored message; it takes no number and stores no file, so the next message follows on", async () => {
    const f = own();
    const stub = f.stub();
    const first = await stub.attachFile(f.id, f.workspace, VISITOR, "c1", pdf("f1"));
    const again = await stub.attachFile(f.id, f.workspace, VISITOR, "c1", pdf("f-again"));
    expect(again).toEqual({ ok: true, value: { fresh: false, message: first.ok && first.value.message } });
    expect(await stub.getFile(f.id, f.workspace, "f-again")).toMatchObject({ ok: false, code: "not_found" });
    const next = await stub.attachFile(f.id, f.workspace, VISITOR, "c2", pdf("f2"));
    expect(next.ok && next.value.message.seq).toBe(2);
    expect(await stored(f)).toEqual([
      ["c1", "file", "chat"],
      ["c2", "file", "chat"],
    ]);
  });

  it("by someone else is refused, joined or not; an operator's own resend is answered even after they left", async () => {
    const f = own();
    const stub = f.stub();
    const op = { role: "operator" as const, ...OPERATOR };
    const used = { ok: false, code: "bad_frame", message: "clientId already used" };
    await stub.attachFile(f.id, f.workspace, VISITOR, "c1", pdf("f1"));
    expect(await stub.sendAsOperator(f.id, f.workspace, op, "c1", "Mine now", "chat"), "not joined").toEqual(used);
    await stub.join(f.id, f.workspace, OPERATOR);
    expect(await stub.sendAsOperator(f.id, f.workspace, op, "c1", "Mine now", "chat"), "joined").toEqual(used);
    const reply = await stub.sendAsOperator(f.id, f.workspace, op, "o1", "Hello", "chat");
    await stub.leave(f.id, f.workspace, OPERATOR.id, "https://chat.example");
    expect(await stub.sendAsOperator(f.id, f.workspace, op, "o1", "Hello", "chat")).toEqual({
      ok: true,
      value: { fresh: false, message: reply.ok && reply.value.message },
    });
    expect(await stub.sendAsOperator(f.id, f.workspace, op, "o2", "Again", "chat")).toEqual({
      ok: false,
      code: "forbidden",
      message: "Join the conversation to reply",
    });
    expect((await stored(f)).map(([id]) => id)).toEqual(["c1", "o1"]);
  });
});

describe("a call naming another workspace or visitor changes nothing", () => {
  it("leave and join with another workspace are an unknown conversation; the operator stays joined", async () => {
    const f = own();
    const stub = f.stub();
    await stub.attachFile(f.id, f.workspace, VISITOR, "file-1", pdf("f1"));
    expect(await stub.join(f.id, "another-workspace", OPERATOR)).toEqual(NOT_FOUND);
    expect(await stub.join(f.id, f.workspace, OPERATOR)).toMatchObject({ ok: true });
    expect(await stub.leave(f.id, "another-workspace", OPERATOR.id, "https://chat.example")).toEqual(NOT_FOUND);
    expect(await stub.leave("another-conversation", f.workspace, OPERATOR.id, "https://chat.example")).toEqual(
      NOT_FOUND,
    );
    const state = await stub.getState(f.id, f.workspace);
    expect(state.ok && [state.value.status, state.value.operators.map((o) => o.id)]).toEqual([
      "assigned",
      [OPERATOR.id],
    ]);
  });

  it("a visitor's history asked with another workspace or id is an unknown conversation, not their messages", async () => {
    const f = own();
    const stub = f.stub();
    await stub.attachFile(f.id, f.workspace, VISITOR, "file-1", pdf("f1"));
    expect(await stub.getVisitorMessages(f.id, "another-workspace", VISITOR.id, null, 10)).toEqual(NOT_FOUND);
    expect(await stub.getVisitorMessages("another-conversation", f.workspace, VISITOR.id, null, 10)).toEqual(NOT_FOUND);
    const mine = await stub.getVisitorMessages(f.id, f.workspace, VISITOR.id, null, 10);
    expect(mine.ok && mine.value.messages.map((m) => m.clientId)).toEqual(["file-1"]);
  });

  it("another visitor cannot set the site identity, nor an operator naming another workspace correct it; name and email stay", async () => {
    const f = own();
    const stub = f.stub();
    await stub.attachFile(f.id, f.workspace, VISITOR, "file-1", pdf("f1"));
    const mine = { name: "Kari", email: "kari@example.org", verified: false };
    expect(await stub.setSiteIdentity(f.id, f.workspace, VISITOR.id, mine)).toEqual({ ok: true, value: null });
    const theirs = { name: "Mallory", email: "mallory@example.net", verified: false };
    expect(await stub.setSiteIdentity(f.id, f.workspace, "visitor-2", theirs)).toEqual({
      ok: false,
      code: "forbidden",
      message: "Not your conversation",
    });
    expect(
      await stub.updateVisitor(f.id, "another-workspace", { name: "Mallory" }),
      "an operator's correction",
    ).toEqual(NOT_FOUND);
    const state = await stub.getState(f.id, f.workspace);
    expect(state.ok && state.value.visitor).toMatchObject({ id: VISITOR.id, name: "Kari", email: "kari@example.org" });
  });
});

describe("a visitor's own history and page views", () => {
  it("before the first contact the history is empty and nothing is stored; after it, a page is at least one message", async () => {
    const f = own();
    const stub = f.stub();
    expect(await stub.getVisitorMessages(f.id, f.workspace, VISITOR.id, null, 10)).toEqual({
      ok: true,
      value: { messages: [], hasMore: false },
    });
    expect(await stub.getState(f.id, f.workspace), "asking started nothing").toEqual(NOT_FOUND);
    for (const n of [1, 2, 3]) await stub.attachFile(f.id, f.workspace, VISITOR, `file-${n}`, pdf(`f${n}`));
    const texts = (r: Awaited<ReturnType<typeof stub.getMessages>>) =>
      r.ok ? [r.value.messages.map((m) => m.clientId), r.value.hasMore] : r;
    expect({
      zero: texts(await stub.getMessages(f.id, f.workspace, null, 0)),
      negative: texts(await stub.getMessages(f.id, f.workspace, null, -5)),
      two: texts(await stub.getMessages(f.id, f.workspace, null, 2)),
      visitorZero: texts(await stub.getVisitorMessages(f.id, f.workspace, VISITOR.id, null, 0)),
      visitorBefore: texts(await stub.getVisitorMessages(f.id, f.workspace, VISITOR.id, 2, 10)),
    }).toEqual({
      zero: [["file-3"], true],
      negative: [["file-3"], true],
      two: [["file-2", "file-3"], true],
      visitorZero: [["file-3"], true],
      visitorBefore: [["file-1"], false],
    });
  });

  it("page views answer how many were sent, and a visitor's site identity answers null and names them", async () => {
    const f = own();
    const stub = f.stub();
    const info = { ip: null, userAgent: null, geo: null };
    const at = Date.now();
    const views = [
      { id: "pv-1", url: "https://shop.example/", title: "Home", at, ms: null },
      { id: "pv-2", url: "https://shop.example/cart", title: "Cart", at: at + 1, ms: null },
    ];
    expect(await stub.recordPageViews(f.id, f.workspace, VISITOR.id, views, null, info)).toEqual({
      ok: true,
      value: 2,
    });
    expect(
      await stub.setSiteIdentity(f.id, f.workspace, VISITOR.id, {
        name: "Kari",
        email: "kari@example.org",
        verified: false,
      }),
    ).toEqual({ ok: true, value: null });
    const state = await stub.getState(f.id, f.workspace);
    expect(state.ok && state.value.visitor).toMatchObject({ id: VISITOR.id, name: "Kari", email: "kari@example.org" });
  });
});

describe("an inbound mail", () => {
  it("answers its seq and that it is new; the same mail again answers the same seq, not new", async () => {
    const f = own();
    const stub = f.stub();
    const meta: EmailMeta = {
      subject: "Question",
      from: { name: "Vera", address: "vera@example.org" },
      to: "support@microchat.example",
      messageId: "<q1@example.org>",
    };
    const sender = { id: VISITOR.id, name: "Vera", email: "vera@example.org" };
    const first = await stub.receiveEmail(f.id, f.workspace, sender, "email:q1", "Hello?", meta, "thread-token");
    expect(first).toEqual({ ok: true, value: { seq: expect.any(Number) as number, fresh: true } });
    const again = await stub.receiveEmail(f.id, f.workspace, sender, "email:q1", "Hello?", meta, "thread-token");
    expect(again).toEqual({ ok: true, value: { seq: first.ok && first.value.seq, fresh: false } });
    expect(await stored(f)).toEqual([["email:q1", "text", "email"]]);
  });
});

describe("revoking a visitor token family", () => {
  it("naming the conversation's own id but another workspace is an unknown conversation, and revokes nothing", async () => {
    const f = own();
    const stub = f.stub();
    await stub.attachFile(f.id, f.workspace, VISITOR, "file-1", pdf("f1"));
    expect(await stub.revokeVisitor(f.id, "another-workspace", "family-1")).toEqual(NOT_FOUND);
    expect(await stub.admitVisitor(f.id, f.workspace, VISITOR.id, "family-1")).toEqual({ ok: true, value: null });
    expect(await stub.revokeVisitor(f.id, f.workspace, "family-1")).toEqual({ ok: true, value: null });
    expect(await stub.admitVisitor(f.id, f.workspace, VISITOR.id, "family-1")).toMatchObject({
      ok: false,
      code: "unauthorized",
    });
  });
});

describe("the alarm", () => {
  it("clears the used socket tickets that expired before now, not those expiring now or later", async () => {
    const f = own();
    const T = 4_000_000_000_000;
    vi.spyOn(Date, "now").mockImplementation(() => T);
    await f.in((c, state) => {
      for (const [nonce, at] of [
        ["past", T - 1],
        ["now", T],
        ["later", T + 1],
      ] as const)
        c.sql.exec("INSERT INTO used_tickets (nonce, expires_at) VALUES (?, ?)", nonce, at);
      return state.storage.setAlarm(T);
    });
    expect(await runDurableObjectAlarm(f.stub())).toBe(true);
    const left = await f.in((c) =>
      c.sql
        .exec<{ nonce: string }>("SELECT nonce FROM used_tickets ORDER BY expires_at")
        .toArray()
        .map((r) => r.nonce),
    );
    expect(left).toEqual(["now", "later"]);
  });

  it("once it has fired, it is armed again for what is left to do (a revoked family's expiry)", async () => {
    const id = `conv-object-alarm-${crypto.randomUUID()}`;
    const stub = conversationObject(id);
    expect(await stub.revokeVisitor(id, "any-workspace", "family-1")).toEqual({ ok: true, value: null });
    const alarm = () => runInDurableObject(stub, (_o, state) => state.storage.getAlarm());
    const armed = await alarm();
    expect(armed, "revoking arms the alarm").not.toBeNull();
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await alarm(), "armed again for the family's expiry").toBe(armed);
  });
});

describe("the workspace ends an operator's sockets", () => {
  it("of one session or of all of theirs, with the reason given; the visitor's socket stays", async () => {
    const admin = await signInAdmin();
    const me = (await (await fetchApp("/api/auth/me", { headers: { Cookie: admin } })).json()) as {
      operator: { id: string };
    };
    const { session, v } = await visitorWithMessage("hello");
    const stub = conversationObject(session.conversationId);
    const op = await operatorSocket(admin, session.conversationId);
    await op.next("welcome");
    await stub.endOperatorSockets(me.operator.id, "not-this-session", "signedOut");
    await op.roundTrip();
    expect(op.closed, "another session's end closed it").toBe(false);
    await stub.endOperatorSockets("another-operator", null, "signedOut");
    await op.roundTrip();
    expect(op.closed, "another operator's end closed it").toBe(false);
    await stub.endOperatorSockets(me.operator.id, null, "removed");
    await op.closedByServer("the operator's socket");
    expect([op.closeCode, op.closeReason]).toEqual([4003, "Operator removed"]);
    await say(v, "still here");
    v.close();
  });
});

describe("a socket error", () => {
  it("is logged as socket.error with the conversation's id and the error", async () => {
    const f = own();
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    await f.in(() => null); // first contact: the object knows its id
    await runInDurableObject(f.stub(), async (o) => {
      const [socket] = Object.values(new WebSocketPair());
      await (o as unknown as Conversation).webSocketError(socket!, new Error("connection reset"));
    });
    const lines = warn.mock.calls.map((c) => c[0] as Record<string, unknown>);
    expect(lines.filter((l) => l.error === "Error: connection reset")).toEqual([
      expect.objectContaining({ event: "socket.error", conversationId: f.id, error: "Error: connection reset" }),
    ]);
  });
});

describe("the runtime answers a socket's ping", () => {
  it("with a pong, without the object: the pair is set, and a visitor's ping is answered and stamped", async () => {
    const { session, v } = await visitorWithMessage("hello");
    await v.roundTrip();
    const seen = await runInDurableObject(conversationObject(session.conversationId), (_o, state) => {
      const pair = state.getWebSocketAutoResponse();
      const [socket] = state.getWebSockets("visitor");
      return {
        request: pair?.request,
        response: pair?.response,
        stamped: socket ? state.getWebSocketAutoResponseTimestamp(socket) !== null : "no visitor socket",
      };
    });
    expect(seen).toEqual({ request: '{"type":"ping"}', response: '{"type":"pong"}', stamped: true });
    expect(
      v.frames.filter((f) => f.type === "error"),
      "the ping reached the object",
    ).toEqual([]);
    v.close();
  });
});
