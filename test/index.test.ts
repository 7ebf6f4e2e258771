import { env, evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  adminWatchingVisitor,
  fetchApp,
  indexRow,
  join,
  newVisitorSession,
  operatorSocket,
  panelSocket,
  say,
  signInAdmin,
  visitorSocket,
} from "./helpers";
import type { ConversationSummary } from "../worker/protocol";

/** The panel's next upsert of `conversationId` that shows `preview`. */
function upsertWithPreview(panel: Awaited<ReturnType<typeof panelSocket>>, conversationId: string, preview: string) {
  return panel.until(
    "upsert",
    (f) => f.conversation.id === conversationId && f.conversation.preview === preview,
    30_000,
  );
}

describe("conversation index", () => {
  it("coalesces previews: a burst of chat messages costs the workspace a few calls, not one per message", async () => {
    const { panel, session, v } = await adminWatchingVisitor();
    // 20 messages: a visitor's whole burst allowance (see rate limits).
    for (let i = 1; i <= 20; i++) await say(v, `burst ${i}`);
    // Every report the workspace accepts is broadcast to the panel as one upsert.
    let reports = 0;
    const last = await panel.until(
      "upsert",
      (f) => f.conversation.id === session.conversationId && (reports++, f.conversation.preview === "burst 20"),
      8000,
    );
    expect(last.conversation.unread).toBe(20);
    // The first message (the conversation enters Unassigned) goes at once; the rest ride on a few coalesced reports.
    expect(reports).toBeGreaterThanOrEqual(2);
    expect(reports).toBeLessThanOrEqual(5);
    v.close();
    panel.close();
  });

  it("a report a crashed conversation did not get to send is sent by its alarm", async () => {
    const session = await newVisitorSession();
    const v = await visitorSocket(session);
    await v.next("welcome");
    await say(v, "first"); // enters Unassigned: reported at once
    await say(v, "second"); // within the coalescing window: waits on an in-memory timer
    const conversation = () => env.CONVERSATION.get(env.CONVERSATION.idFromName(session.conversationId));
    // The instance dies (as on a crash or a deploy) and its timer with it.
    await runInDurableObject(conversation(), (_o, state) => state.abort("crash")).catch(() => undefined);
    const workspace = env.WORKSPACE.get(env.WORKSPACE.idFromName("demo"));
    const preview = () =>
      runInDurableObject(workspace, (_o, state) =>
        state.storage.sql
          .exec<{ preview: string; unread: number }>(
            "SELECT preview, unread FROM conversations WHERE id = ?",
            session.conversationId,
          )
          .one(),
      );
    await indexRow(session.conversationId, (r) => r.preview === "first");
    // The backstop alarm is due within 45 s (30 s and up to half of it more, drawn; sooner than anything else the
    // conversation has armed).
    const due = await runInDurableObject(conversation(), (_o, state) => state.storage.getAlarm());
    expect(due).not.toBeNull();
    expect(due!).toBeLessThanOrEqual(Date.now() + 45_000);
    expect(await runDurableObjectAlarm(conversation())).toBe(true);
    expect(await preview()).toEqual({ preview: "second", unread: 2 });
    v.close();
  });

  it("a state change's backstop is taken back once its report went out; a preview after a quiet spell is reported at once and arms no alarm", async () => {
    const { panel, session, v } = await adminWatchingVisitor();
    const conversation = () => env.CONVERSATION.get(env.CONVERSATION.idFromName(session.conversationId));
    const alarm = () => runInDurableObject(conversation(), (_o, state) => state.storage.getAlarm());
    await say(v, "first"); // enters Unassigned: a state change
    await upsertWithPreview(panel, session.conversationId, "first");
    // The conversation hears the workspace's answer after the panel does.
    const end = Date.now() + 10_000;
    while ((await alarm()) !== null) {
      if (Date.now() > end) throw new Error(`the backstop was not taken back; the alarm is at ${await alarm()}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    // The conversation quiet for longer than any reporting window.
    await runInDurableObject(conversation(), async (o) => {
      const c = (o as unknown as { c: { memory: { report: { lastAt: number } } } }).c;
      c.memory.report.lastAt = 0;
    });
    await say(v, "after a quiet spell");
    await upsertWithPreview(panel, session.conversationId, "after a quiet spell");
    expect(await alarm(), "no alarm for a preview that went at once").toBeNull();
    v.close();
    panel.close();
  });

  it("the backstop of a conversation evicted after its report costs the workspace nothing and tells the panels nothing", async () => {
    const { panel, session, v } = await adminWatchingVisitor();
    const id = session.conversationId;
    const conversation = () => env.CONVERSATION.get(env.CONVERSATION.idFromName(id));
    const workspace = env.WORKSPACE.get(env.WORKSPACE.idFromName("demo"));
    const version = () =>
      runInDurableObject(
        workspace,
        (_o, state) =>
          state.storage.sql.exec<{ v: number }>("SELECT version AS v FROM index_versions WHERE id = ?", id).one().v,
      );
    const mark = () =>
      runInDurableObject(conversation(), (_o, state) =>
        state.storage.sql
          .exec<{ value: string }>("SELECT value FROM meta WHERE key = 'report_pending'")
          .toArray()
          .map((r) => r.value),
      );
    await say(v, "only this"); // enters Unassigned: reported at once, and the backstop armed
    await upsertWithPreview(panel, id, "only this");
    // The conversation hears the workspace's answer after the panel does: wait for the report to be done with.
    const end = Date.now() + 10_000;
    while ((await mark())[0] !== "0") {
      if (Date.now() > end) throw new Error(`the report's mark was not cleared; saw ${JSON.stringify(await mark())}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    const reported = await version();
    // Hibernation: the instance goes (here before it took its backstop back) and with it what it knew of its
    // reports; its storage says nothing waits.
    await runInDurableObject(conversation(), (_o, state) => state.storage.setAlarm(Date.now() + 60_000));
    await evictDurableObject(conversation());
    expect(await runDurableObjectAlarm(conversation())).toBe(true);
    expect(await version(), "no report reached the workspace").toBe(reported);
    // The next thing the panel hears of this conversation is a real change, not the repeat.
    await say(v, "a change");
    const next = await panel.until("upsert", (f) => f.conversation.id === session.conversationId);
    expect(next.conversation, "the panel's next upsert after the backstop").toMatchObject({
      id: session.conversationId,
      preview: "a change",
    });
    v.close();
    panel.close();
  });

  it("a report that changes nothing in the row takes its version and its figures but is not broadcast", async () => {
    const admin = await signInAdmin();
    const ws = env.WORKSPACE.get(env.WORKSPACE.idFromName("demo"));
    const at = Date.now() - 86_400_000 * 500;
    const id = `same${"q".repeat(20)}`;
    const summary = (version: number, preview: string): ConversationSummary & { version: number } => ({
      id,
      status: "assigned",
      visitor: { id: "v-same", name: "Sam", email: null },
      operators: [{ id: "op-same", name: "Ola" }],
      preview,
      previewRole: "visitor",
      lastAt: at,
      unread: 1,
      createdAt: at,
      version,
    });
    await ws.upsertConversation(summary(1, "A"));
    const panel = await panelSocket(admin);
    await panel.next("index");
    // Version 3 says what version 1 said: not broadcast, but its version is held and its figures counted...
    const operatorId = `op-same-${Date.now()}`;
    const sent = (value: number) => [{ kind: "message" as const, operatorId, at, value }];
    expect((await ws.upsertConversation(summary(3, "A"), sent(2))).version).toBe(3);
    // ...so version 2, late, is older and applies nothing but its figures.
    expect((await ws.upsertConversation(summary(2, "B"), sent(3))).version).toBe(3);
    const counted = await runInDurableObject(ws, (_o, state) =>
      state.storage.sql
        .exec<{ n: number }>("SELECT SUM(messages) AS n FROM operator_daily WHERE operator_id = ?", operatorId)
        .one(),
    );
    expect(counted.n, "messages counted from the repeat and the late report").toBe(5);
    await ws.upsertConversation(summary(4, "C"));
    const next = await panel.until("upsert", (f) => f.conversation.id === id);
    expect(next.conversation, "the panel's first upsert after version 1").toMatchObject({ id, preview: "C" });
    // A change of any one column the row shows is broadcast.
    let version = 5;
    let current = summary(4, "C");
    const changes: Partial<ConversationSummary>[] = [
      { status: "unassigned" },
      { visitor: { id: "v-same", name: "Samira", email: null } },
      { visitor: { id: "v-same", name: "Samira", email: "sam@example.com" } },
      { operators: [] },
      { preview: "D" },
      { previewRole: "operator" },
      { lastAt: at + 1 },
      { unread: 0 },
    ];
    for (const change of changes) {
      current = { ...current, ...change, version: version++ };
      await ws.upsertConversation(current);
      const heard = await panel.until("upsert", (f) => f.conversation.id === id);
      expect(heard.conversation, `the upsert after changing ${JSON.stringify(change)}`).toMatchObject({
        id,
        ...change,
      });
    }
    panel.close();
  });

  it("a conversation whose clock runs behind the index's version catches up instead of being ignored", async () => {
    const admin = await signInAdmin();
    const session = await newVisitorSession();
    const v = await visitorSocket(session);
    await v.next("welcome");
    await say(v, "hello");
    await indexRow(session.conversationId, (r) => r.preview === "hello");
    const workspace = env.WORKSPACE.get(env.WORKSPACE.idFromName("demo"));
    // As if an earlier instance on a machine with a fast clock had reported far in the future.
    const ahead = Date.now() * 1000 + 3_600_000_000;
    await runInDurableObject(workspace, (_o, state) => {
      state.storage.sql.exec("UPDATE index_versions SET version = ? WHERE id = ?", ahead, session.conversationId);
    });
    const panel = await panelSocket(admin);
    await panel.next("index");
    await say(v, "after the clock jump");
    const up = await upsertWithPreview(panel, session.conversationId, "after the clock jump");
    expect(up.conversation.unread).toBe(2);
    const version = await runInDurableObject(
      workspace,
      (_o, state) =>
        state.storage.sql
          .exec<{ version: number }>("SELECT version FROM index_versions WHERE id = ?", session.conversationId)
          .one().version,
    );
    expect(version).toBeGreaterThan(ahead);
    v.close();
    panel.close();
  });

  it("the reporting window widens with the number of conversations active at once; a waiting one keeps a second", async () => {
    // A workspace of its own, so no other test's conversations count as active.
    const ws = env.WORKSPACE.get(env.WORKSPACE.idFromName("window-test"));
    const report = (id: string, version: number, status: "assigned" | "unassigned" = "assigned") =>
      ws.upsertConversation({
        id,
        status,
        visitor: { id: `v-${id}`, name: null, email: null },
        operators: status === "assigned" ? [{ id: "op-1", name: "Ada" }] : [],
        preview: "hi",
        previewRole: "visitor",
        lastAt: Date.now(),
        unread: 1,
        createdAt: Date.now(),
        version,
      });
    const first = await report("c-0", 1);
    expect(first.windowMs).toBe(1000);
    let last = first;
    for (let i = 1; i < 100; i++) last = await report(`c-${i}`, 1);
    // 100 active conversations at 20 reports/s: each waits 5 s between reports.
    expect(last.windowMs).toBe(5000);
    // 700 active at 20 reports/s would wait 35 s: the window stops at 30 s.
    for (let i = 100; i < 700; i++) last = await report(`c-${i}`, 1);
    expect(last.windowMs).toBe(30_000);
    // A report from a known conversation is answered the same way, also when it is stale.
    const stale = await report("c-5", 0);
    expect(stale.version).toBe(1);
    expect(stale.windowMs).toBe(30_000);
    // A visitor waiting in Unassigned is not held back by the load: their next messages report within a second.
    const waiting = await report("c-waiting", 1, "unassigned");
    expect(waiting.windowMs).toBe(1000);
    const answered = await report("c-waiting", 2);
    expect(answered.windowMs, "joined, it paces like the others").toBe(30_000);
  }, 180_000); // 700 reports: a budget for a loaded machine, not a wait

  it("an operator's reply clears the unread count and updates the preview", async () => {
    const { admin, panel, session, v } = await adminWatchingVisitor();
    await say(v, "one");
    await say(v, "two");
    await join(admin, session.conversationId);
    const op = await operatorSocket(admin, session.conversationId);
    await op.next("welcome");
    await say(op, "answer");
    const up = await upsertWithPreview(panel, session.conversationId, "answer");
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
    // Mine pages the same way: only conversations this operator joined.
    for (const id of ids.slice(0, 2)) await join(admin, id);
    panel.send({ type: "more", view: "mine", beforeLastAt: Date.now() + 60_000, limit: 1 });
    const mine = await panel.next("page");
    expect(mine.view).toBe("mine");
    expect(mine.conversations).toHaveLength(1);
    expect(mine.conversations[0]!.operators.map((o) => o.name)).toContain("Ada Admin");
    expect(mine.hasMore).toBe(true);
    panel.sendRaw("nope");
    expect((await panel.next("error")).code).toBe("bad_json");
    panel.send({ type: "explode" });
    expect((await panel.next("error")).code).toBe("unknown_type");
    panel.close();
  });

  it("Unassigned beyond 200 rows: the true waiting count, the rest a page at a time, the count kept live", async () => {
    const admin = await signInAdmin();
    const ws = env.WORKSPACE.get(env.WORKSPACE.idFromName("demo"));
    const at = Date.now() - 86_400_000 * 300;
    const ids = Array.from({ length: 230 }, (_, i) => `w${String(i).padStart(3, "0")}${"y".repeat(18)}`);
    const summary = (id: string, status: "unassigned" | "assigned", version: number) => ({
      id,
      status,
      visitor: { id: `v-${id}`, name: null, email: null },
      operators: [],
      preview: "waiting",
      previewRole: "visitor" as const,
      lastAt: at + ids.indexOf(id),
      unread: 1,
      createdAt: at,
      version,
    });
    for (const id of ids) await ws.upsertConversation(summary(id, "unassigned", 1));

    const panel = await panelSocket(admin);
    const index = await panel.next("index");
    expect(index.unassigned).toHaveLength(200);
    expect(index.unassignedHasMore).toBe(true);
    expect(index.waiting).toBeGreaterThanOrEqual(230);
    // Page through the rest of Unassigned: every waiting conversation once, in order.
    const seen = index.unassigned.map((c) => c.id);
    let cursor = index.unassigned.at(-1)!;
    let hasMore = index.unassignedHasMore;
    while (hasMore) {
      panel.send({ type: "more", view: "unassigned", beforeLastAt: cursor.lastAt, beforeId: cursor.id, limit: 50 });
      const page = await panel.next("page");
      expect(page.view).toBe("unassigned");
      expect(page.conversations.every((c) => c.status === "unassigned")).toBe(true);
      seen.push(...page.conversations.map((c) => c.id));
      cursor = page.conversations.at(-1) ?? cursor;
      hasMore = page.hasMore;
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toHaveLength(index.waiting);
    expect(seen).toEqual(expect.arrayContaining(ids));

    // A conversation leaves Unassigned: every panel hears the new count.
    await ws.upsertConversation(summary(ids[0]!, "assigned", 2));
    expect((await panel.next("waiting")).waiting).toBe(index.waiting - 1);
    // One is deleted while waiting: the count follows.
    await ws.forgetConversation(ids[1]!);
    expect((await panel.next("waiting")).waiting).toBe(index.waiting - 2);
    // After the workspace object was evicted (the panel's socket hibernated with it), the count still follows.
    await evictDurableObject(ws);
    await ws.upsertConversation(summary(ids[2]!, "assigned", 2));
    expect((await panel.next("waiting")).waiting).toBe(index.waiting - 3);
    // A stale report of the first one changes nothing.
    await ws.upsertConversation(summary(ids[0]!, "unassigned", 1));
    // A panel that connects now counts the same.
    const second = await panelSocket(admin);
    expect((await second.next("index")).waiting).toBe(index.waiting - 3);

    panel.send({ type: "more", view: "everything", beforeLastAt: Date.now() });
    expect((await panel.next("error")).code).toBe("bad_frame");
    for (const id of ids.slice(2)) await ws.forgetConversation(id);
    await panel.until("waiting", (f) => f.waiting === index.waiting - 230, 30_000);
    second.close();
    panel.close();
  }, 180_000); // 700 reports: a budget for a loaded machine, not a wait

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
