/**
 * The conversation index (worker/workspace/conversation-index.ts), rule by
 * rule, on the module a fresh workspace object built for itself (its real
 * storage, its real panels, webhooks, reports, email threads and verified
 * users), called directly with the clock set by the test: what a report
 * stores and answers, which reports lose to a newer one, what rides along
 * (figures, messages for webhooks), the waiting count and the frames every
 * open panel hears, who is notified and why, what forgetting a conversation
 * removes, and the lists: Unassigned, Mine, All and "assigned", their order,
 * cursor, ties and page sizes. The panels here are real sockets opened
 * through the object's own fetch. (`index.test.ts`, `presence.test.ts` and
 * `delete.test.ts` drive the same rules through conversations and routes.)
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import type { Env } from "../worker/env";
import { sha256 } from "../worker/lib/crypto";
import type { ConversationSummary, Message, OperatorRef, PanelServerFrame } from "../worker/protocol";
import type { WorkspaceContext } from "../worker/workspace/context";
import { ConversationIndex } from "../worker/workspace/conversation-index";
import type { EmailThreads } from "../worker/workspace/email-threads";
import type { PanelSockets } from "../worker/workspace/panel-sockets";
import type { OperatorStat, Reports } from "../worker/workspace/reports";
import type { VerifiedUsers } from "../worker/workspace/verified-users";
import type { Webhooks } from "../worker/workspace/webhooks";
import { freshWorkspace, summaryOf, TestSocket, type WorkspaceObject, framesSince } from "./helpers";

const T0 = 1_700_000_000_000;
const DAY = 24 * 3600 * 1000;
/** The clock the module sees inside `inIndex` (set it before the call). */
let now = T0;

/** The modules of the workspace object that the index works with. */
interface Modules {
  index: ConversationIndex;
  panels: PanelSockets;
  webhooks: Webhooks;
  reports: Reports;
  threads: EmailThreads;
  verified: VerifiedUsers;
}

/**
 * Runs `fn` inside workspace `ws` with its own conversation index and the
 * modules beside it, the clock at `now`. `fn` must be synchronous (the clock
 * is put back when it returns).
 */
function inIndex<T>(ws: WorkspaceObject, fn: (m: Modules, w: WorkspaceContext) => T): Promise<T> {
  return runInDurableObject(ws, (o, state) => {
    const spy = vi.spyOn(Date, "now").mockImplementation(() => now);
    try {
      return fn(o as unknown as Modules, { sql: state.storage.sql, ctx: state, env: env as Env });
    } finally {
      spy.mockRestore();
    }
  });
}

/** An index of the same workspace that has counted nothing yet (as after a wake from hibernation). */
const freshIndex = (m: Modules, w: WorkspaceContext) =>
  new ConversationIndex(w, {
    panels: m.panels,
    webhooks: m.webhooks,
    reports: m.reports,
    threads: m.threads,
    verified: m.verified,
  });

interface Op {
  id: string;
  name: string;
  sessionId: string;
}

/** A fresh workspace with Ada (admin) and Bo, each with a session; Bo away when told. */
async function workspace(boAway = false): Promise<{ ws: WorkspaceObject; ada: Op; bo: Op }> {
  now = T0;
  const ws = freshWorkspace("index-rules");
  const setup = await ws.setup({ name: "Ada", email: "ada@example.com", passwordHash: "hash-ada" });
  if (!setup.ok) throw new Error(`setup refused: ${setup.message}`);
  const added = await ws.addOperator(setup.value.operator, {
    name: "Bo",
    email: "bo@example.com",
    passwordHash: "hash-bo",
    admin: false,
  });
  if (!added.ok) throw new Error(`adding Bo refused: ${added.message}`);
  const boToken = await ws.createSession(added.value.id);
  if (boAway) await ws.setStatus(added.value.id, "away");
  return {
    ws,
    ada: { id: setup.value.operator.id, name: "Ada", sessionId: await sha256(setup.value.token) },
    bo: { id: added.value.id, name: "Bo", sessionId: await sha256(boToken) },
  };
}

/** A panel of `op` opened through the object's fetch, as the Worker forwards it; its first frames consumed. */
async function openPanel(ws: WorkspaceObject, op: Op): Promise<TestSocket<PanelServerFrame>> {
  const res = await ws.fetch(
    new Request("http://workspace/panel", {
      headers: {
        Upgrade: "websocket",
        "X-Microchat-Actor-Id": op.id,
        "X-Microchat-Grant": `session:${op.sessionId}`,
        "X-Microchat-Grant-Until": String(Date.now() + DAY),
      },
    }),
  );
  if (res.status !== 101 || !res.webSocket) throw new Error(`panel refused: ${res.status} ${await res.text()}`);
  const panel = new TestSocket<PanelServerFrame>(res.webSocket);
  await panel.next("index");
  await panel.next("presence");
  return panel;
}

const ref = (op: Op): OperatorRef => ({ id: op.id, name: op.name });

/** A conversation's summary: unassigned, a visitor's message, at T0, unless told otherwise. */
function sum(id: string, more: Partial<ConversationSummary> = {}): ConversationSummary {
  return summaryOf(id, T0, T0, more);
}

const v = (s: ConversationSummary, version: number) => ({ ...s, version });

/** The row the index must hold for summary `s`. */
const rowOf = (s: ConversationSummary) => ({
  id: s.id,
  status: s.status,
  visitor_id: s.visitor.id,
  visitor_name: s.visitor.name,
  visitor_email: s.visitor.email,
  operators: JSON.stringify(s.operators),
  preview: s.preview,
  preview_role: s.previewRole,
  last_at: s.lastAt,
  unread: s.unread,
  created_at: s.createdAt,
});

