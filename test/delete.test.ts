import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../worker/index";
import type { ConversationSummary, VisitorSession } from "../worker/protocol";
import {
  adminWatchingVisitor,
  fetchApp,
  identityHash,
  inboundMail,
  json,
  newOperator,
  newVisitorSession,
  say,
  signInAdmin,
  visitorSocket,
} from "./helpers";

const PNG = Uint8Array.from(
  atob("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="),
  (c) => c.charCodeAt(0),
);

async function objects(conversationId: string): Promise<number> {
  return (await env.ATTACHMENTS.list({ prefix: `conversations/${conversationId}/` })).objects.length;
}

function mail(from: string, subject: string, messageId: string): ForwardableEmailMessage {
  const raw = `From: ${from}\r\nTo: support@microchat.example\r\nSubject: ${subject}\r\nMessage-ID: ${messageId}\r\n\r\nHello\r\n`;
  return inboundMail(raw, from).message;
}

async function all(cookie: string): Promise<ConversationSummary[]> {
  const res = await fetchApp("/api/conversations?view=all&limit=200", { headers: { Cookie: cookie } });
  return ((await res.json()) as { conversations: ConversationSummary[] }).conversations;
}

describe("deleting conversations", () => {
  it("deletion removes every trace (messages, files, index) and refuses afterwards; the visitor starts fresh", async () => {
    const { admin, panel, session, v } = await adminWatchingVisitor();
    await say(v, "please forget me");
    const form = new FormData();
    form.set("file", new File([PNG], "me.png"));
    form.set("clientId", "del-file");
    await fetchApp("/api/visitor/files", {
      method: "POST",
      headers: { Authorization: `Bearer ${session.token}` },
      body: form,
    });
    expect(await objects(session.conversationId)).toBe(1);
    await panel.until("upsert", (f) => f.conversation.id === session.conversationId);

    const res = await fetchApp(`/api/conversations/${session.conversationId}`, {
      method: "DELETE",
      headers: { Cookie: admin },
    });
    expect(res.status).toBe(204);
    expect(await v.next("error")).toMatchObject({ code: "deleted", message: "This conversation was deleted" });
    await v.closedByServer("the deleted conversation's visitor socket");
    expect([v.closeCode, v.closeReason]).toEqual([4004, "Conversation deleted"]);
    await panel.until("remove", (f) => f.id === session.conversationId);

    expect(await objects(session.conversationId)).toBe(0);
    expect((await all(admin)).map((c) => c.id)).not.toContain(session.conversationId);
    const stub = env.CONVERSATION.get(env.CONVERSATION.idFromName(session.conversationId));
    const left = await runInDurableObject(stub, (_o, state) => ({
      messages: state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM messages").one().n,
      meta: state.storage.sql
        .exec<{ key: string }>("SELECT key FROM meta ORDER BY key")
        .toArray()
        .map((r) => r.key),
    }));
    expect(left).toEqual({ messages: 0, meta: ["deleted", "id", "workspace"] });

    // Refused afterwards, for operators and for the old visitor identity.
    expect(
      (await fetchApp(`/api/conversations/${session.conversationId}/messages`, { headers: { Cookie: admin } })).status,
    ).toBe(404);
    expect(
      (await fetchApp(`/api/conversations/${session.conversationId}`, { method: "DELETE", headers: { Cookie: admin } }))
        .status,
    ).toBe(404);
    const ticket = await fetchApp("/api/visitor/ticket", {
      method: "POST",
      headers: { Authorization: `Bearer ${session.token}` },
    });
    expect(ticket.status).toBe(410);

    panel.close();
  });

  it("the same person (a verified user) gets a fresh, empty conversation after a deletion, on any device", async () => {
    const admin = await signInAdmin();
    const userId = `deleted-user-${crypto.randomUUID()}`;
    const user = { id: userId, name: "Kari", hash: await identityHash(userId) };
    const identify = async (token?: string) => {
      const res = await fetchApp("/api/visitor/identify", json({ siteKey: "demo", token, user }));
      expect(res.status, await res.clone().text()).toBe(200);
      return (await res.json()) as VisitorSession & { verified: boolean };
    };
    const before = await identify((await newVisitorSession()).token);
    expect(before.verified).toBe(true);
    const v = await visitorSocket(before);
    await v.next("welcome");
    await say(v, "please forget me");
    // Before the deletion another device of the same user finds this conversation ...
    expect((await identify()).conversationId).toBe(before.conversationId);
    const res = await fetchApp(`/api/conversations/${before.conversationId}`, {
      method: "DELETE",
      headers: { Cookie: admin },
    });
    expect(res.status).toBe(204);
    expect((await v.next("error")).code).toBe("deleted");
    // The deletion unbinds the user at once (identify would also recover from a lost unbinding).
    const workspace = env.WORKSPACE.get(env.WORKSPACE.idFromName(env.WORKSPACE_ID));
    const bound = await runInDurableObject(workspace, (_o, state) =>
      state.storage.sql
        .exec<{ id: string }>("SELECT conversation_id AS id FROM verified_users WHERE user_id = ?", userId)
        .toArray(),
    );
    expect(bound, "the user's binding after the deletion").toEqual([]);
    // ... after it, the same user (on this device or another) gets a new, empty one.
    for (const token of [before.token, undefined]) {
      const after = await identify(token);
      expect(after.conversationId, "a new conversation, not the deleted one").not.toBe(before.conversationId);
      const v2 = await visitorSocket(after);
      const welcome = await v2.next("welcome");
      expect(welcome.messages).toEqual([]);
      expect(welcome.state.visitor).toMatchObject({ name: "Kari", verified: true });
      v2.close();
    }
  });

  it("deleting a conversation with more than 1,000 files removes every one (R2 lists 1,000 at a time)", async () => {
    const admin = await signInAdmin();
    const session = await newVisitorSession();
    const v = await visitorSocket(session);
    await v.next("welcome");
    await say(v, "many files");
    const prefix = `conversations/${session.conversationId}/`;
    // As many stored files as 2 list pages and a bit: written to R2 directly, as uploads would leave them.
    const FILES = 2_050;
    for (let i = 0; i < FILES; i += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, j) => env.ATTACHMENTS.put(`${prefix}f${i + j}`, PNG)));
    }
    const count = async () => {
      let n = 0;
      let cursor: string | undefined;
      do {
        const page = await env.ATTACHMENTS.list({ prefix, cursor, limit: 1000 });
        n += page.objects.length;
        cursor = page.truncated ? page.cursor : undefined;
      } while (cursor);
      return n;
    };
    expect(await count()).toBe(FILES);
    const res = await fetchApp(`/api/conversations/${session.conversationId}`, {
      method: "DELETE",
      headers: { Cookie: admin },
    });
    expect(res.status).toBe(204);
    expect(await count(), "files left after the deletion").toBe(0);
    v.close();
  }, 180_000); // 2,050 R2 writes: a budget for a loaded machine, not a wait

  it("a late email for a deleted conversation starts a new one instead of resurrecting it", async () => {
    const admin = await signInAdmin();
    const sender = `late.${Date.now()}@example.org`;
    const first = `<first.${Date.now()}@example.org>`;
    await worker.email(mail(sender, "Hello", first), env);
    const [c] = (await all(admin)).filter((x) => x.visitor.email === sender);
    expect(
      (await fetchApp(`/api/conversations/${c!.id}`, { method: "DELETE", headers: { Cookie: admin } })).status,
    ).toBe(204);
    const reply = mail(sender, "Re: Hello", `<second.${Date.now()}@example.org>`);
    await worker.email(reply, env);
    const now = (await all(admin)).filter((x) => x.visitor.email === sender);
    expect(now).toHaveLength(1);
    expect(now[0]!.id).not.toBe(c!.id);
    const msgs = await fetchApp(`/api/conversations/${now[0]!.id}/messages`, { headers: { Cookie: admin } });
    expect(((await msgs.json()) as { messages: unknown[] }).messages).toHaveLength(1);
  });

  it("an admin erases everything for one email address; other people are untouched; non-admins cannot", async () => {
    const admin = await signInAdmin();
    const bob = await newOperator(admin, "Bob");
    const sender = `erase.${Date.now()}@example.org`;
    await worker.email(mail(sender, "One", `<e1.${Date.now()}@example.org>`), env);
    await worker.email(mail(sender, "Two", `<e2.${Date.now()}@example.org>`), env);
    const other = await newVisitorSession();
    const v = await visitorSocket(other);
    await v.next("welcome");
    await say(v, "keep me");
    v.close();
    expect((await all(admin)).filter((x) => x.visitor.email === sender)).toHaveLength(2);

    expect((await fetchApp("/api/erasure", json({ email: sender }, { Cookie: bob.cookie }))).status).toBe(403);
    const res = await fetchApp("/api/erasure", json({ email: sender.toUpperCase() }, { Cookie: admin }));
    expect(await res.json()).toEqual({ deleted: 2 });
    const after = await all(admin);
    expect(after.filter((x) => x.visitor.email === sender)).toEqual([]);
    expect(after.map((x) => x.id)).toContain(other.conversationId);
    expect((await fetchApp("/api/erasure", json({}, { Cookie: admin }))).status).toBe(400);
  });

  it("deleting needs a session and a real conversation", async () => {
    const admin = await signInAdmin();
    expect((await fetchApp("/api/conversations/AAAAAAAAAAAAAAAAAAAAAA", { method: "DELETE" })).status).toBe(401);
    expect(
      (await fetchApp("/api/conversations/AAAAAAAAAAAAAAAAAAAAAA", { method: "DELETE", headers: { Cookie: admin } }))
        .status,
    ).toBe(404);
  });
});
