/**
 * Whether anyone can answer, told to visitors' widgets live
 * (workspace/visitor-availability.ts): an operator opening the panel or
 * coming back from Away is heard at once; choosing Away at once; a panel
 * closing only after the grace, and not at all if it is back in time;
 * everyone ends on the newest answer, also after a restart or a failed call.
 */
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { PanelServerFrame, ServerFrame } from "../worker/protocol";
import type { Env } from "../worker/env";
import { MAX_ATTEMPTS, RETRY_MS } from "../worker/workspace/visitor-availability";
import {
  fetchApp,
  framesSince,
  join,
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

type Told = { told: number | null; pending_at: number | null; mixed: number };

function told(): Promise<Told | null> {
  return runInDurableObject(
    workspace(),
    (_o, state) =>
      state.storage.sql.exec<Told>("SELECT told, pending_at, mixed FROM availability WHERE id = 1").toArray()[0] ??
      null,
  );
}

function watchers(): Promise<string[]> {
  return runInDurableObject(workspace(), (_o, state) =>
    state.storage.sql
      .exec<{ conversation_id: string }>("SELECT conversation_id FROM availability_watchers")
      .toArray()
      .map((r) => r.conversation_id),
  );
}

/** Waits (bounded) until the workspace's records satisfy `ok`; fails with what they were. */
async function watchersUntil(ok: (ids: string[]) => boolean, what: string): Promise<void> {
  const end = Date.now() + 10_000;
  for (;;) {
    const ids = await watchers();
    if (ok(ids)) return;
    if (Date.now() > end) throw new Error(`${what}: the conversations recorded are ${JSON.stringify(ids)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The wait after a panel closed ends now: the alarm tells the visitors. */
async function graceEnds(): Promise<void> {
  await runInDurableObject(workspace(), (_o, state) => {
    state.storage.sql.exec("UPDATE availability SET pending_at = ? WHERE id = 1", Date.now() - 1);
  });
  expect(await runDurableObjectAlarm(workspace())).toBe(true);
}

function setStatus(cookie: string, status: "online" | "away") {
  return fetchApp("/api/operators/me/status", {
    method: "PUT",
    headers: { Cookie: cookie, "Content-Type": "application/json" },
    body: JSON.stringify({ status }),
  });
}

const availabilityFrames = async (s: TestSocket<ServerFrame>, from: number) =>
  (await framesSince(s, from)).filter((f) => f.type === "availability");

/**
 * Routes the workspace's calls to conversation `id` through `answer` (given the real call); others go to the real
 * conversations. Undone by `throughRealConversations`.
 */
function throughFakeConversation(id: string, answer: (real: () => Promise<boolean>) => Promise<boolean>) {
  return runInDurableObject(workspace(), (o) => {
    const w = (o as unknown as { availability: { w: { env: Env } } }).availability.w;
    const real = env.CONVERSATION;
    w.env = {
      ...w.env,
      CONVERSATION: {
        idFromName: (name: string) => real.idFromName(name),
        get: (oid: DurableObjectId) => {
          const stub = real.get(oid);
          return {
            availabilityChanged: (a: boolean) =>
              oid.equals(real.idFromName(id)) ? answer(() => stub.availabilityChanged(a)) : stub.availabilityChanged(a),
          };
        },
      } as unknown as Env["CONVERSATION"],
    };
  });
}

function throughRealConversations() {
  return runInDurableObject(workspace(), (o) => {
    const w = (o as unknown as { availability: { w: { env: Env } } }).availability.w;
    w.env = { ...w.env, CONVERSATION: env.CONVERSATION };
  });
}

const alarmAt = () => runInDurableObject(workspace(), (_o, state) => state.storage.getAlarm());

/** Waits for the visitor's socket to be told `available`. */
async function hears(v: TestSocket<ServerFrame>, available: boolean): Promise<void> {
  expect(await v.next("availability")).toEqual({ type: "availability", available });
}

/** Opens a panel as `cookie` and waits for its first lists. */
async function openPanel(cookie: string): Promise<TestSocket<PanelServerFrame>> {
  const panel = await panelSocket(cookie);
  await panel.next("index");
  return panel;
}

/** Closes the last panel and ends the grace: the workspace is left as nobody online, all told. */
async function closeForGood(panel: TestSocket<PanelServerFrame>): Promise<void> {
  panel.close();
  await panel.whenClosed;
  await graceEnds();
}

describe("visitors hear live whether anyone can answer", () => {
  it("an operator opening the panel, choosing Away and coming back is heard at once, without reconnecting", async () => {
    const admin = await signInAdmin();
    expect((await setStatus(admin, "online")).status).toBe(200);
    const v = await visitorSocket(await newVisitorSession());
    expect((await v.next("welcome")).available).toBe(false);

    const panel = await openPanel(admin);
    await hears(v, true);
    expect((await setStatus(admin, "away")).status).toBe(200);
    await hears(v, false);
    expect((await setStatus(admin, "online")).status).toBe(200);
    await hears(v, true);
    expect(await told()).toEqual({ told: 1, pending_at: null, mixed: 0 });
    await closeForGood(panel);
    v.close();
  });

  it("the last panel closing is told only when the grace is over; one back in time is not told at all", async () => {
    const admin = await signInAdmin();
    const first = await openPanel(admin);
    const v = await visitorSocket(await newVisitorSession());
    expect((await v.next("welcome")).available).toBe(true);
    const from = v.frames.length;

    // A reload: the panel goes and comes back before the grace is over. Nothing is told.
    first.close();
    await first.whenClosed;
    const waiting = await told();
    expect(waiting?.told).toBe(1);
    expect(waiting?.pending_at).toBeGreaterThan(Date.now());
    const second = await openPanel(admin);
    expect(await told()).toEqual({ told: 1, pending_at: null, mixed: 0 });
    expect(await availabilityFrames(v, from)).toEqual([]);

    // Gone for good: told once the grace is over, not before.
    second.close();
    await second.whenClosed;
    expect(await availabilityFrames(v, from)).toEqual([]);
    await graceEnds();
    await hears(v, false);
    expect(await told()).toEqual({ told: 0, pending_at: null, mixed: 0 });
    v.close();
  });

  it("a visitor told 'nobody' during the grace hears it when the operator is back in time", async () => {
    const admin = await signInAdmin();
    const first = await openPanel(admin);
    const early = await visitorSocket(await newVisitorSession());
    expect((await early.next("welcome")).available).toBe(true);
    const from = early.frames.length;
    first.close();
    await first.whenClosed;

    const late = await visitorSocket(await newVisitorSession());
    expect((await late.next("welcome")).available).toBe(false);
    expect((await told())?.mixed).toBe(1);
    const back = await openPanel(admin);
    await hears(late, true);
    // The visitor who never heard otherwise hears it again, which changes nothing for them.
    expect(await availabilityFrames(early, from)).toEqual([{ type: "availability", available: true }]);
    expect(await told()).toEqual({ told: 1, pending_at: null, mixed: 0 });
    await closeForGood(back);
    early.close();
    late.close();
  });

  it("only the visitor's sockets hear it; a conversation whose visitor left is no longer told", async () => {
    const admin = await signInAdmin();
    expect((await setStatus(admin, "online")).status).toBe(200);
    const session = await newVisitorSession();
    const v = await visitorSocket(session);
    await v.next("welcome");
    await say(v, "hello?");
    expect((await join(admin, session.conversationId)).status).toBe(200);
    const op = await operatorSocket(admin, session.conversationId);
    await op.next("welcome");
    const opFrom = op.frames.length;
    await watchersUntil((ids) => ids.includes(session.conversationId), "the visitor's hello records it");

    const panel = await openPanel(admin);
    await hears(v, true);
    expect(await availabilityFrames(op, opFrom)).toEqual([]);

    // The visitor's last socket closes: the record goes.
    v.close();
    await v.whenClosed;
    await watchersUntil((ids) => !ids.includes(session.conversationId), "the visitor left");

    // A record whose visitor is gone (its word was lost) is dropped at the next change.
    const ghost = `ghost-${crypto.randomUUID()}`;
    await runInDurableObject(workspace(), (_o, state) => {
      state.storage.sql.exec("INSERT INTO availability_watchers (conversation_id) VALUES (?)", ghost);
    });
    expect((await setStatus(admin, "away")).status).toBe(200);
    await watchersUntil((ids) => !ids.includes(ghost), "a conversation with no visitor was told");
    expect((await setStatus(admin, "online")).status).toBe(200);
    op.close();
    await closeForGood(panel);
  });
  it("after a restart dropped the panels without a close, visitors told 'nobody' hear it when an operator is back", async () => {
    const admin = await signInAdmin();
    // What a restart leaves: visitors were last told "someone", and no panel is open (no close was ever heard).
    await runInDurableObject(workspace(), (_o, state) => {
      state.storage.sql.exec("UPDATE availability SET told = 1, pending_at = NULL, mixed = 0 WHERE id = 1");
    });
    const v = await visitorSocket(await newVisitorSession());
    expect((await v.next("welcome")).available).toBe(false);
    expect(await told()).toEqual({ told: 1, pending_at: null, mixed: 1 });
    const panel = await openPanel(admin);
    await hears(v, true);
    expect(await told()).toEqual({ told: 1, pending_at: null, mixed: 0 });
    await closeForGood(panel);
    v.close();
  });

  it("signing out and being removed are told at once, without the grace", async () => {
    const admin = await signInAdmin();
    const bob = await newOperator(admin, "Bob");
    const panel = await openPanel(bob.cookie);
    const v = await visitorSocket(await newVisitorSession());
    expect((await v.next("welcome")).available).toBe(true);
    const removed = await fetchApp(`/api/operators/${bob.id}`, { method: "DELETE", headers: { Cookie: admin } });
    expect(removed.status).toBe(204);
    await hears(v, false);
    expect((await told())?.pending_at).toBe(null);

    const adminPanel = await openPanel(admin);
    await hears(v, true);
    const out = await fetchApp("/api/auth/logout", { method: "POST", headers: { Cookie: admin } });
    expect(out.ok).toBe(true);
    await hears(v, false);

    // Signing out everywhere, too.
    const again = await signInAdmin();
    const third = await openPanel(again);
    await hears(v, true);
    const everywhere = await fetchApp("/api/operators/me/sessions", { method: "DELETE", headers: { Cookie: again } });
    expect(everywhere.status).toBe(200);
    await hears(v, false);
    await third.whenClosed;
    expect(await told()).toEqual({ told: 0, pending_at: null, mixed: 0 });
    v.close();
  });

  it("more conversations than a batch: each is told, and those whose visitor is gone are forgotten", async () => {
    const admin = await signInAdmin();
    const v = await visitorSocket(await newVisitorSession());
    expect((await v.next("welcome")).available).toBe(false);
    const ghosts = Array.from({ length: 250 }, (_, i) => `ghost-${i}-${crypto.randomUUID()}`);
    await runInDurableObject(workspace(), (_o, state) => {
      for (const id of ghosts)
        state.storage.sql.exec("INSERT INTO availability_watchers (conversation_id) VALUES (?)", id);
    });
    const panel = await openPanel(admin);
    await hears(v, true);
    await watchersUntil((ids) => ids.length === 1, "every ghost told and forgotten");
    await closeForGood(panel);
    await hears(v, false);
    v.close();
  });

  it("a conversation that could not be told is told again by the alarm, and given up on after a few tries", async () => {
    const admin = await signInAdmin();
    const session = await newVisitorSession();
    const v = await visitorSocket(session);
    expect((await v.next("welcome")).available).toBe(false);
    const id = session.conversationId;
    // The workspace's way to the conversations fails for this one while `failing`.
    let failing = true;
    const row = () =>
      runInDurableObject(
        workspace(),
        (_o, state) =>
          state.storage.sql
            .exec<{
              attempts: number;
              retry_at: number | null;
            }>("SELECT attempts, retry_at FROM availability_watchers WHERE conversation_id = ?", id)
            .toArray()[0],
      );
    const retryNow = () =>
      runInDurableObject(workspace(), (_o, state) => {
        state.storage.sql.exec("UPDATE availability_watchers SET retry_at = ? WHERE conversation_id = ?", 1, id);
      });
    await throughFakeConversation(id, (real) =>
      failing ? Promise.reject(new Error("conversation unreachable")) : real(),
    );
    try {
      const before = Date.now();
      const panel = await openPanel(admin);
      const end = Date.now() + 10_000;
      while ((await row())?.attempts !== 1) {
        if (Date.now() > end) throw new Error(`not counted as failed: ${JSON.stringify(await row())}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      expect((await row())!.retry_at).toBeGreaterThanOrEqual(before + RETRY_MS);
      expect(await alarmAt()).toBeGreaterThanOrEqual(before + RETRY_MS);
      // Still failing: each alarm counts a try, until the last, which leaves it to the widget's next reconnect.
      for (let attempt = 2; attempt <= MAX_ATTEMPTS; attempt++) {
        await retryNow();
        expect(await runDurableObjectAlarm(workspace())).toBe(true);
        expect(await row()).toMatchObject({ attempts: attempt });
      }
      expect((await row())!.retry_at).toBe(null);
      expect(await availabilityFrames(v, 0)).toEqual([]);
      // Reachable again: the next try tells it.
      failing = false;
      await runInDurableObject(workspace(), (_o, state) => {
        state.storage.sql.exec("UPDATE availability_watchers SET attempts = 0 WHERE conversation_id = ?", id);
      });
      await retryNow();
      expect(await runDurableObjectAlarm(workspace())).toBe(true);
      await hears(v, true);
      expect(await row()).toEqual({ attempts: 0, retry_at: null });
      await closeForGood(panel);
    } finally {
      failing = false;
      await throughRealConversations();
    }
    v.close();
  });
  it("during the grace a change that leaves nobody online keeps the wait (an alarm lost meanwhile is armed again), and an early alarm tells nothing", async () => {
    const admin = await signInAdmin();
    const cy = await newOperator(admin, "Cy");
    expect((await setStatus(cy.cookie, "away")).status).toBe(200);
    const panel = await openPanel(admin);
    const v = await visitorSocket(await newVisitorSession());
    expect((await v.next("welcome")).available).toBe(true);
    const from = v.frames.length;
    panel.close();
    await panel.whenClosed;
    const waiting = (await told())!;
    expect(waiting.pending_at).toBeGreaterThan(Date.now());
    await runInDurableObject(workspace(), (_o, state) => state.storage.deleteAlarm());

    // An Away operator opens the panel: still nobody to answer, and the wait goes on as it was.
    const cyPanel = await openPanel(cy.cookie);
    expect(await told()).toEqual(waiting);
    expect(await alarmAt()).toBe(waiting.pending_at);
    // The alarm firing early (for another job) tells nothing yet.
    expect(await runDurableObjectAlarm(workspace())).toBe(true);
    expect(await told()).toEqual(waiting);
    expect(await availabilityFrames(v, from)).toEqual([]);
    await graceEnds();
    await hears(v, false);
    cyPanel.close();
    v.close();
  });

  it("after an alarm the next is set for the soonest of the wait and the retries", async () => {
    const ghost = `ghost-${crypto.randomUUID()}`;
    const soon = Date.now() + 30_000;
    const later = Date.now() + 60_000;
    const arrange = (pending: number | null, retry: number) =>
      runInDurableObject(workspace(), (_o, state) => {
        state.storage.sql.exec("UPDATE availability SET pending_at = ? WHERE id = 1", pending);
        state.storage.sql.exec(
          `INSERT INTO availability_watchers (conversation_id, retry_at) VALUES (?, ?)
           ON CONFLICT (conversation_id) DO UPDATE SET retry_at = excluded.retry_at`,
          ghost,
          retry,
        );
        return state.storage.setAlarm(Date.now() + 1);
      });
    await arrange(soon, later);
    expect(await runDurableObjectAlarm(workspace())).toBe(true);
    expect(await alarmAt()).toBe(soon);
    await arrange(null, later);
    expect(await runDurableObjectAlarm(workspace())).toBe(true);
    expect(await alarmAt()).toBe(later);
    await runInDurableObject(workspace(), (_o, state) => {
      state.storage.sql.exec("DELETE FROM availability_watchers WHERE conversation_id = ?", ghost);
    });
  });

  it("one broadcast at a time: a change while one waits on a slow conversation is told after it, to everyone", async () => {
    const admin = await signInAdmin();
    expect((await setStatus(admin, "online")).status).toBe(200);
    const v = await visitorSocket(await newVisitorSession());
    expect((await v.next("welcome")).available).toBe(false);
    const from = v.frames.length;
    const slow = `slow-${crypto.randomUUID()}`;
    await runInDurableObject(workspace(), (_o, state) => {
      state.storage.sql.exec("INSERT INTO availability_watchers (conversation_id) VALUES (?)", slow);
    });
    const calls: string[] = [];
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let calledOnce!: () => void;
    const wasCalled = new Promise<void>((resolve) => (calledOnce = resolve));
    await throughFakeConversation(slow, async (real) => {
      calls.push("told");
      calledOnce();
      await released;
      return real();
    });
    try {
      const panel = await openPanel(admin);
      await wasCalled;
      await hears(v, true);
      // Away while the first broadcast still waits on the slow conversation: nothing goes out yet.
      expect((await setStatus(admin, "away")).status).toBe(200);
      expect(await told()).toMatchObject({ told: 0 });
      expect(await availabilityFrames(v, from)).toEqual([{ type: "availability", available: true }]);
      expect(calls).toEqual(["told"]);
      release();
      await hears(v, false);
      await watchersUntil((ids) => !ids.includes(slow), "the slow conversation answered that it has no visitor");
      expect((await setStatus(admin, "online")).status).toBe(200);
      await hears(v, true);
      await closeForGood(panel);
      await hears(v, false);
    } finally {
      release();
      await throughRealConversations();
    }
    v.close();
  });
});
