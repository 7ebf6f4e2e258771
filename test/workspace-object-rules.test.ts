/**
 * The Workspace object itself (worker/workspace/object.ts and its migrations
 * in worker/workspace/schema.ts), rule by rule, called through its RPC
 * methods as the Worker calls them, each test on a workspace object of its
 * own: which calls are admin-only and the one refusal each gives, what every
 * admin change writes to the audit log (action, target, detail, actor),
 * signing out (one session, or everywhere) and the panels that close with
 * it, the sockets a session is recorded against, presence going out after a
 * change of the team, sign-in attempts, a conversation's report and its
 * forgetting, what a settings change schedules, the order of the alarm's
 * jobs, the runtime's answer to a ping, and the schema a new object has.
 * (The modules' own rules are in operator-rules, audit-rules, panel-socket-
 * rules, retention-rules and friends; `workspace.test.ts` checks that nothing
 * changes when a non-admin is refused.)
 */
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { sha256 } from "../worker/lib/crypto";
import type { AuditEntry, Operator, PanelServerFrame } from "../worker/protocol";
import { migrate } from "../worker/schema/migrate";
import type { ConversationIndex } from "../worker/workspace/conversation-index";
import { workspaceMigrations } from "../worker/workspace/schema";
import {
  freshWorkspace,
  rerunMigration,
  summaryOf,
  withAdmin,
  workspacePanel,
  type TestSocket,
  type WorkspaceObject,
  framesSince,
} from "./helpers";
import { eventually } from "./mail-helpers";

const DAY = 24 * 3600_000;
const fresh = () => freshWorkspace("ws-object");

/** Adds an operator as `admin` (not an admin unless said); fails the test when refused. */
async function add(ws: WorkspaceObject, admin: Operator, name: string, isAdmin = false): Promise<Operator> {
  const added = await ws.addOperator(admin, {
    name,
    email: `${name.toLowerCase()}@example.com`,
    passwordHash: `hash-of-${name}`,
    admin: isAdmin,
  });
  if (!added.ok) throw new Error(`adding ${name} refused: ${added.code} ${added.message}`);
  return added.value;
}

/** The audit log as [action, target, detail, actor id, actor name, token], newest first. */
async function audited(ws: WorkspaceObject, admin: Operator): Promise<unknown[][]> {
  const page = await ws.auditLog(admin, null, 200);
  if (!page.ok) throw new Error(`audit log refused: ${page.code} ${page.message}`);
  return page.value.entries.map((e: AuditEntry) => [
    e.action,
    e.target,
    e.detail,
    e.actor.id,
    e.actor.name,
    e.actor.token,
  ]);
}

/** A session of `operatorId`: its token and its id (the token's hash). */
async function session(ws: WorkspaceObject, operatorId: string): Promise<{ token: string; id: string }> {
  const token = await ws.createSession(operatorId);
  return { token, id: await sha256(token) };
}

/** A panel of `operatorId` with session `sessionId`, its first frames (index, presence) read. */
async function readyPanel(ws: WorkspaceObject, operatorId: string, sessionId: string) {
  const panel = await workspacePanel(ws, operatorId, sessionId);
  await panel.next("index");
  await panel.next("presence");
  return panel;
}

const closing = (p: TestSocket<PanelServerFrame>) => ({ code: p.closeCode, reason: p.closeReason });

const sql = <T>(ws: WorkspaceObject, fn: (sql: SqlStorage) => T): Promise<T> =>
  runInDurableObject(ws, (_o, state) => fn(state.storage.sql));

describe("admin-only calls", () => {
  it("refuse an operator who is not an admin with the one refusal naming what it guards, and log nothing", async () => {
    const ws = fresh();
    const admin = await withAdmin(ws);
    const otto = await add(ws, admin, "Otto");
    const only = (what: string) => ({ ok: false, code: "forbidden", message: `Only admins can ${what}` });
    const seen = {
      addOperator: await ws.addOperator(otto, {
        name: "Eve",
        email: "eve@example.com",
        passwordHash: "h",
        admin: true,
      }),
      removeOperator: await ws.removeOperator(otto, admin.id),
      createToken: await ws.createToken(otto, { name: "mine", scope: "admin", expiresInDays: null }),
      listTokens: await ws.listTokens(otto),
      revokeToken: await ws.revokeToken(otto, "no-such-token"),
      conversationsOf: await ws.conversationsOf(otto, { email: "someone@example.com" }),
      addWebhook: await ws.addWebhook(otto, "https://hooks.test/steal", ["message.created"]),
      listWebhooks: await ws.listWebhooks(otto),
      removeWebhook: await ws.removeWebhook(otto, "no-such-hook"),
      webhookDeliveries: await ws.webhookDeliveries(otto, "no-such-hook"),
      auditLog: await ws.auditLog(otto, null, 10),
      updateSettings: await ws.updateSettings(otto, { emailName: "Hijacked" }),
      endSessionsOfAnother: await ws.endSessions(otto, admin.id),
      endSessionsOfNobody: await ws.endSessions(otto, "no-such-operator"),
    };
    expect(seen).toEqual({
      addOperator: only("manage operators"),
      removeOperator: only("manage operators"),
      createToken: only("manage API tokens"),
      listTokens: only("manage API tokens"),
      revokeToken: only("manage API tokens"),
      conversationsOf: only("erase a person's data"),
      addWebhook: only("manage webhooks"),
      listWebhooks: only("manage webhooks"),
      removeWebhook: only("manage webhooks"),
      webhookDeliveries: only("manage webhooks"),
      auditLog: only("read the audit log"),
      updateSettings: only("change settings"),
      endSessionsOfAnother: only("sign other operators out"),
      endSessionsOfNobody: only("sign other operators out"),
    });
    expect(await audited(ws, admin), "only adding Otto is in the log").toEqual([
      ["operator.added", "Otto <otto@example.com>", null, admin.id, "Ada", null],
    ]);
  });

  it("an admin's read-only calls answer and log nothing", async () => {
    const ws = fresh();
    const admin = await withAdmin(ws);
    expect({
      listTokens: await ws.listTokens(admin),
      listWebhooks: await ws.listWebhooks(admin),
      conversationsOf: await ws.conversationsOf(admin, { visitorId: "nobody" }),
      auditLog: await ws.auditLog(admin, null, 10),
    }).toEqual({
      listTokens: { ok: true, value: [] },
      listWebhooks: { ok: true, value: [] },
      conversationsOf: { ok: true, value: [] },
      auditLog: { ok: true, value: { entries: [], hasMore: false } },
    });
  });
});

