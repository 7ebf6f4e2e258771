/**
 * A socket is only as good as what it was opened with. Written as the
 * attack: an operator keeps a conversation open in a tab, is removed (or
 * signs out), and goes on reading and writing over the socket they hold.
 */
import { env, evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Message, ServerFrame } from "../worker/protocol";
import {
  ageSessionWord,
  fetchApp,
  join,
  json,
  newOperator,
  newVisitorSession,
  operatorSocket,
  panelSocket,
  say,
  signInAdmin,
  visitorSocket,
  type TestSocket,
} from "./helpers";

const workspace = () => env.WORKSPACE.get(env.WORKSPACE.idFromName("demo"));
const conversation = (id: string) => env.CONVERSATION.get(env.CONVERSATION.idFromName(id));

async function storedTexts(admin: string, id: string): Promise<string[]> {
  const res = await fetchApp(`/api/conversations/${id}/messages?limit=200`, { headers: { Cookie: admin } });
  return ((await res.json()) as { messages: Message[] }).messages.map((m) => m.text);
}

/** A visitor's conversation with operator `cookie` joined and watching it over a socket. */
async function watched(cookie: string) {
  const session = await newVisitorSession();
  const visitor = await visitorSocket(session);
  await visitor.next("welcome");
  await say(visitor, "hello, is anyone there?");
  expect((await join(cookie, session.conversationId)).status).toBe(200);
  const op = await operatorSocket(cookie, session.conversationId);
  await op.next("welcome");
  return { session, visitor, op };
}

/** What a socket says after it was closed: the close, and every message frame it got. */
function seen(s: TestSocket<ServerFrame>) {
  return {
    closed: s.closed,
    code: s.closeCode,
    reason: s.closeReason,
    messages: s.frames.flatMap((f) => (f.type === "message" ? [f.message.text] : [])),
  };
}

async function logIn(email: string, password: string): Promise<string> {
  const res = await fetchApp("/api/auth/login", json({ email, password }));
  expect(res.status, "sign-in").toBe(200);
  return /mc_session=([^;]+)/.exec(res.headers.get("Set-Cookie") ?? "")![0];
}