const rows = (w: WorkspaceContext) => w.sql.exec("SELECT * FROM conversations ORDER BY id").toArray();
const assignments = (w: WorkspaceContext) =>
  w.sql
    .exec("SELECT conversation_id, operator_id FROM assignments ORDER BY conversation_id, operator_id")
    .toArray()
    .map((r) => `${r.conversation_id as string}:${r.operator_id as string}`);
const versions = (w: WorkspaceContext) => w.sql.exec("SELECT id, version FROM index_versions ORDER BY id").toArray();

/** The queued webhook deliveries in the order queued, payload parsed. */
function deliveries(w: WorkspaceContext) {
  return w.sql
    .exec<{ id: string; webhook_id: string; event: string; payload: string }>(
      "SELECT id, webhook_id, event, payload FROM webhook_deliveries ORDER BY rowid",
    )
    .toArray()
    .map((r) => ({ id: r.id, webhook: r.webhook_id, event: r.event, payload: JSON.parse(r.payload) as unknown }));
}

/** What a delivery of `event` with `data`, queued at `at`, must look like (its id is its own). */
const delivery = (webhook: string, event: string, at: number, data: unknown) => ({
  id: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
  webhook,
  event,
  payload: { id: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/), event, createdAt: at, data },
});

const message = (seq: number, at: number): Message => ({
  seq,
  clientId: `m-${seq}`,
  kind: "text",
  author: { role: "visitor", id: "v-c1", name: "Visitor" },
  text: `message ${seq}`,
  at,
});

describe("a report", () => {
  it("a first report stores the summary, its version and its assignments, tells the panels, and answers", async () => {
    const { ws, ada, bo } = await workspace();
    const panel = await openPanel(ws, ada);
    const mark = panel.frames.length;
    const c1 = sum("c1", {
      status: "assigned",
      visitor: { id: "visitor-1", name: "Vera", email: "vera@example.com" },
      operators: [ref(ada), ref(bo)],
      preview: "On it",
      previewRole: "operator",
      lastAt: T0 + 5,
      unread: 3,
      createdAt: T0 - 7,
    });
    const seen = await inIndex(ws, ({ index }, w) => ({
      answer: index.report(v(c1, 7), [], []),
      rows: rows(w),
      assignments: assignments(w),
      versions: versions(w),
    }));
    expect(seen.answer).toEqual({ version: 7, messages: false, since: null, windowMs: 1000 });
    expect(seen.rows).toEqual([rowOf(c1)]);
    expect(seen.assignments).toEqual([`c1:${ada.id}`, `c1:${bo.id}`].sort());
    expect(seen.versions).toEqual([{ id: "c1", version: 7 }]);
    expect(await framesSince(panel, mark), "an assigned conversation: its upsert, no count, no notice").toEqual([
      { type: "upsert", conversation: c1 },
    ]);
    panel.close();
  });

  it("a newer version replaces all but the visitor id and creation time; an equal or older one changes nothing", async () => {
    const { ws, ada, bo } = await workspace();
    const panel = await openPanel(ws, ada);
    const mark = panel.frames.length;
    const first = sum("c1", { status: "assigned", operators: [ref(ada)], unread: 2, lastAt: T0 + 10 });
    const stale = sum("c1", { status: "idle", preview: "stale", lastAt: T0 + 99 });
    const newer = sum("c1", {
      status: "assigned",
      visitor: { id: "another-visitor", name: "Vera", email: "vera@example.com" },
      operators: [ref(bo)],
      preview: "newer",
      previewRole: "operator",
      lastAt: T0 + 20,
      unread: 0,
      createdAt: T0 + 1000,
    });
    const seen = await inIndex(ws, ({ index }, w) => {
      const a5 = index.report(v(first, 5), [], []);
      const equal = index.report(v(stale, 5), [], []);
      const older = index.report(v(stale, 4), [], []);
      const afterStale = { rows: rows(w), assignments: assignments(w), versions: versions(w) };
      const a6 = index.report(v(newer, 6), [], []);
      return { a5, equal, older, afterStale, a6, rows: rows(w), assignments: assignments(w), versions: versions(w) };
    });
    const answer = (version: number) => ({ version, messages: false, since: null, windowMs: 1000 });
    expect([seen.a5, seen.equal, seen.older, seen.a6]).toEqual([answer(5), answer(5), answer(5), answer(6)]);
    expect(seen.afterStale, "after the version-5 and version-4 reports that lost").toEqual({
      rows: [rowOf(first)],
      assignments: [`c1:${ada.id}`],
      versions: [{ id: "c1", version: 5 }],
    });
    expect(seen.rows).toEqual([{ ...rowOf(newer), visitor_id: "v-c1", created_at: T0 }]);
    expect(seen.assignments).toEqual([`c1:${bo.id}`]);
    expect(seen.versions).toEqual([{ id: "c1", version: 6 }]);
    expect(await framesSince(panel, mark), "the stale reports are not broadcast").toEqual([
      { type: "upsert", conversation: first },
      { type: "upsert", conversation: newer },
    ]);
    panel.close();
  });

  it("assignments follow the operators: replaced when they change, gone when none are left, others untouched", async () => {
    const { ws, ada, bo } = await workspace();
    const seen = await inIndex(ws, ({ index }, w) => {
      const steps: string[][] = [];
      index.report(v(sum("c2", { status: "assigned", operators: [ref(ada)] }), 1), [], []);
      index.report(v(sum("c1", { status: "assigned", operators: [ref(ada)] }), 1), [], []);
      steps.push(assignments(w));
      index.report(v(sum("c1", { status: "assigned", operators: [ref(bo), ref(ada)] }), 2), [], []);
      steps.push(assignments(w));
      index.report(v(sum("c1", { status: "assigned", operators: [ref(bo)] }), 3), [], []);
      steps.push(assignments(w));
      index.report(v(sum("c1", { status: "idle", operators: [] }), 4), [], []);
      steps.push(assignments(w));
      return steps;
    });
    const a = (c: string, op: Op) => `${c}:${op.id}`;
    expect(seen).toEqual([
      [a("c1", ada), a("c2", ada)].sort(),
      [a("c1", ada), a("c1", bo), a("c2", ada)].sort(),
      [a("c1", bo), a("c2", ada)].sort(),
      [a("c2", ada)],
    ]);
  });

  it("figures ride along and are added with a newer report and with a stale one alike", async () => {
    const { ws } = await workspace();
    const stat = (kind: OperatorStat["kind"], value: number, at = T0): OperatorStat => ({
      kind,
      operatorId: "op-x",
      at,
      value,
    });
    const seen = await inIndex(ws, ({ index }, w) => {
      const daily = () =>
        w.sql.exec("SELECT operator_id, day, joined, messages FROM operator_daily ORDER BY day").toArray();
      const responses = () => w.sql.exec("SELECT operator_id, at, ms FROM first_responses ORDER BY at").toArray();
      const steps = [];
      index.report(v(sum("c1"), 2), [stat("joined", 1), stat("message", 2), stat("first_response", 900)], []);
      steps.push({ daily: daily(), responses: responses() });
      index.report(v(sum("c1"), 1), [stat("message", 3), stat("first_response", 400, T0 + 1)], []);
      steps.push({ daily: daily(), responses: responses() });
      index.report(v(sum("c1"), 3), [], []);
      steps.push({ daily: daily(), responses: responses() });
      return steps;
    });
    const day = Math.floor(T0 / DAY);
    const first = {
      daily: [{ operator_id: "op-x", day, joined: 1, messages: 2 }],
      responses: [{ operator_id: "op-x", at: T0, ms: 900 }],
    };
    const second = {
      daily: [{ operator_id: "op-x", day, joined: 1, messages: 5 }],
      responses: [
        { operator_id: "op-x", at: T0, ms: 900 },
        { operator_id: "op-x", at: T0 + 1, ms: 400 },
      ],
    };
    expect(seen).toEqual([first, second, second]);
  });
});