describe("the audit log of admin changes", () => {
  it("each change is one entry: its action, whom or what it concerns, the detail, and the admin who made it", async () => {
    const ws = fresh();
    const admin = await withAdmin(ws);
    const bo = await add(ws, admin, "Bo");
    const cy = await add(ws, admin, "Cy", true);
    const token = await ws.createToken(admin, { name: "CI", scope: "read", expiresInDays: null });
    if (!token.ok) throw new Error(`createToken refused: ${token.message}`);
    expect(await ws.revokeToken(admin, token.value.info.id)).toEqual({ ok: true, value: null });
    const url = "https://hooks.test/ok/audited";
    const hook = await ws.addWebhook(admin, url, ["conversation.created", "conversation.deleted"]);
    if (!hook.ok) throw new Error(`addWebhook refused: ${hook.message}`);
    expect(await ws.removeWebhook(admin, hook.value.webhook.id)).toEqual({ ok: true, value: null });
    const settings = await ws.updateSettings(admin, { emailName: "Help desk", surveyByEmail: true });
    expect(settings).toEqual({ ok: true, value: await ws.getSettings() });
    expect(settings.ok && [settings.value.emailName, settings.value.surveyByEmail]).toEqual(["Help desk", true]);
    expect(await ws.removeOperator(admin, bo.id)).toEqual({ ok: true, value: null });
    expect(await ws.endSessions(admin, cy.id), "Cy never signed in").toEqual({ ok: true, value: 0 });
    await ws.recordErasure(admin, { email: "jane@example.org" }, ["c-1", "c-2"]);

    const by = [admin.id, "Ada", null];
    expect(await audited(ws, admin)).toEqual([
      ["person.erased", "email j•••@example.org", "2 conversations deleted: c-1, c-2", ...by],
      ["sessions.ended", "Cy <cy@example.com>", "0 sessions", ...by],
      ["operator.removed", "Bo <bo@example.com>", null, ...by],
      ["settings.changed", "emailName, surveyByEmail", "emailName: Help desk; surveyByEmail: true", ...by],
      ["webhook.removed", url, null, ...by],
      ["webhook.added", url, "conversation.created, conversation.deleted", ...by],
      ["token.revoked", "CI", null, ...by],
      ["token.created", "CI", "scope read, expires never", ...by],
      ["operator.added", "Cy <cy@example.com>", "admin", ...by],
      ["operator.added", "Bo <bo@example.com>", null, ...by],
    ]);
    // Read a page at a time: `limit` entries, then those older than the last one seen.
    const first = await ws.auditLog(admin, null, 2);
    if (!first.ok) throw new Error(`audit log refused: ${first.message}`);
    const rest = await ws.auditLog(admin, first.value.entries[1]!.id, 200);
    expect([
      first.value.entries.map((e) => e.action),
      first.value.hasMore,
      rest.ok && rest.value.entries.map((e) => e.action).slice(0, 2),
      rest.ok && [rest.value.entries.length, rest.value.hasMore],
    ]).toEqual([["person.erased", "sessions.ended"], true, ["operator.removed", "settings.changed"], [8, false]]);
  });

  it("a refused change logs nothing: removing oneself or an unknown operator, revoking or removing what is not there", async () => {
    const ws = fresh();
    const admin = await withAdmin(ws);
    expect({
      self: await ws.removeOperator(admin, admin.id),
      unknown: await ws.removeOperator(admin, "no-such-operator"),
      token: await ws.revokeToken(admin, "no-such-token"),
      hook: await ws.removeWebhook(admin, "no-such-hook"),
      signOut: await ws.endSessions(admin, "no-such-operator"),
    }).toEqual({
      self: { ok: false, code: "cannot_remove_self", message: "You cannot remove yourself" },
      unknown: { ok: false, code: "not_found", message: "No such operator" },
      token: { ok: false, code: "not_found", message: "No such token" },
      hook: { ok: false, code: "not_found", message: "No such webhook" },
      signOut: { ok: false, code: "not_found", message: "No such operator" },
    });
    expect(await audited(ws, admin)).toEqual([]);
  });

  it("a deleted conversation is logged with the grounds given, as an admin unless said; without an actor not at all", async () => {
    const ws = fresh();
    const admin = await withAdmin(ws);
    const bo = await add(ws, admin, "Bo");
    const now = Date.now();
    for (const id of ["by-nobody", "by-admin", "by-joined"]) {
      await ws.upsertConversation({ ...summaryOf(id, now, now), version: 1 });
    }
    const listed = async () =>
      (await ws.listConversations("all", admin.id, null, 10)).conversations.map((c) => c.id).sort();
    expect(await listed()).toEqual(["by-admin", "by-joined", "by-nobody"]);
    await ws.forgetConversation("by-nobody");
    await ws.forgetConversation("by-admin", admin);
    await ws.forgetConversation("by-joined", bo, "joined");
    expect(await listed(), "every one forgotten, whoever deleted it").toEqual([]);
    expect((await audited(ws, admin)).slice(0, 2)).toEqual([
      ["conversation.deleted", "by-joined", "as an operator in it", bo.id, "Bo", null],
      ["conversation.deleted", "by-admin", "as an admin", admin.id, "Ada", null],
    ]);
    expect((await audited(ws, admin)).map((e) => e[1])).not.toContain("by-nobody");
  });
});