describe("a removed operator loses their sockets", () => {
  it("removing B closes B's conversation socket and panel at once; nothing B sends after is stored", async () => {
    const admin = await signInAdmin();
    const b = await newOperator(admin, "Bea Removed");
    const { session, visitor, op } = await watched(b.cookie);
    const panel = await panelSocket(b.cookie);
    await panel.next("index");

    const removed = await fetchApp(`/api/operators/${b.id}`, { method: "DELETE", headers: { Cookie: admin } });
    expect(removed.status).toBe(204);
    await op.closedByServer("the operator socket");
    await panel.closedByServer("the panel");
    expect(seen(op), "B's conversation socket").toMatchObject({ code: 4003, reason: "Operator removed" });
    expect(panel.closeCode, "B's panel").toBe(4003);

    // The visitor writes on: B's socket is closed, so B reads none of it.
    await say(visitor, "my card number is 4111 1111 1111 1111");
    expect(seen(op).messages, "what B's socket received").not.toContain("my card number is 4111 1111 1111 1111");
    // B cannot open a new one either.
    const again = await fetchApp(`/ws/conversations/${session.conversationId}`, {
      headers: { Upgrade: "websocket", Origin: "http://microchat.test", Cookie: b.cookie },
    });
    expect(again.status, "a new socket with B's cookie").toBe(401);
    expect(await storedTexts(admin, session.conversationId)).toEqual([
      "hello, is anyone there?",
      expect.stringContaining("joined"),
      "my card number is 4111 1111 1111 1111",
    ]);
    visitor.close();
  });

  it("should the word of the removal be lost, B's next send is refused and not stored", async () => {
    const admin = await signInAdmin();
    const b = await newOperator(admin, "Bea Lost Word");
    const { session, visitor, op } = await watched(b.cookie);
    await say(op, "before the removal");

    // The removal as storage sees it, without the workspace telling the conversation (a lost notification).
    await runInDurableObject(workspace(), (_o, state) => {
      state.storage.sql.exec("DELETE FROM sessions WHERE operator_id = ?", b.id);
      state.storage.sql.exec("DELETE FROM operators WHERE id = ?", b.id);
    });
    // The conversation's instance restarts, and its last word that B's session holds is older than it trusts.
    await evictDurableObject(conversation(session.conversationId));
    expect(await ageSessionWord(session.conversationId, 120_000), "B's sockets").toBe(1);

    const clientId = crypto.randomUUID();
    op.send({ type: "send", clientId, text: "sent after the removal" });
    await op.closedByServer("the operator socket");
    expect(seen(op), "B's socket after the send").toMatchObject({ code: 4001, reason: "Signed out" });
    expect(
      op.frames.filter((f) => f.type === "ack" && f.clientId === clientId),
      "acks of the late send",
    ).toEqual([]);
    expect(await storedTexts(admin, session.conversationId)).not.toContain("sent after the removal");
    visitor.close();
  });

  it("should the workspace go before telling the conversation, its alarm tells it, and B's socket closes", async () => {
    const admin = await signInAdmin();
    const b = await newOperator(admin, "Bea Outbox");
    const { session, visitor, op } = await watched(b.cookie);
    // The removal as the workspace leaves it when its instance goes right after the removal: the word in its outbox.
    await runInDurableObject(workspace(), async (_o, state) => {
      const sql = state.storage.sql;
      sql.exec("DELETE FROM sessions WHERE operator_id = ?", b.id);
      sql.exec("DELETE FROM operators WHERE id = ?", b.id);
      sql.exec("DELETE FROM operator_sockets WHERE operator_id = ?", b.id);
      sql.exec(
        "INSERT INTO socket_ends (conversation_id, operator_id, session_id, why, next_at, until) VALUES (?, ?, NULL, 'removed', ?, ?)",
        session.conversationId,
        b.id,
        Date.now() - 1,
        Date.now() + 3600_000,
      );
      await state.storage.setAlarm(Date.now() + 60_000);
    });
    expect(await runDurableObjectAlarm(workspace())).toBe(true);
    await op.closedByServer("the operator socket");
    expect(seen(op), "B's socket").toMatchObject({ code: 4003, reason: "Operator removed" });
    const left = await runInDurableObject(workspace(), (_o, state) =>
      state.storage.sql.exec("SELECT COUNT(*) AS n FROM socket_ends").one(),
    );
    expect(left.n, "words left in the outbox").toBe(0);
    visitor.close();
  });

  it("should the word be lost, a socket that only listens is closed as the next message goes out", async () => {
    const admin = await signInAdmin();
    const b = await newOperator(admin, "Bea Listening");
    const { session, visitor, op } = await watched(b.cookie);
    await runInDurableObject(workspace(), (_o, state) => {
      state.storage.sql.exec("DELETE FROM sessions WHERE operator_id = ?", b.id);
      state.storage.sql.exec("DELETE FROM operators WHERE id = ?", b.id);
    });
    await evictDurableObject(conversation(session.conversationId));
    expect(await ageSessionWord(session.conversationId, 60_000), "B's sockets").toBe(1);

    // B sends nothing; the visitor writes on.
    await say(visitor, "first line after the removal");
    await op.closedByServer("the listening operator socket");
    expect(op.closeCode).toBe(4001);
    await say(visitor, "second line after the removal");
    expect(seen(op).messages, "what B's socket received").not.toContain("second line after the removal");
    visitor.close();
  });
});

