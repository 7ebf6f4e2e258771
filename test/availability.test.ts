/**
 * Whether anyone can answer, told to visitors' widgets live
 * (workspace/visitor-availability.ts): an operator opening the panel or
 * coming back from Away is heard at once; choosing Away at once; a panel
 * closing only after the grace, and not at all if it is back in time.
 */
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ServerFrame } from "../worker/protocol";
import {
  fetchApp,
  framesSince,
  join,
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

describe("visitors hear live whether anyone can answer", () => {
  it("an operator opening the panel, choosing Away and coming back is heard at once, without reconnecting", async () => {
    const admin = await signInAdmin();
    expect((await setStatus(admin, "online")).status).toBe(200);
    const v = await visitorSocket(await newVisitorSession());
    expect((await v.next("welcome")).available).toBe(false);

    const panel = await panelSocket(admin);
    await panel.next("index");
    expect(await v.next("availability")).toEqual({ type: "availability", available: true });
    expect((await setStatus(admin, "away")).status).toBe(200);
    expect(await v.next("availability")).toEqual({ type: "availability", available: false });
    expect((await setStatus(admin, "online")).status).toBe(200);
    expect(await v.next("availability")).toEqual({ type: "availability", available: true });
    expect(await told()).toEqual({ told: 1, pending_at: null, mixed: 0 });
    panel.close();
    await panel.whenClosed;
    await graceEnds();
    v.close();
  });

  it("the last panel closing is told only when the grace is over; one back in time is not told at all", async () => {
    const admin = await signInAdmin();
    const first = await panelSocket(admin);
    await first.next("index");
    const v = await visitorSocket(await newVisitorSession());
    expect((await v.next("welcome")).available).toBe(true);
    const from = v.frames.length;

    // A reload: the panel goes and comes back before the grace is over. Nothing is told.
    first.close();
    await first.whenClosed;
    const waiting = await told();
    expect(waiting?.told).toBe(1);
    expect(waiting?.pending_at).toBeGreaterThan(Date.now());
    const second = await panelSocket(admin);
    await second.next("index");
    expect(await told()).toEqual({ told: 1, pending_at: null, mixed: 0 });
    expect(await availabilityFrames(v, from)).toEqual([]);

    // Gone for good: told once the grace is over, not before.
    second.close();
    await second.whenClosed;
    expect(await availabilityFrames(v, from)).toEqual([]);
    await graceEnds();
    expect(await v.next("availability")).toEqual({ type: "availability", available: false });
    expect(await told()).toEqual({ told: 0, pending_at: null, mixed: 0 });
    v.close();
  });

  it("a visitor told 'nobody' during the grace hears it when the operator is back in time", async () => {
    const admin = await signInAdmin();
    const first = await panelSocket(admin);
    await first.next("index");
    const early = await visitorSocket(await newVisitorSession());
    expect((await early.next("welcome")).available).toBe(true);
    const from = early.frames.length;
    first.close();
    await first.whenClosed;

    const late = await visitorSocket(await newVisitorSession());
    expect((await late.next("welcome")).available).toBe(false);
    expect((await told())?.mixed).toBe(1);
    const back = await panelSocket(admin);
    await back.next("index");
    expect(await late.next("availability")).toEqual({ type: "availability", available: true });
    // The visitor who never heard otherwise hears it again, which changes nothing for them.
    expect(await availabilityFrames(early, from)).toEqual([{ type: "availability", available: true }]);
    expect(await told()).toEqual({ told: 1, pending_at: null, mixed: 0 });
    back.close();
    await back.whenClosed;
    await graceEnds();
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

    const panel = await panelSocket(admin);
    await panel.next("index");
    expect(await v.next("availability")).toEqual({ type: "availability", available: true });
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
    panel.close();
    await panel.whenClosed;
    await graceEnds();
  });
});