describe("signing out", () => {
  it("everywhere: an operator ends their own sessions, an admin anyone's; each one's panels close, others stay", async () => {
    const ws = fresh();
    const admin = await withAdmin(ws);
    const bo = await add(ws, admin, "Bo");
    const cy = await add(ws, admin, "Cy");
    const ada = await session(ws, admin.id);
    const [bo1, bo2, cy1] = [await session(ws, bo.id), await session(ws, bo.id), await session(ws, cy.id)];
    const panels = {
      ada: await readyPanel(ws, admin.id, ada.id),
      bo1: await readyPanel(ws, bo.id, bo1.id),
      bo2: await readyPanel(ws, bo.id, bo2.id),
      cy: await readyPanel(ws, cy.id, cy1.id),
    };

    expect(await ws.endSessions(cy, bo.id), "Cy is no admin").toEqual({
      ok: false,
      code: "forbidden",
      message: "Only admins can sign other operators out",
    });
    expect(await ws.authenticate(bo1.token), "a refused sign-out ended nothing").toMatchObject({ id: bo.id });

    expect(await ws.endSessions(admin, bo.id)).toEqual({ ok: true, value: 2 });
    await panels.bo1.closedByServer("Bo's first panel");
    await panels.bo2.closedByServer("Bo's second panel");
    expect(await ws.endSessions(cy, cy.id), "one's own, as no admin").toEqual({ ok: true, value: 1 });
    await panels.cy.closedByServer("Cy's panel");
    expect({ bo1: closing(panels.bo1), bo2: closing(panels.bo2), cy: closing(panels.cy) }).toEqual({
      bo1: { code: 4001, reason: "Signed out" },
      bo2: { code: 4001, reason: "Signed out" },
      cy: { code: 4001, reason: "Signed out" },
    });
    expect(
      [await ws.authenticate(bo1.token), await ws.authenticate(bo2.token), await ws.authenticate(cy1.token)],
      "every one of those sessions ended",
    ).toEqual([null, null, null]);
    await panels.ada.roundTrip();
    expect(panels.ada.closed, "the admin's own panel stays open").toBe(false);
    expect(await ws.authenticate(ada.token)).toMatchObject({ id: admin.id });

    expect((await audited(ws, admin)).slice(0, 2)).toEqual([
      ["sessions.ended", "Cy <cy@example.com>", "1 session", cy.id, "Cy", null],
      ["sessions.ended", "Bo <bo@example.com>", "2 sessions", admin.id, "Ada", null],
    ]);
    panels.ada.close();
  });

  it("one session: it ends and its panels close; the operator's other session and its panel stay", async () => {
    const ws = fresh();
    const admin = await withAdmin(ws);
    const bo = await add(ws, admin, "Bo");
    const [laptop, phone] = [await session(ws, bo.id), await session(ws, bo.id)];
    const panels = { laptop: await readyPanel(ws, bo.id, laptop.id), phone: await readyPanel(ws, bo.id, phone.id) };
    expect(await ws.endSession(laptop.token)).toBeUndefined();
    await panels.laptop.closedByServer("the laptop's panel");
    expect(closing(panels.laptop)).toEqual({ code: 4001, reason: "Signed out" });
    await panels.phone.roundTrip();
    expect(panels.phone.closed, "the phone's panel was closed too").toBe(false);
    expect([await ws.authenticate(laptop.token), (await ws.authenticate(phone.token))?.id]).toEqual([null, bo.id]);
    // A token that is no session (any more) ends nothing and is no error.
    expect(await ws.endSession(laptop.token)).toBeUndefined();
    expect(await ws.endSession("not-a-session-token")).toBeUndefined();
    expect((await ws.authenticate(phone.token))?.id).toBe(bo.id);
    panels.phone.close();
  });
});