describe("reports that arrive together", () => {
  /** Runs `fn` inside `ws` on the object's own index, awaiting what it returns (the object's timers run meanwhile). */
  const withIndex = <T>(ws: WorkspaceObject, fn: (index: ConversationIndex, w: WorkspaceContext) => Promise<T>) =>
    runInDurableObject(ws, (o, state) =>
      fn((o as unknown as Modules).index, { sql: state.storage.sql, ctx: state, env: env as Env }),
    );
  const ids = (w: WorkspaceContext) => rows(w).map((r) => `${r.id as string}:${r.preview as string}`);

  it("wait to be applied together, in the order they came; each is answered once all of its batch is written", async () => {
    const { ws } = await workspace();
    const seen = await withIndex(ws, async (index, w) => {
      const answers = [
        index.queue(v(sum("c1", { preview: "first" }), 1), [], []),
        index.queue(v(sum("c2"), 1), [], []),
        index.queue(v(sum("c1", { preview: "second" }), 2), [], []),
      ];
      const queued = ids(w);
      // What is stored when each answer arrives.
      const answered = await Promise.all(
        answers.map((a) => a.then((answer) => ({ version: answer.version, rows: ids(w) }))),
      );
      return { queued, answered };
    });
    expect(seen.queued, "nothing is written before the batch is applied").toEqual([]);
    const all = ["c1:second", "c2:hello from c2"];
    expect(seen.answered).toEqual([
      { version: 1, rows: all },
      { version: 1, rows: all },
      { version: 2, rows: all },
    ]);
  });

  it("at most 100 are applied in one event; the rest follow in the next", async () => {
    const { ws } = await workspace();
    const seen = await withIndex(ws, async (index, w) => {
      const answers = Array.from({ length: 150 }, (_, i) =>
        index.queue(v(sum(`c${String(i).padStart(3, "0")}`), 1), [], []),
      );
      await answers[0];
      const afterFirst = rows(w).length;
      await Promise.all(answers);
      return { afterFirst, afterAll: rows(w).length };
    });
    expect(seen).toEqual({ afterFirst: 100, afterAll: 150 });
  });

  it("one that fails is refused alone: the others of its batch are applied and answered", async () => {
    const { ws } = await workspace();
    const seen = await withIndex(ws, async (index, w) => {
      const broken = { ...v(sum("c2"), 1), visitor: null } as unknown as ConversationSummary & { version: number };
      const outcomes = await Promise.allSettled([
        index.queue(v(sum("c1"), 1), [], []),
        index.queue(broken, [], []),
        index.queue(v(sum("c3"), 1), [], []),
      ]);
      return { statuses: outcomes.map((o) => o.status), rows: ids(w) };
    });
    expect(seen).toEqual({
      statuses: ["fulfilled", "rejected", "fulfilled"],
      rows: ["c1:hello from c1", "c3:hello from c3"],
    });
  });

  it("a conversation forgotten while its report waits: the report is applied first, so its creation and messages reach webhooks before the deletion", async () => {
    const { ws } = await workspace();
    const seen = await inIndex(ws, ({ index, webhooks }, w) => {
      webhooks.add("https://hooks.test/all", ["conversation.created", "message.created", "conversation.deleted"]);
      void index.queue(v(sum("c1"), 1), [], [message(1, T0)]);
      index.forget("c1");
      return { events: deliveries(w).map((d) => d.event), rows: rows(w) };
    });
    expect(seen.events).toEqual(["conversation.created", "message.created", "conversation.deleted"]);
    expect(seen.rows).toEqual([]);
  });

  it("whatever reads the index applies the queue first: a list, the other conversations of an email, a person's conversations, retention's inactive ones", async () => {
    const { ws, ada } = await workspace();
    const seen = await inIndex(ws, ({ index }) => {
      const person = (id: string, email: string) => ({ visitor: { id: `v-${id}`, name: null, email } });
      void index.queue(v(sum("p1"), 1), [], []);
      const page = index.page("all", ada.id, null, 10).conversations.map((c) => c.id);
      void index.queue(v(sum("e1", person("e1", "eve@example.com")), 1), [], []);
      const byEmail = index.byEmail("eve@example.com", "other", 10).map((c) => c.id);
      void index.queue(v(sum("o1"), 1), [], []);
      const of = index.conversationsOf({ visitorId: "v-o1" });
      void index.queue(v(sum("i1", { lastAt: T0 - 40 * DAY }), 1), [], []);
      const inactive = index.inactiveSince(T0 - 30 * DAY, 10);
      return { page, byEmail, of, inactive };
    });
    expect(seen).toEqual({ page: ["p1"], byEmail: ["e1"], of: ["o1"], inactive: ["i1"] });
  });
});

