import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  fetchApp,
  join,
  newVisitorSession,
  operatorSocket,
  panelSocket,
  say,
  signInAdmin,
  visitorSocket,
} from "./helpers";

describe("conversation index", () => {
  it("coalesces previews: a burst of chat messages costs the workspace a few calls, not one per message", async () => {
    const admin = await signInAdmin();
    const panel = await panelSocket(admin);
    await panel.next("index");
    const session = await newVisitorSession();
    const v = await visitorSocket(session);
    await v.next("welcome");
    // 20 messages: a visitor's whole burst allowance (see rate limits).
    for (let i = 1; i <= 20; i++) await say(v, `burst ${i}`);
    const last = await panel.until(
      "upsert",
      (f) => f.conversation.id === session.conversationId && f.conversation.preview === "burst 20",
      8000,
    );
    expect(last.conversation.unread).toBe(20);
    const workspace = env.WORKSPACE.get(env.WORKSPACE.idFromName("demo"));
    const version = await runInDurableObject(
      workspace,
      (_o, state) =>
        state.storage.sql
          .exec<{ version: number }>("SELECT version FROM index_versions WHERE id = ?", session.conversationId)
          .one().version,
    );
    expect(version).toBeLessThanOrEqual(5);
    v.close();
    panel.close();
  });

  it("an operator's reply clears the unread count and updates the preview", async () => {
    const admin = await signInAdmin();
    const panel = await panelSocket(admin);
    await panel.next("index");
    const session = await newVisitorSession();
    const v = await visitorSocket(session);
    await v.next("welcome");
    await say(v, "one");
    await say(v, "two");
    await join(admin, session.conversationId);
    const op = await operatorSocket(admin, session.conversationId);
    await op.next("welcome");
    await say(op, "answer");
    const up = await panel.until(
      "upsert",
      (f) => f.conversation.id === session.conversationId && f.conversation.preview === "answer",
      8000,
    );
    expect(up.conversation.unread).toBe(0);
    expect(up.conversation.previewRole).toBe("operator");
    v.close();
    op.close();
    panel.close();
  });

  it("the panel's first frame lists Unassigned, Mine and All", async () => {
    const admin = await signInAdmin();
    const a = await newVisitorSession();
    const b = await newVisitorSession();
    for (const s of [a, b]) {
      const v = await visitorSocket(s);
      await v.next("welcome");
      await say(v, "hi");
      v.close();
    }
    await join(admin, b.conversationId);
    const panel = await panelSocket(admin);
    const index = await panel.next("index");
    expect(index.unassigned.map((c) => c.id)).toContain(a.conversationId);
    expect(index.unassigned.map((c) => c.id)).not.toContain(b.conversationId);
    expect(index.mine.map((c) => c.id)).toContain(b.conversationId);
    expect(index.all.map((c) => c.id)).toEqual(expect.arrayContaining([a.conversationId, b.conversationId]));
    expect(index.operators.find((o) => o.name === "Ada Admin")?.online).toBe(true);
    panel.close();
  });

  it("the panel pages through All with `more`, and answers bad panel frames with an error", async () => {
    const admin = await signInAdmin();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const s = await newVisitorSession();
      const v = await visitorSocket(s);
      await v.next("welcome");
      await say(v, `page test ${i}`);
      v.close();
      ids.push(s.conversationId);
    }
    const panel = await panelSocket(admin);
    const index = await panel.next("index");
    const newest = index.all.find((c) => c.id === ids[2])!;
    panel.send({ type: "more", beforeLastAt: newest.lastAt, limit: 1 });
    const page = await panel.next("page");
    expect(page.conversations).toHaveLength(1);
    expect(page.conversations[0]!.lastAt).toBeLessThan(newest.lastAt);
    expect(page.hasMore).toBe(true);
    panel.sendRaw("nope");
    expect((await panel.next("error")).code).toBe("bad_json");
    panel.send({ type: "explode" });
    expect((await panel.next("error")).code).toBe("unknown_type");
    panel.close();
  });

  it("paging never skips or repeats conversations that share the same lastAt", async () => {
    const admin = await signInAdmin();
    const ws = env.WORKSPACE.get(env.WORKSPACE.idFromName("demo"));
    const at = Date.now() - 86_400_000 * 400; // older than anything else in the index
    const ids = Array.from({ length: 7 }, (_, i) => `tie${String(i).padStart(2, "0")}${"x".repeat(17)}`);
    for (const id of ids) {
      await ws.upsertConversation({
        id,
        status: "idle",
        visitor: { id: "v", name: null, email: null },
        operators: [],
        preview: "",
        previewRole: "visitor",
        lastAt: at,
        unread: 0,
        createdAt: at,
        version: 1,
      });
    }
    const seen: string[] = [];
    let cursor = `&before=${at + 1}`;
    for (;;) {
      const res = await fetchApp(`/api/conversations?view=all&limit=3${cursor}`, { headers: { Cookie: admin } });
      const page = (await res.json()) as { conversations: { id: string; lastAt: number }[]; hasMore: boolean };
      seen.push(...page.conversations.filter((c) => c.lastAt === at).map((c) => c.id));
      if (!page.hasMore || page.conversations.length === 0) break;
      const last = page.conversations.at(-1)!;
      cursor = `&before=${last.lastAt}&beforeId=${last.id}`;
    }
    expect(seen).toEqual([...ids].sort().reverse());
  });
});