describe("sessions and sockets", () => {
  it("a socket's session is recorded against the conversation it opens; a panel's (no conversation) and an unknown one touch nothing", async () => {
    const ws = fresh();
    const admin = await withAdmin(ws);
    const bo = await add(ws, admin, "Bo");
    const s = await session(ws, bo.id);
    const rows = () =>
      sql(ws, (q) =>
        q
          .exec<{ session_id: string; conversation_id: string }>(
            "SELECT session_id, conversation_id FROM operator_sockets ORDER BY conversation_id",
          )
          .toArray()
          .map((r) => `${r.session_id === s.id ? "current" : r.session_id} on ${r.conversation_id}`),
      );
    // A row left by a session of Bo's that has ended since: recording a socket of his clears it.
    await sql(ws, (q) =>
      q.exec(
        "INSERT INTO operator_sockets (session_id, operator_id, conversation_id) VALUES ('ended', ?, 'c-0')",
        bo.id,
      ),
    );
    expect(await ws.admitSocket(s.token, null)).toMatchObject({ id: s.id, operator: { id: bo.id, name: "Bo" } });
    expect(await ws.admitSocket("x".repeat(44), "c-2")).toBeNull();
    expect(await ws.admitSocket("", null)).toBeNull();
    expect(await rows(), "nothing recorded or cleared yet").toEqual(["ended on c-0"]);
    expect(await ws.admitSocket(s.token, "c-1")).toMatchObject({ id: s.id, operator: { id: bo.id } });
    expect(await rows()).toEqual(["current on c-1"]);
  });

  it("the word of an ended session is kept until heard: told again with a growing wait, dropped once its sockets ran out", async () => {
    const ws = fresh();
    const admin = await withAdmin(ws);
    const bo = await add(ws, admin, "Bo");
    const s = await session(ws, bo.id);
    await ws.admitSocket(s.token, "c-1");
    type End = { conversation_id: string; session_id: string | null; why: string; attempts: number; next_at: number };
    const ends = () =>
      sql(ws, (q) =>
        q
          .exec<End>("SELECT conversation_id, session_id, why, attempts, next_at FROM socket_ends ORDER BY id")
          .toArray(),
      );
    /** Makes every word due now. */
    const due = () => sql(ws, (q) => void q.exec("UPDATE socket_ends SET next_at = ?", Date.now() - 1));
    // Conversations cannot be told (until the object restarts with its own bindings).
    await runInDurableObject(ws, (object) => {
      const w = (object as unknown as { operatorSockets: { w: { env: Record<string, unknown> } } }).operatorSockets.w;
      const real = w.env["CONVERSATION"] as DurableObjectNamespace;
      const unavailable = () => Promise.reject(new Error("conversation unavailable"));
      w.env = {
        ...w.env,
        CONVERSATION: {
          idFromName: (n: string) => real.idFromName(n),
          get: () => ({ endOperatorSockets: unavailable }),
        },
      };
    });
    const endedAt = Date.now();
    await ws.endSession(s.token);
    const first = await eventually(ends, (rows) => rows[0]?.attempts === 1);
    expect(first.map((r) => [r.conversation_id, r.session_id, r.why, r.attempts])).toEqual([
      ["c-1", s.id, "signedOut", 1],
    ]);
    expect(first[0]!.next_at - endedAt, "the first wait, about 5 s").toBeGreaterThanOrEqual(5000);
    expect(first[0]!.next_at - endedAt).toBeLessThan(60_000);
    const alarm = await runInDurableObject(ws, (_o, state) => state.storage.getAlarm());
    expect(alarm !== null && alarm <= first[0]!.next_at, `the alarm (${alarm}) by the next try`).toBe(true);
    // The alarm tries again; still not heard: the wait doubles.
    await due();
    const triedAt = Date.now();
    expect(await runDurableObjectAlarm(ws)).toBe(true);
    const second = await ends();
    expect(second.map((r) => r.attempts)).toEqual([2]);
    expect(second[0]!.next_at - triedAt, "the second wait, about 10 s").toBeGreaterThanOrEqual(10_000);
    // A word whose sockets have all run out of time is dropped without telling.
    await sql(
      ws,
      (q) =>
        void q.exec(
          "INSERT INTO socket_ends (conversation_id, operator_id, session_id, why, next_at, until) VALUES ('c-2', ?, NULL, 'removed', 0, ?)",
          bo.id,
          Date.now() - 1,
        ),
    );
    // The object restarts with its real bindings: the conversation hears, and the word is done with.
    await evictDurableObject(ws);
    await due();
    expect(await runDurableObjectAlarm(ws)).toBe(true);
    expect(await ends()).toEqual([]);
  });

  it("while the word is on its way its row waits 5 s, with the alarm armed for it; a session with no sockets leaves none", async () => {
    const ws = fresh();
    const admin = await withAdmin(ws);
    const bo = await add(ws, admin, "Bo");
    const alarm = () => runInDurableObject(ws, (_o, state) => state.storage.getAlarm());
    // Signed out with no conversation socket recorded: no word, no alarm.
    const quiet = await session(ws, bo.id);
    await ws.endSession(quiet.token);
    expect(await alarm(), "the alarm after a session with no sockets ended").toBeNull();
    // Conversations that never answer: the word stays on its way.
    await runInDurableObject(ws, (object) => {
      const w = (object as unknown as { operatorSockets: { w: { env: Record<string, unknown> } } }).operatorSockets.w;
      const real = w.env["CONVERSATION"] as DurableObjectNamespace;
      const never = () => new Promise<void>(() => undefined);
      w.env = {
        ...w.env,
        CONVERSATION: { idFromName: (n: string) => real.idFromName(n), get: () => ({ endOperatorSockets: never }) },
      };
    });
    const s = await session(ws, bo.id);
    await ws.admitSocket(s.token, "c-1");
    const endedAt = Date.now();
    await ws.endSession(s.token);
    const seen = await sql(ws, (q) =>
      q.exec<{ attempts: number; next_at: number }>("SELECT attempts, next_at FROM socket_ends").toArray(),
    );
    expect(seen.map((r) => r.attempts)).toEqual([0]);
    const nextAt = seen[0]!.next_at;
    expect(nextAt - endedAt, "the row's wait").toBeGreaterThanOrEqual(5000);
    expect(nextAt - Date.now()).toBeLessThanOrEqual(5000);
    const armed = await eventually(alarm, (at) => at !== null);
    expect(
      armed !== null && armed >= endedAt + 5000 && armed <= nextAt,
      `the alarm (${armed}) for the row (${nextAt})`,
    ).toBe(true);
  });

  it("a session is active for its own operator only, until it ends", async () => {
    const ws = fresh();
    const admin = await withAdmin(ws);
    const bo = await add(ws, admin, "Bo");
    const s = await session(ws, bo.id);
    expect({
      own: await ws.sessionActive(s.id, bo.id),
      another: await ws.sessionActive(s.id, admin.id),
      unknown: await ws.sessionActive("no-such-session", bo.id),
    }).toEqual({ own: true, another: false, unknown: false });
    await ws.endSession(s.token);
    expect(await ws.sessionActive(s.id, bo.id)).toBe(false);
  });
});