describe("webhooks", () => {
  it("messages ride along while an endpoint wants them: since its creation, with a new or a stale report, never after a deletion", async () => {
    const { ws } = await workspace();
    const H = T0 + 1000;
    const c1 = sum("c1", { lastAt: H + 20 });
    const seen = await inIndex(ws, ({ index, webhooks }, w) => {
      now = H - 5;
      const events = webhooks.add("https://hooks.test/events", ["conversation.created", "conversation.deleted"]);
      now = H - 4;
      const before = index.report(v(sum("c0"), 1), [], [message(1, H - 4)]);
      now = H;
      const messages = webhooks.add("https://hooks.test/messages", ["message.created"]);
      now = H + 20;
      const first = index.report(v(c1, 1), [], [message(1, H - 1), message(2, H), message(3, H + 1)]);
      now = H + 30;
      const later = index.report(v({ ...c1, preview: "later" }, 2), [], [message(4, H + 30)]);
      now = H + 40;
      const stale = index.report(v(c1, 2), [], [message(5, H + 40)]);
      now = H + 50;
      index.forget("c1");
      now = H + 60;
      // A report that was in flight when the conversation was deleted: its messages go to no webhook.
      const afterDeletion = index.report(v(c1, 3), [], [message(6, H + 60)]);
      return {
        hooks: { events: events.webhook.id, messages: messages.webhook.id },
        answers: { before, first, later, stale, afterDeletion },
        deliveries: deliveries(w),
      };
    });
    const { events, messages } = seen.hooks;
    expect(seen.answers).toEqual({
      before: { version: 1, messages: false, since: null, windowMs: 1000 },
      first: { version: 1, messages: true, since: H, windowMs: 1000 },
      later: { version: 2, messages: true, since: H, windowMs: 1000 },
      stale: { version: 2, messages: true, since: H, windowMs: 1000 },
      afterDeletion: { version: Number.MAX_SAFE_INTEGER, messages: true, since: H, windowMs: 1000 },
    });
    expect(seen.deliveries).toEqual([
      delivery(events, "conversation.created", H - 4, { conversation: sum("c0") }),
      delivery(events, "conversation.created", H + 20, { conversation: c1 }),
      delivery(messages, "message.created", H + 20, { conversationId: "c1", message: message(2, H) }),
      delivery(messages, "message.created", H + 20, { conversationId: "c1", message: message(3, H + 1) }),
      delivery(messages, "message.created", H + 30, { conversationId: "c1", message: message(4, H + 30) }),
      delivery(messages, "message.created", H + 40, { conversationId: "c1", message: message(5, H + 40) }),
      delivery(events, "conversation.deleted", H + 50, { conversationId: "c1" }),
    ]);
    for (const d of seen.deliveries) expect((d.payload as { id: string }).id, "payload id is the row's").toBe(d.id);
  });
});