describe("signing out ends that session's sockets, and only that session's", () => {
  it("after logout, the session's conversation socket and panel close (4001); another session of B works on", async () => {
    const admin = await signInAdmin();
    const email = `bea.twice.${Date.now()}@example.com`;
    const password = "operator password 123";
    const add = await fetchApp("/api/operators", json({ name: "Bea Twice", email, password }, { Cookie: admin }));
    expect(add.status).toBe(201);
    const laptop = await logIn(email, password);
    const phone = await logIn(email, password);
    const { session, visitor, op } = await watched(laptop);
    const panel = await panelSocket(laptop);
    await panel.next("index");
    const onPhone = await operatorSocket(phone, session.conversationId);
    await onPhone.next("welcome");

    const out = await fetchApp("/api/auth/logout", { method: "POST", headers: { Cookie: laptop } });
    expect(out.status).toBe(204);
    await op.closedByServer("the operator socket");
    await panel.closedByServer("the panel");
    expect(seen(op), "the signed-out session's conversation socket").toMatchObject({
      code: 4001,
      reason: "Signed out",
    });
    expect(panel.closeCode, "the signed-out session's panel").toBe(4001);

    // The phone's session is untouched: it reads the visitor and its sends are stored.
    await say(visitor, "still there?");
    await onPhone.until("message", (f) => f.message.text === "still there?");
    await say(onPhone, "yes, from my phone");
    expect(seen(op).messages).not.toContain("still there?");
    expect(await storedTexts(admin, session.conversationId)).toContain("yes, from my phone");
    visitor.close();
    onPhone.close();
  });

  it("sign out everywhere, by an admin, closes every session's conversation sockets and panels (4001)", async () => {
    const admin = await signInAdmin();
    const email = `bea.everywhere.${Date.now()}@example.com`;
    const password = "operator password 123";
    const add = await fetchApp("/api/operators", json({ name: "Bea Everywhere", email, password }, { Cookie: admin }));
    expect(add.status).toBe(201);
    const { operator } = (await add.json()) as { operator: { id: string } };
    const laptop = await logIn(email, password);
    const phone = await logIn(email, password);
    const { session, visitor, op } = await watched(laptop);
    const onPhone = await operatorSocket(phone, session.conversationId);
    await onPhone.next("welcome");
    const panel = await panelSocket(phone);
    await panel.next("index");

    const out = await fetchApp(`/api/operators/${operator.id}/sessions`, {
      method: "DELETE",
      headers: { Cookie: admin },
    });
    expect(out.status, await out.clone().text()).toBe(200);
    for (const [name, socket] of [
      ["the laptop's conversation socket", op],
      ["the phone's conversation socket", onPhone],
      ["the phone's panel", panel],
    ] as const) {
      await socket.closedByServer(name);
      expect(socket.closeCode, name).toBe(4001);
    }
    await say(visitor, "are you still reading this?");
    expect(seen(op).messages).not.toContain("are you still reading this?");
    expect(seen(onPhone).messages).not.toContain("are you still reading this?");
    visitor.close();
  });

  it("a session that expired while its socket was open is refused on the next frame", async () => {
    const admin = await signInAdmin();
    const b = await newOperator(admin, "Bea Expired");
    const { session, visitor, op } = await watched(b.cookie);
    await runInDurableObject(workspace(), (_o, state) => {
      state.storage.sql.exec("UPDATE sessions SET expires_at = ? WHERE operator_id = ?", Date.now() - 1, b.id);
    });
    await evictDurableObject(conversation(session.conversationId));
    // The socket's own grant still runs (it is the session's expiry as it was): the workspace's word, once old, decides.
    expect(await ageSessionWord(session.conversationId, 120_000), "B's sockets").toBe(1);
    op.send({ type: "send", clientId: crypto.randomUUID(), text: "after my session expired" });
    await op.closedByServer("the operator socket");
    expect(seen(op).code).toBe(4001);
    expect(await storedTexts(admin, session.conversationId)).not.toContain("after my session expired");
    visitor.close();
  });

  it("a panel whose session ran out by time is closed as the next change goes out", async () => {
    const admin = await signInAdmin();
    const b = await newOperator(admin, "Bea Lapsed");
    const panel = await panelSocket(b.cookie);
    await panel.next("index");
    await runInDurableObject(workspace(), (_o, state) => {
      state.storage.sql.exec("UPDATE sessions SET expires_at = ? WHERE operator_id = ?", Date.now() - 1, b.id);
    });
    // A fresh instance of the workspace (its once-a-minute look starts over), then a change for the panels.
    await evictDurableObject(workspace());
    const visitor = await visitorSocket(await newVisitorSession());
    await visitor.next("welcome");
    await say(visitor, "a new conversation for the panels");
    await panel.closedByServer("the lapsed session's panel");
    expect({ code: panel.closeCode, reason: panel.closeReason }).toEqual({ code: 4001, reason: "Session expired" });
    visitor.close();
  });
});