describe("presence after a change of the team", () => {
  it("adding or removing an operator, or a status change, goes out to the panels as presence", async () => {
    const ws = fresh();
    const admin = await withAdmin(ws);
    const ada = await session(ws, admin.id);
    const panel = await readyPanel(ws, admin.id, ada.id);
    const ops = (...list: [Operator, boolean, "online" | "away"][]) => ({
      type: "presence",
      operators: list.map(([o, online, status]) => ({ id: o.id, name: o.name, online, status })),
    });

    let mark = panel.frames.length;
    const bo = await add(ws, admin, "Bo");
    expect(await framesSince(panel, mark), "after adding Bo").toEqual([
      ops([admin, true, "online"], [bo, false, "online"]),
    ]);

    mark = panel.frames.length;
    await ws.setStatus(admin.id, "away");
    expect(await framesSince(panel, mark), "after Ada went away").toEqual([
      ops([admin, true, "away"], [bo, false, "online"]),
    ]);

    mark = panel.frames.length;
    expect(await ws.removeOperator(admin, bo.id)).toEqual({ ok: true, value: null });
    expect(await framesSince(panel, mark), "after removing Bo").toEqual([ops([admin, true, "away"])]);
    panel.close();
  });

  it("removing an operator closes their panels saying so", async () => {
    const ws = fresh();
    const admin = await withAdmin(ws);
    const bo = await add(ws, admin, "Bo");
    const s = await session(ws, bo.id);
    const panel = await readyPanel(ws, bo.id, s.id);
    expect(await ws.removeOperator(admin, bo.id)).toEqual({ ok: true, value: null });
    await panel.closedByServer("Bo's panel");
    expect(closing(panel)).toEqual({ code: 4003, reason: "Operator removed" });
    expect(await ws.authenticate(s.token)).toBeNull();
  });
});

describe("a sign-in attempt", () => {
  it("gets the account's credentials while not locked out, none when locked; a success starts the count over", async () => {
    const ws = fresh();
    const admin = await withAdmin(ws);
    const keys = { email: "ADA@example.com", network: null };
    const open = { waitMs: 0, credentials: { operatorId: admin.id, passwordHash: "not-a-real-hash" } };
    for (let i = 0; i < 5; i++) expect(await ws.loginAttempt(keys), `attempt ${i + 1}`).toMatchObject(open);
    const locked = await ws.loginAttempt(keys);
    expect(locked.waitMs, "the sixth in a row is locked out").toBeGreaterThan(0);
    expect(locked.credentials).toBeNull();
    expect(await ws.loginAttempt({ email: "nobody@example.com", network: null })).toMatchObject({
      waitMs: 0,
      credentials: null,
    });

    const other = freshWorkspace("ws-object");
    const ada = await withAdmin(other);
    for (let i = 0; i < 4; i++) await other.loginAttempt(keys);
    await other.loginSucceeded(keys);
    for (let i = 0; i < 5; i++) {
      expect(await other.loginAttempt(keys), `after the success, attempt ${i + 1}`).toMatchObject({
        waitMs: 0,
        credentials: { operatorId: ada.id },
      });
    }
  });
});

describe("a conversation's report", () => {
  it("with no figures and no messages given, adds the conversation and nothing else", async () => {
    const ws = fresh();
    const admin = await withAdmin(ws);
    const hook = await ws.addWebhook(admin, "https://hooks.test/ok/reports", ["message.created"]);
    if (!hook.ok) throw new Error(`addWebhook refused: ${hook.message}`);
    const now = Date.now();
    const answer = await ws.upsertConversation({ ...summaryOf("reported", now, now), version: 7 });
    expect(answer).toMatchObject({ version: 7, messages: true, since: hook.value.webhook.createdAt });
    const page = await ws.listConversations("all", admin.id, null, 10);
    expect(page.conversations.map((c) => [c.id, c.preview])).toEqual([["reported", "hello from reported"]]);
    expect(await ws.webhookDeliveries(admin, hook.value.webhook.id), "no message.created queued").toEqual({
      ok: true,
      value: [],
    });
    expect(
      await sql(ws, (q) => ({
        daily: q.exec("SELECT * FROM operator_daily").toArray(),
        firsts: q.exec("SELECT * FROM first_responses").toArray(),
      })),
      "no figures recorded",
    ).toEqual({ daily: [], firsts: [] });
  });
});