describe("the waiting count", () => {
  it("a change into or out of Unassigned tells every panel the new count; any other change tells none", async () => {
    const { ws, ada, bo } = await workspace();
    const panel = await openPanel(ws, ada);
    const mark = panel.frames.length;
    const c1 = sum("c1");
    const c2 = sum("c2", { status: "assigned", operators: [ref(bo)] });
    const c1Again = sum("c1", { unread: 2 });
    const c1Taken = sum("c1", { status: "assigned", operators: [ref(ada)] });
    const c2Back = sum("c2", { lastAt: T0 + 1 });
    const c1Idle = sum("c1", { status: "idle" });
    const seen = await inIndex(ws, ({ index }, w) => {
      const counts: number[] = [index.waitingCount()];
      index.report(v(c1, 1), [], []);
      counts.push(index.waitingCount());
      index.report(v(c2, 1), [], []);
      index.report(v(c1Again, 2), [], []);
      counts.push(index.waitingCount());
      index.report(v(c1Taken, 3), [], []);
      counts.push(index.waitingCount());
      index.report(v(c2Back, 2), [], []);
      counts.push(index.waitingCount());
      index.report(v(c1Idle, 4), [], []);
      index.forget("c2");
      counts.push(index.waitingCount());
      index.forget("c1");
      index.forget("never-reported");
      counts.push(index.waitingCount());
      return { counts, stored: rows(w), versions: versions(w) };
    });
    expect(seen.counts).toEqual([0, 1, 1, 0, 1, 0, 0]);
    expect(seen.stored).toEqual([]);
    expect(seen.versions, "tombstones, also for a conversation never reported").toEqual([
      { id: "c1", version: Number.MAX_SAFE_INTEGER },
      { id: "c2", version: Number.MAX_SAFE_INTEGER },
      { id: "never-reported", version: Number.MAX_SAFE_INTEGER },
    ]);
    expect(await framesSince(panel, mark)).toEqual([
      { type: "upsert", conversation: c1 },
      { type: "waiting", waiting: 1 },
      { type: "notify", conversation: c1, reason: "new" },
      { type: "upsert", conversation: c2 },
      { type: "upsert", conversation: c1Again },
      { type: "upsert", conversation: c1Taken },
      { type: "waiting", waiting: 0 },
      { type: "upsert", conversation: c2Back },
      { type: "waiting", waiting: 1 },
      { type: "notify", conversation: c2Back, reason: "requeued" },
      { type: "upsert", conversation: c1Idle },
      { type: "remove", id: "c2" },
      { type: "waiting", waiting: 0 },
      { type: "remove", id: "c1" },
      { type: "remove", id: "never-reported" },
    ]);
    panel.close();
  });

  it("is counted from storage once per instance; an instance that has not counted counts at a change, the change included", async () => {
    const { ws, ada } = await workspace();
    await inIndex(ws, ({ index }) => {
      for (const id of ["u1", "u2", "u3"]) index.report(v(sum(id), 1), [], []);
      index.report(v(sum("a1", { status: "assigned", operators: [ref(ada)] }), 1), [], []);
      index.report(v(sum("i1", { status: "idle" }), 1), [], []);
    });
    const panel = await openPanel(ws, ada);
    const mark = panel.frames.length;
    const u4 = sum("u4");
    const u1Taken = sum("u1", { status: "assigned", operators: [ref(ada)] });
    const seen = await inIndex(ws, (m, w) => {
      const x = freshIndex(m, w);
      x.report(v(u4, 1), [], []);
      x.report(v(u1Taken, 2), [], []);
      freshIndex(m, w).forget("u2");
      const z = freshIndex(m, w);
      const counted = z.waitingCount();
      // A row that appears behind the instance's back is not seen by it: it counted once.
      w.sql.exec(
        "INSERT INTO conversations (id, status, visitor_id, last_at, created_at) VALUES ('u5', 'unassigned', 'v', 1, 1)",
      );
      return { counted, again: z.waitingCount(), anotherInstance: freshIndex(m, w).waitingCount() };
    });
    expect(seen).toEqual({ counted: 2, again: 2, anotherInstance: 3 });
    expect(await framesSince(panel, mark)).toEqual([
      { type: "upsert", conversation: u4 },
      { type: "waiting", waiting: 4 },
      { type: "notify", conversation: u4, reason: "new" },
      { type: "upsert", conversation: u1Taken },
      { type: "waiting", waiting: 3 },
      { type: "remove", id: "u2" },
      { type: "waiting", waiting: 2 },
    ]);
    panel.close();
  });
});

describe("notifications", () => {
  it("a visitor writing in Unassigned notifies operators who are not away: new, requeued, a later message", async () => {
    const { ws, ada, bo } = await workspace(true);
    const adaPanel = await openPanel(ws, ada);
    const boPanel = await openPanel(ws, bo);
    await adaPanel.next("presence"); // Bo's panel opening
    const [adaMark, boMark] = [adaPanel.frames.length, boPanel.frames.length];
    const L = T0 + 100;
    const steps: [ConversationSummary, "new" | "requeued" | "message" | null][] = [
      [sum("c1", { lastAt: L }), "new"],
      [sum("c1", { lastAt: L + 1, unread: 2 }), "message"],
      [sum("c1", { lastAt: L + 1, unread: 3 }), null], // no later message
      [sum("c1", { lastAt: L, unread: 4 }), null], // an older lastAt is no new message either
      [sum("c1", { lastAt: L + 2, previewRole: "operator", preview: "We are here" }), null],
      [sum("c1", { status: "assigned", operators: [ref(ada)], lastAt: L + 3 }), null],
      [sum("c1", { lastAt: L + 4, preview: "anyone?" }), "requeued"],
      [sum("c2", { status: "idle", lastAt: L }), null],
      [sum("c2", { lastAt: L }), "requeued"],
      [sum("c3", { previewRole: "operator", preview: "Hello! How can we help?" }), null],
      [sum("c4", { status: "assigned", operators: [ref(bo)] }), null],
      [sum("c4", { status: "idle" }), null],
    ];
    await inIndex(ws, ({ index }) => {
      const version = new Map<string, number>();
      for (const [s] of steps) {
        version.set(s.id, (version.get(s.id) ?? 0) + 1);
        index.report(v(s, version.get(s.id)!), [], []);
      }
    });
    const notices = (frames: PanelServerFrame[]) =>
      frames.flatMap((f) => (f.type === "notify" ? [{ id: f.conversation.id, reason: f.reason }] : []));
    const adaFrames = await framesSince(adaPanel, adaMark);
    expect(notices(adaFrames)).toEqual([
      { id: "c1", reason: "new" },
      { id: "c1", reason: "message" },
      { id: "c1", reason: "requeued" },
      { id: "c2", reason: "requeued" },
    ]);
    expect(
      adaFrames.filter((f) => f.type === "notify"),
      "each notice carries the summary as reported",
    ).toEqual(steps.filter(([, r]) => r).map(([s, reason]) => ({ type: "notify", conversation: s, reason })));
    const boFrames = await framesSince(boPanel, boMark);
    expect(notices(boFrames), "Bo is away").toEqual([]);
    expect(boFrames.filter((f) => f.type === "upsert").length, "yet Bo's list follows every change").toBe(steps.length);
    adaPanel.close();
    boPanel.close();
  });
});