describe("reports waiting to be applied", () => {
  /** Puts a report in the workspace's queue, as one that has just arrived: not applied yet, its answer not awaited. */
  const queue = (ws: WorkspaceObject, ...report: Parameters<ConversationIndex["queue"]>) =>
    runInDurableObject(ws, (o) => void (o as unknown as { index: ConversationIndex }).index.queue(...report));

  it("are applied before a panel opens: its first lists hold them and it hears no upsert before them", async () => {
    const ws = fresh();
    const admin = await withAdmin(ws);
    const s = await session(ws, admin.id);
    const now = Date.now();
    await queue(ws, { ...summaryOf("queued", now, now), version: 1 }, [], []);
    const panel = await workspacePanel(ws, admin.id, s.id);
    const first = await panel.next("index");
    expect(panel.frames[0]?.type, "the panel's first frame").toBe("index");
    expect(first.all.map((c) => c.id)).toEqual(["queued"]);
    panel.close();
  });

  it("are applied before the operator report is read: the figures they carry count", async () => {
    const ws = fresh();
    const admin = await withAdmin(ws);
    const now = Date.now();
    await queue(
      ws,
      { ...summaryOf("figures", now, now), version: 1 },
      [{ kind: "message", operatorId: admin.id, at: now, value: 3 }],
      [],
    );
    const report = await ws.operatorReport(now - DAY, now + DAY);
    expect(report.operators.find((o) => o.id === admin.id)?.messagesSent).toBe(3);
  });
});

describe("calls passed on to the modules", () => {
  it("a visitor's other conversations by email: newest first, without the one asked from, at most the limit", async () => {
    const ws = fresh();
    const visitor = (email: string) => ({ visitor: { id: "v", name: null, email } });
    const now = Date.now();
    for (const [id, at, email] of [
      ["e1", now - 3, "pat@example.com"],
      ["e2", now - 2, "pat@example.com"],
      ["e3", now - 1, "PAT@example.com"],
      ["x1", now, "someone@example.com"],
    ] as const) {
      await ws.upsertConversation({ ...summaryOf(id, at, at, visitor(email)), version: 1 });
    }
    const ids = async (email: string, except: string, limit: number) =>
      (await ws.conversationsByEmail(email, except, limit)).map((c) => c.id);
    expect({
      exceptE2: await ids("pat@example.com", "e2", 10),
      limit1: await ids("pat@example.com", "e3", 1),
      nobody: await ids("nobody@example.com", "e1", 10),
    }).toEqual({ exceptE2: ["e3", "e1"], limit1: ["e2"], nobody: [] });
  });

  it("a reply's Message-ID recorded for a conversation leads the mail that answers it there; an unrecorded one opens another", async () => {
    const ws = fresh();
    const sender = "pat@example.com";
    await ws.ensureEmailThread("conv-mail", "visitor-mail", sender);
    await ws.recordEmailId("conv-mail", "<reply-1@microchat.test>");
    const answer = (references: string[], messageId: string) =>
      ws.routeEmail({
        sender,
        token: null,
        references,
        messageId,
        allowNew: true,
        verified: true,
        envelope: sender,
      });
    const joined = await answer(["<reply-1@microchat.test>"], "<answer-1@example.com>");
    const other = await answer(["<never-sent@microchat.test>"], "<answer-2@example.com>");
    expect({
      joined: joined?.conversationId,
      otherIsNew: other !== null && other.conversationId !== "conv-mail",
    }).toEqual({
      joined: "conv-mail",
      otherIsNew: true,
    });
  });

  it("a verified user keeps their first binding; a deleted one is replaced, any other left as it is", async () => {
    const ws = fresh();
    const first = { visitorId: "visitor-a", conversationId: "conversation-a" };
    expect(await ws.bindVerifiedUser("user-1", first)).toEqual(first);
    expect(await ws.bindVerifiedUser("user-1", { visitorId: "visitor-b", conversationId: "conversation-b" })).toEqual(
      first,
    );
    expect(await ws.rebindVerifiedUser("user-1", "conversation-b"), "not the bound one: unchanged").toEqual(first);
    const rebound = await ws.rebindVerifiedUser("user-1", "conversation-a");
    expect(rebound.conversationId).not.toBe("conversation-a");
    expect(await ws.bindVerifiedUser("user-1", null)).toEqual(rebound);
  });

  it("a rating is credited to its operators once, and the report covers the days asked for", async () => {
    const ws = fresh();
    const admin = await withAdmin(ws);
    const day = Math.floor(Date.now() / DAY) * DAY;
    const rating = { conversationId: "c-1", rating: 4, comment: "Kind", operatorIds: [admin.id], at: day + 1000 };
    await ws.recordRating({ id: "survey-1", ...rating });
    await ws.recordRating({ id: "survey-1", ...rating, rating: 1 });
    const report = await ws.operatorReport(day, day + DAY);
    expect([report.from, report.to]).toEqual([day, day + DAY]);
    expect(report.operators).toMatchObject([{ id: admin.id, ratings: 1, averageRating: 4 }]);
    const before = await ws.operatorReport(day - 2 * DAY, day - DAY);
    expect(before.operators).toMatchObject([{ id: admin.id, ratings: 0, averageRating: null }]);
  });
});

describe("settings and the retention check", () => {
  const retention = (ws: WorkspaceObject) =>
    runInDurableObject(ws, async (_o, state) => {
      const row = state.storage.sql
        .exec<{ value: string }>("SELECT value FROM settings WHERE key = 'retention_next_at'")
        .toArray()[0];
      return { nextAt: row ? (JSON.parse(row.value) as number) : null, alarm: await state.storage.getAlarm() };
    });

  it("saving retentionDays (even unchanged) schedules a check a minute on; saving anything else leaves it", async () => {
    const ws = fresh();
    const admin = await withAdmin(ws);
    expect(await ws.updateSettings(admin, { retentionDays: 30 })).toMatchObject({ ok: true });
    // As if the check were far off, with no alarm.
    await runInDurableObject(ws, async (_o, state) => {
      state.storage.sql.exec("UPDATE settings SET value = '9999999999999' WHERE key = 'retention_next_at'");
      await state.storage.deleteAlarm();
    });
    expect(await ws.updateSettings(admin, { emailName: "Support", surveyByEmail: true })).toMatchObject({ ok: true });
    expect(await retention(ws), "another setting saved").toEqual({ nextAt: 9999999999999, alarm: null });

    const t0 = Date.now();
    expect(await ws.updateSettings(admin, { retentionDays: 30 })).toMatchObject({
      ok: true,
      value: { retentionDays: 30 },
    });
    const after = await retention(ws);
    expect(after.nextAt, `retention_next_at after saving the same days: ${after.nextAt}`).toBeGreaterThanOrEqual(t0);
    expect(after.nextAt).toBeLessThanOrEqual(Date.now());
    expect(after.alarm, `alarm ${after.alarm}`).toBeGreaterThanOrEqual(t0 + 60_000);
    expect(after.alarm, `alarm ${after.alarm}`).toBeLessThanOrEqual(Date.now() + 60_000);
  });
});

describe("the alarm", () => {
  it("delivers webhooks before retention runs: what retention deletes goes out on the next alarm", async () => {
    const ws = fresh();
    const admin = await withAdmin(ws);
    const old = Date.now() - 40 * DAY;
    await ws.upsertConversation({ ...summaryOf("ancient", old, old), version: 1 });
    expect(await ws.updateSettings(admin, { retentionDays: 30 })).toMatchObject({ ok: true });
    const hook = await ws.addWebhook(admin, "https://hooks.test/ok/alarm-order", ["conversation.deleted"]);
    if (!hook.ok) throw new Error(`addWebhook refused: ${hook.message}`);
    const deliveries = async () => {
      const log = await ws.webhookDeliveries(admin, hook.value.webhook.id);
      return log.ok ? log.value.map((d) => [d.event, d.status, d.attempts]) : log;
    };

    expect(await runDurableObjectAlarm(ws)).toBe(true);
    expect((await ws.listConversations("all", admin.id, null, 10)).conversations, "retention ran").toEqual([]);
    expect(await deliveries(), "queued by retention, after the deliveries ran").toEqual([
      ["conversation.deleted", "pending", 0],
    ]);
    expect(await runDurableObjectAlarm(ws), "re-armed for the delivery").toBe(true);
    expect(await deliveries()).toEqual([["conversation.deleted", "delivered", 1]]);
  });
});

describe("the runtime answers a panel's ping", () => {
  it("with a pong, without the object: the pair is set, and a ping is answered and stamped", async () => {
    const ws = fresh();
    const admin = await withAdmin(ws);
    const s = await session(ws, admin.id);
    const panel = await readyPanel(ws, admin.id, s.id);
    await panel.roundTrip();
    const seen = await runInDurableObject(ws, (_o, state) => {
      const pair = state.getWebSocketAutoResponse();
      const [socket] = state.getWebSockets("panel");
      return {
        request: pair?.request,
        response: pair?.response,
        stamped: socket ? state.getWebSocketAutoResponseTimestamp(socket) !== null : "no panel socket",
      };
    });
    expect(seen).toEqual({ request: '{"type":"ping"}', response: '{"type":"pong"}', stamped: true });
    expect(
      panel.frames.filter((f) => f.type === "error"),
      "the ping reached the object",
    ).toEqual([]);
    panel.close();
  });
});