describe("forgetting a conversation", () => {
  it("removes its row, assignments, email thread, verified binding and rating text; a late report stays out", async () => {
    const { ws, ada } = await workspace();
    const panel = await openPanel(ws, ada);
    const keep = sum("keep", { status: "assigned", operators: [ref(ada)] });
    await inIndex(ws, ({ index, threads, verified, reports }) => {
      for (const id of ["gone", "keep"]) {
        index.report(v(id === "keep" ? keep : sum(id, { status: "assigned", operators: [ref(ada)] }), 3), [], []);
        threads.ensure(id, `v-${id}`, `${id}@example.com`);
        threads.recordMessageId(id, `<${id}@mail.example>`);
        verified.bind(`user-${id}`, { visitorId: `v-${id}`, conversationId: id });
        reports.recordRating({
          id: `survey-${id}`,
          conversationId: id,
          rating: 5,
          comment: `thanks (${id})`,
          operatorIds: [ada.id],
          at: T0,
        });
      }
    });
    const mark = panel.frames.length;
    const seen = await inIndex(ws, ({ index }, w) => {
      index.forget("gone");
      const late = index.report(v(sum("gone"), 1_000_000), [], []);
      const table = (q: string) => w.sql.exec(q).toArray();
      return {
        late,
        rows: rows(w),
        assignments: assignments(w),
        versions: versions(w),
        threads: table("SELECT conversation_id, sender FROM email_threads ORDER BY conversation_id"),
        messageIds: table("SELECT message_id, conversation_id FROM email_message_ids ORDER BY message_id"),
        verified: table("SELECT user_id, visitor_id, conversation_id FROM verified_users ORDER BY user_id"),
        ratings: table("SELECT id, conversation_id, rating, comment FROM ratings ORDER BY id"),
        waiting: index.waitingCount(),
      };
    });
    expect(seen).toEqual({
      late: { version: Number.MAX_SAFE_INTEGER, messages: false, since: null, windowMs: 1000 },
      rows: [rowOf(keep)],
      assignments: [`keep:${ada.id}`],
      versions: [
        { id: "gone", version: Number.MAX_SAFE_INTEGER },
        { id: "keep", version: 3 },
      ],
      threads: [{ conversation_id: "keep", sender: "keep@example.com" }],
      messageIds: [{ message_id: "<keep@mail.example>", conversation_id: "keep" }],
      verified: [{ user_id: "user-keep", visitor_id: "v-keep", conversation_id: "keep" }],
      ratings: [
        { id: "survey-gone", conversation_id: null, rating: 5, comment: null },
        { id: "survey-keep", conversation_id: "keep", rating: 5, comment: "thanks (keep)" },
      ],
      waiting: 0,
    });
    expect(await framesSince(panel, mark), "an assigned one: no count; the late report: nothing").toEqual([
      { type: "remove", id: "gone" },
    ]);
    panel.close();
  });
});