describe("the schema", () => {
  const tablesAndIndexes = (q: SqlStorage) =>
    q
      .exec<{ type: string; name: string; tbl_name: string }>(
        "SELECT type, name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index') AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' ORDER BY type, name",
      )
      .toArray()
      .map((r) => (r.type === "table" ? r.name : `${r.name} on ${r.tbl_name}`));
  const columns = (q: SqlStorage, table: string) =>
    q
      .exec<{ name: string; type: string; notnull: number; dflt_value: string | null }>(
        `SELECT name, type, "notnull", dflt_value FROM pragma_table_info('${table}') ORDER BY cid`,
      )
      .toArray()
      .map(
        (c) => `${c.name} ${c.type}${c.notnull ? " NOT NULL" : ""}${c.dflt_value === null ? "" : ` = ${c.dflt_value}`}`,
      );

  it("a new workspace has every migration recorded once, in order, and every table and index they make", async () => {
    const ws = fresh();
    const seen = await sql(ws, (q) => ({
      migrations: q
        .exec<{ id: number; name: string }>("SELECT id, name FROM _migrations ORDER BY id")
        .toArray()
        .map((m) => `${m.id} ${m.name}`),
      schema: tablesAndIndexes(q),
    }));
    expect(seen.migrations).toEqual([
      "1 operators, sessions, conversation index",
      "2 settings and email threading",
      "3 ratings and operator report aggregates",
      "4 operator presence status",
      "5 API tokens",
      "6 webhooks and their deliveries",
      "7 verified site users",
      "8 conversations by visitor email",
      "9 settings values as JSON",
      "10 API token scopes and expiry",
      "11 audit log",
      "12 session idle time",
      "13 sign-in throttling",
      "14 conversation sockets opened with each operator session",
      "15 word of ended sessions, kept until each conversation has heard it",
      "16 visitors told live whether anyone can answer",
    ]);
    expect(seen.schema).toEqual([
      "assignments_conversation on assignments",
      "audit_log_at on audit_log",
      "availability_watchers_retry on availability_watchers",
      "conversations_email on conversations",
      "conversations_last on conversations",
      "conversations_status on conversations",
      "email_threads_sender on email_threads",
      "first_responses_operator on first_responses",
      "login_failures_last on login_failures",
      "operator_daily_day on operator_daily",
      "operator_sockets_operator on operator_sockets",
      "ratings_conversation on ratings",
      "sessions_operator on sessions",
      "socket_ends_next on socket_ends",
      "webhook_deliveries_due on webhook_deliveries",
      "webhook_deliveries_hook on webhook_deliveries",
      "_migrations",
      "api_tokens",
      "assignments",
      "audit_log",
      "availability",
      "availability_watchers",
      "conversations",
      "email_message_ids",
      "email_threads",
      "first_responses",
      "index_versions",
      "login_failures",
      "operator_daily",
      "operator_sockets",
      "operators",
      "ratings",
      "sessions",
      "settings",
      "socket_ends",
      "verified_users",
      "webhook_deliveries",
      "webhooks",
    ]);
  });

  it("the columns added after a table was made are there, with their defaults", async () => {
    const ws = fresh();
    const seen = await sql(ws, (q) => ({
      operators: columns(q, "operators"),
      sessions: columns(q, "sessions"),
      api_tokens: columns(q, "api_tokens"),
    }));
    expect(seen).toEqual({
      operators: [
        "id TEXT",
        "name TEXT NOT NULL",
        "email TEXT NOT NULL",
        "password_hash TEXT NOT NULL",
        "admin INTEGER NOT NULL = 0",
        "created_at INTEGER NOT NULL",
        "away INTEGER NOT NULL = 0",
      ],
      sessions: [
        "token_hash TEXT",
        "operator_id TEXT NOT NULL",
        "created_at INTEGER NOT NULL",
        "expires_at INTEGER NOT NULL",
        "last_seen_at INTEGER NOT NULL = 0",
      ],
      api_tokens: [
        "id TEXT",
        "name TEXT NOT NULL",
        "token_hash TEXT NOT NULL",
        "operator_id TEXT NOT NULL",
        "created_at INTEGER NOT NULL",
        "last_used_at INTEGER",
        "revoked_at INTEGER",
        "scope TEXT NOT NULL = 'admin'",
        "expires_at INTEGER",
      ],
    });
  });

  it("migrating again changes nothing, and the last four migrations run again over themselves", async () => {
    const ws = fresh();
    const admin = await withAdmin(ws);
    const snapshot = (q: SqlStorage) => ({
      migrations: q.exec("SELECT * FROM _migrations ORDER BY id").toArray(),
      schema: q.exec("SELECT type, name, sql FROM sqlite_master ORDER BY name").toArray(),
    });
    const seen = await sql(ws, (q) => {
      q.exec("INSERT INTO login_failures (key, failures, last_at) VALUES ('account:x@example.com', 3, 1)");
      q.exec("INSERT INTO operator_sockets (session_id, operator_id, conversation_id) VALUES ('s', 'o', 'c')");
      q.exec(
        "INSERT INTO socket_ends (conversation_id, operator_id, session_id, why, next_at, until) VALUES ('c', 'o', 's', 'signedOut', 1, 2)",
      );
      q.exec("INSERT INTO availability_watchers (conversation_id) VALUES ('c')");
      q.exec("INSERT INTO availability (id, told, pending_at, mixed) VALUES (1, 1, NULL, 0)");
      const before = snapshot(q);
      migrate(q, workspaceMigrations);
      const again = snapshot(q);
      rerunMigration(q, 16);
      rerunMigration(q, 15);
      rerunMigration(q, 14);
      rerunMigration(q, 13);
      return {
        again: JSON.stringify(again) === JSON.stringify(before),
        ids: q
          .exec<{ id: number }>("SELECT id FROM _migrations ORDER BY id")
          .toArray()
          .map((m) => m.id),
        kept: {
          failures: q.exec("SELECT key, failures FROM login_failures").toArray(),
          sockets: q.exec("SELECT * FROM operator_sockets").toArray(),
          ends: q.exec("SELECT conversation_id, session_id, attempts FROM socket_ends").toArray(),
          watchers: q.exec("SELECT conversation_id FROM availability_watchers").toArray(),
          told: q.exec("SELECT told, pending_at, mixed FROM availability").toArray(),
        },
        schema: JSON.stringify(snapshot(q).schema) === JSON.stringify(before.schema),
      };
    });
    expect(seen).toEqual({
      again: true,
      ids: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16],
      kept: {
        failures: [{ key: "account:x@example.com", failures: 3 }],
        sockets: [{ session_id: "s", operator_id: "o", conversation_id: "c" }],
        ends: [{ conversation_id: "c", session_id: "s", attempts: 0 }],
        watchers: [{ conversation_id: "c" }],
        told: [{ told: 1, pending_at: null, mixed: 0 }],
      },
      schema: true,
    });
    // And the object works on as before.
    expect((await ws.listOperators()).map((o) => o.id)).toEqual([admin.id]);
  });
});