describe("finding conversations", () => {
  it("of a visitor by id, of an address as the contact's email (any case) or as a mail thread's sender", async () => {
    const { ws } = await workspace();
    const seen = await inIndex(ws, ({ index, threads }) => {
      const person = (id: string, visitorId: string, email: string | null) =>
        index.report(v(sum(id, { visitor: { id: visitorId, name: null, email } }), 1), [], []);
      person("cA", "v-1", "Sam@Example.com");
      person("cB", "v-1", null);
      person("cC", "v-2", "sam@example.com");
      person("cD", "v-3", "other@example.com");
      person("cE", "v-4", "x@example.com");
      person("cF", "v-5", null);
      person("cZ", "", ""); // an empty visitor id or address names nobody, not such a row
      threads.ensure("cD", "v-3", "SAM@example.com");
      threads.ensure("cF", "v-5", "someone@example.com");
      const of = (who: { visitorId?: string; email?: string }) => index.conversationsOf(who).sort();
      return {
        visitor: of({ visitorId: "v-1" }),
        email: of({ email: "sAm@example.COM" }),
        both: of({ visitorId: "v-1", email: "sam@example.com" }),
        threadOnly: of({ email: "someone@EXAMPLE.com" }),
        other: of({ visitorId: "v-4" }),
        nobody: of({ email: "nobody@example.com" }),
        nothing: of({}),
        empty: of({ visitorId: "", email: "" }),
      };
    });
    expect(seen).toEqual({
      visitor: ["cA", "cB"],
      email: ["cA", "cC", "cD"],
      both: ["cA", "cB", "cC", "cD"],
      threadOnly: ["cF"],
      other: ["cE"],
      nobody: [],
      nothing: [],
      empty: [],
    });
  });

  it("inactive since a cutoff: last activity strictly before it, oldest first, at most `limit`", async () => {
    const { ws } = await workspace();
    const L = T0 + 500;
    const seen = await inIndex(ws, ({ index }) => {
      for (const [id, at] of [
        ["x1", L - 2],
        ["x2", L - 1],
        ["x3", L],
        ["x4", L + 1],
        ["x5", L - 3],
      ] as const)
        index.report(v(sum(id, { lastAt: at }), 1), [], []);
      return [index.inactiveSince(L, 10), index.inactiveSince(L, 2), index.inactiveSince(L + 2, 10)];
    });
    expect(seen).toEqual([
      ["x5", "x1", "x2"],
      ["x5", "x1"],
      ["x5", "x1", "x2", "x3", "x4"],
    ]);
  });

  it("by email: the contact's other conversations (any case), newest first, at most `limit`, as summaries", async () => {
    const { ws, ada } = await workspace();
    const L = T0 + 500;
    const e1 = sum("e1", {
      visitor: { id: "v-e1", name: "Pat", email: "Pat@Example.com" },
      status: "assigned",
      operators: [ref(ada)],
      preview: "Thanks!",
      previewRole: "operator",
      lastAt: L,
      unread: 0,
      createdAt: L - 50,
    });
    const e2 = sum("e2", { visitor: { id: "v-e2", name: null, email: "pat@example.com" }, lastAt: L + 1 });
    const e3 = sum("e3", { visitor: { id: "v-e3", name: "P.", email: "PAT@EXAMPLE.COM" }, lastAt: L - 1 });
    const others = [
      sum("e4", { visitor: { id: "v-e4", name: null, email: "pat@example.org" }, lastAt: L + 5 }),
      sum("e5", { lastAt: L + 6 }),
    ];
    const seen = await inIndex(ws, ({ index }) => {
      for (const s of [e1, e2, e3, ...others]) index.report(v(s, 1), [], []);
      return {
        except2: index.byEmail("pAT@example.com", "e2", 10),
        limit1: index.byEmail("pat@example.com", "e2", 1),
        exceptNone: index.byEmail("pat@example.com", "none", 10),
        unknown: index.byEmail("nobody@example.com", "none", 10),
      };
    });
    expect(seen).toEqual({ except2: [e1, e3], limit1: [e1], exceptNone: [e2, e1, e3], unknown: [] });
  });
});

describe("the lists", () => {
  /**
   * Nine conversations: L is a lastAt five of them share (ties go by id,
   * highest first), with one status or assignment of each kind among them.
   *   all:        k09 k01 | k06 k05 k04 k03 k02 (at L) | k08 k07
   *   unassigned: k01 k04 k02 k07;  assigned: k05 k03 k08
   *   mine (Ada): k03 k08;  mine (Bo): k05 k08
   */
  const L = T0 + 1000;
  async function listed() {
    const { ws, ada, bo } = await workspace();
    const seed: ConversationSummary[] = [
      sum("k01", { lastAt: L + 1 }),
      sum("k02", { lastAt: L }),
      sum("k03", { lastAt: L, status: "assigned", operators: [ref(ada)] }),
      sum("k04", { lastAt: L }),
      sum("k05", { lastAt: L, status: "assigned", operators: [ref(bo)] }),
      sum("k06", { lastAt: L, status: "idle" }),
      sum("k07", { lastAt: L - 1 }),
      sum("k08", { lastAt: L - 1, status: "assigned", operators: [ref(ada), ref(bo)] }),
      sum("k09", { lastAt: L + 2, status: "idle" }),
    ];
    await inIndex(ws, ({ index }) => {
      for (const s of seed) index.report(v(s, 1), [], []);
    });
    return { ws, ada, bo, seed: new Map(seed.map((s) => [s.id, s])) };
  }

  it("each list holds its own, newest first, as the summaries reported", async () => {
    const { ws, ada, bo, seed } = await listed();
    const seen = await inIndex(ws, ({ index }) => ({
      unassigned: index.page("unassigned", ada.id, null, 50),
      assigned: index.page("assigned", ada.id, null, 50),
      mineAda: index.page("mine", ada.id, null, 50),
      mineBo: index.page("mine", bo.id, null, 50),
      mineNobody: index.page("mine", "nobody", null, 50),
      all: index.page("all", ada.id, null, 50),
    }));
    const list = (...ids: string[]) => ({ conversations: ids.map((id) => seed.get(id)!), hasMore: false });
    expect(seen).toEqual({
      unassigned: list("k01", "k04", "k02", "k07"),
      assigned: list("k05", "k03", "k08"),
      mineAda: list("k03", "k08"),
      mineBo: list("k05", "k08"),
      mineNobody: list(),
      all: list("k09", "k01", "k06", "k05", "k04", "k03", "k02", "k08", "k07"),
    });
  });

  it("the cursor: older than `before`, ties at `before` only below `beforeId`, none of them without one", async () => {
    const { ws, ada, bo } = await listed();
    const seen = await inIndex(ws, ({ index }) => {
      const ids = (view: "unassigned" | "assigned" | "mine" | "all", op: string, before: number, id: string | null) =>
        index.page(view, op, before, 50, id).conversations.map((c) => c.id);
      const views = (before: number, id: string | null) => ({
        unassigned: ids("unassigned", ada.id, before, id),
        assigned: ids("assigned", ada.id, before, id),
        mineAda: ids("mine", ada.id, before, id),
        mineBo: ids("mine", bo.id, before, id),
        all: ids("all", ada.id, before, id),
      });
      return { noId: views(L, null), k04: views(L, "k04"), k06: views(L, "k06"), aboveAll: views(L + 1, null) };
    });
    expect(seen.noId, "everything at exactly L is left out").toEqual({
      unassigned: ["k07"],
      assigned: ["k08"],
      mineAda: ["k08"],
      mineBo: ["k08"],
      all: ["k08", "k07"],
    });
    expect(seen.k04).toEqual({
      unassigned: ["k02", "k07"],
      assigned: ["k03", "k08"],
      mineAda: ["k03", "k08"],
      mineBo: ["k08"],
      all: ["k03", "k02", "k08", "k07"],
    });
    expect(seen.k06).toEqual({
      unassigned: ["k04", "k02", "k07"],
      assigned: ["k05", "k03", "k08"],
      mineAda: ["k03", "k08"],
      mineBo: ["k05", "k08"],
      all: ["k05", "k04", "k03", "k02", "k08", "k07"],
    });
    expect(seen.aboveAll).toEqual({
      unassigned: ["k04", "k02", "k07"],
      assigned: ["k05", "k03", "k08"],
      mineAda: ["k03", "k08"],
      mineBo: ["k05", "k08"],
      all: ["k06", "k05", "k04", "k03", "k02", "k08", "k07"],
    });
  });

  it("walking a list page by page from its last row sees every conversation once, in order", async () => {
    const { ws, ada } = await listed();
    const seen = await inIndex(ws, ({ index }) => {
      const walk = (view: "unassigned" | "mine" | "all", limit: number) => {
        const pages: [string[], boolean][] = [];
        let before: number | null = null;
        let beforeId: string | null = null;
        for (let i = 0; i < 20; i++) {
          const page = index.page(view, ada.id, before, limit, beforeId);
          pages.push([page.conversations.map((c) => c.id), page.hasMore]);
          if (!page.hasMore) break;
          before = page.conversations.at(-1)!.lastAt;
          beforeId = page.conversations.at(-1)!.id;
        }
        return pages;
      };
      return { all: walk("all", 2), unassigned: walk("unassigned", 3), mine: walk("mine", 1) };
    });
    expect(seen).toEqual({
      all: [
        [["k09", "k01"], true],
        [["k06", "k05"], true],
        [["k04", "k03"], true],
        [["k02", "k08"], true],
        [["k07"], false],
      ],
      unassigned: [
        [["k01", "k04", "k02"], true],
        [["k07"], false],
      ],
      mine: [
        [["k03"], true],
        [["k08"], false],
      ],
    });
  });

  it("a page holds 1 to 200 rows whatever is asked; hasMore says whether one more row exists (and each report answers its window)", async () => {
    const { ws, ada } = await workspace();
    const ids = Array.from({ length: 201 }, (_, i) => `p${String(i).padStart(3, "0")}`);
    const seen = await inIndex(ws, ({ index }) => {
      // Answered conversations (assigned): one waiting in Unassigned always gets a second (report-window.test.ts).
      const windows = ids.map(
        (id, i) => index.report(v(sum(id, { lastAt: T0 + i, status: "assigned" }), 1), [], []).windowMs,
      );
      const shape = (limit: number, before: number | null = null) => {
        const page = index.page("all", ada.id, before, limit);
        return {
          n: page.conversations.length,
          first: page.conversations[0]?.id,
          last: page.conversations.at(-1)?.id,
          hasMore: page.hasMore,
        };
      };
      const below = T0 + 200; // leaves p000..p199: exactly 200
      return {
        windows: [0, 19, 20, 99, 199, 200].map((i) => windows[i]),
        top: { l199: shape(199), l200: shape(200), l201: shape(201), l5000: shape(5000) },
        small: { l0: shape(0), lMinus: shape(-3), l1: shape(1), l2: shape(2) },
        of200: { l199: shape(199, below), l200: shape(200, below), l201: shape(201, below) },
        of3: { l2: shape(2, T0 + 3), l3: shape(3, T0 + 3), l4: shape(4, T0 + 3) },
      };
    });
    const page = (n: number, first: string | undefined, last: string | undefined, hasMore: boolean) => ({
      n,
      first,
      last,
      hasMore,
    });
    expect(seen.windows, "the reporting window widens with the conversations reporting: 20 a second").toEqual([
      1000, 1000, 1050, 5000, 10_000, 10_050,
    ]);
    expect(seen.top, "201 conversations").toEqual({
      l199: page(199, "p200", "p002", true),
      l200: page(200, "p200", "p001", true),
      l201: page(200, "p200", "p001", true),
      l5000: page(200, "p200", "p001", true),
    });
    expect(seen.small, "at least one row").toEqual({
      l0: page(1, "p200", "p200", true),
      lMinus: page(1, "p200", "p200", true),
      l1: page(1, "p200", "p200", true),
      l2: page(2, "p200", "p199", true),
    });
    expect(seen.of200, "exactly 200 left").toEqual({
      l199: page(199, "p199", "p001", true),
      l200: page(200, "p199", "p000", false),
      l201: page(200, "p199", "p000", false),
    });
    expect(seen.of3, "exactly 3 left").toEqual({
      l2: page(2, "p002", "p001", true),
      l3: page(3, "p002", "p000", false),
      l4: page(3, "p002", "p000", false),
    });
  });
});
