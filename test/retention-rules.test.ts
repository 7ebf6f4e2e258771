/**
 * Retention and the workspace's one alarm, rule by rule. Each test uses a
 * workspace object of its own, whose index is written directly: ids of
 * conversations that never existed (the conversation answers "unknown", and
 * retention forgets them) or of real ones, made through the app.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  failingBinding,
  fetchApp,
  freshWorkspace as fresh,
  signInAdmin,
  visitorWithMessage,
  withAdmin,
  type WorkspaceObject as Stub,
} from "./helpers";

const DAY = 24 * 3600_000;
const HOUR = 3600_000;

const freshWorkspace = () => fresh("retention");

/** Index rows for `ids`, last active `ageMs` ago. */
function indexed(ws: Stub, ids: string[], ageMs: number): Promise<void> {
  return runInDurableObject(ws, (_o, state) => {
    const at = Date.now() - ageMs;
    for (const id of ids)
      state.storage.sql.exec(
        "INSERT INTO conversations (id, status, visitor_id, last_at, created_at) VALUES (?, 'unassigned', ?, ?, ?)",
        id,
        `visitor-${id}`,
        at,
        at,
      );
  });
}

/** The ids still in the index, sorted. */
function indexIds(ws: Stub): Promise<string[]> {
  return runInDurableObject(ws, (_o, state) =>
    state.storage.sql
      .exec<{ id: string }>("SELECT id FROM conversations ORDER BY id")
      .toArray()
      .map((r) => r.id),
  );
}

const setting = (ws: Stub, key: string) =>
  runInDurableObject(ws, (_o, state) => {
    const row = state.storage.sql.exec<{ value: string }>("SELECT value FROM settings WHERE key = ?", key).toArray()[0];
    return row ? (JSON.parse(row.value) as unknown) : null;
  });
const putSetting = (ws: Stub, key: string, value: unknown) =>
  runInDurableObject(ws, (_o, state) => {
    state.storage.sql.exec(
      "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
      key,
      JSON.stringify(value),
    );
  });
const alarmAt = (ws: Stub) => runInDurableObject(ws, (_o, state) => state.storage.getAlarm());
const setAlarm = (ws: Stub, at: number) => runInDurableObject(ws, (_o, state) => state.storage.setAlarm(at));
const ids = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `${tag}-${String(i).padStart(3, "0")}`);

describe("retention", () => {
  it("off deletes nothing, even when the alarm fires for something else", async () => {
    const ws = freshWorkspace();
    const admin = await withAdmin(ws);
    expect(await ws.updateSettings(admin, { retentionDays: 0 })).toMatchObject({ ok: true });
    expect(await setting(ws, "retention_next_at"), "no check scheduled while off").toBeNull();
    expect(await alarmAt(ws), "no alarm while off").toBeNull();
    await indexed(ws, ["ancient"], 3650 * DAY);
    await indexed(ws, ["just-now"], 0);
    await putSetting(ws, "retention_next_at", Date.now() - HOUR);
    await setAlarm(ws, Date.now());
    expect(await runDurableObjectAlarm(ws)).toBe(true);
    expect(await indexIds(ws)).toEqual(["ancient", "just-now"]);
    expect(await alarmAt(ws), "nothing left to wake for").toBeNull();
  });

  it("on, a check waits until it is due; when due it forgets what is past the limit and nothing newer", async () => {
    const ws = freshWorkspace();
    const admin = await withAdmin(ws);
    const t0 = Date.now();
    expect(await ws.updateSettings(admin, { retentionDays: 30 })).toMatchObject({ ok: true });
    const next = (await setting(ws, "retention_next_at")) as number;
    expect(next, "the first check is recorded as due from now").toBeGreaterThanOrEqual(t0);
    expect(next).toBeLessThanOrEqual(Date.now());
    await indexed(ws, ["old-a", "old-b"], 31 * DAY);
    await indexed(ws, ["recent"], 29 * DAY);

    // Not due yet: the alarm fires (early, for another job) and the check waits.
    await putSetting(ws, "retention_next_at", Date.now() + HOUR);
    await setAlarm(ws, Date.now());
    expect(await runDurableObjectAlarm(ws)).toBe(true);
    expect(await indexIds(ws), "before the check is due").toEqual(["old-a", "old-b", "recent"]);
    const waiting = await alarmAt(ws);
    expect(waiting, "re-armed for the check that waits").toBeGreaterThan(Date.now() + HOUR - 60_000);
    expect(waiting).toBeLessThanOrEqual(Date.now() + HOUR);

    // Due: both old ones are forgotten, the recent one stays, and the next check is in 6 hours.
    await putSetting(ws, "retention_next_at", Date.now() - 1);
    await setAlarm(ws, Date.now());
    expect(await runDurableObjectAlarm(ws)).toBe(true);
    expect(await indexIds(ws)).toEqual(["recent"]);
    const after = (await setting(ws, "retention_next_at")) as number;
    expect(after).toBeGreaterThan(Date.now() + 6 * HOUR - 60_000);
    expect(after).toBeLessThanOrEqual(Date.now() + 6 * HOUR);
    expect(await alarmAt(ws)).toBe(after);

    // Turned off: the alarm runs once more and is not armed again for retention.
    expect(await ws.updateSettings(admin, { retentionDays: 0 })).toMatchObject({ ok: true });
    await setAlarm(ws, Date.now());
    expect(await runDurableObjectAlarm(ws)).toBe(true);
    expect(await alarmAt(ws)).toBeNull();
  });

  it("a full batch of 50 looks again a second later, and the rest goes then", async () => {
    const ws = freshWorkspace();
    const admin = await withAdmin(ws);
    await ws.updateSettings(admin, { retentionDays: 1 });
    const due = ids(51, "stale");
    await indexed(ws, due, 2 * DAY);
    await putSetting(ws, "retention_next_at", Date.now() - 1);
    await setAlarm(ws, Date.now());
    expect(await runDurableObjectAlarm(ws)).toBe(true);
    const left = await indexIds(ws);
    expect(left, "one batch of 50 deleted, oldest first").toHaveLength(1);
    const soon = (await setting(ws, "retention_next_at")) as number;
    expect(soon, "more are due: look again in a second").toBeLessThanOrEqual(Date.now() + 1000);
    expect(soon).toBeGreaterThan(Date.now() - 5000);

    await putSetting(ws, "retention_next_at", Date.now() - 1);
    await setAlarm(ws, Date.now());
    expect(await runDurableObjectAlarm(ws)).toBe(true);
    expect(await indexIds(ws)).toEqual([]);
    expect((await setting(ws, "retention_next_at")) as number).toBeGreaterThan(Date.now() + 5 * HOUR);
  });

  it("a conversation that cannot be erased stays in the index for the next run; a real one is erased", async () => {
    const admin = await signInAdmin();
    const made: string[] = [];
    for (let i = 0; i < 2; i++) {
      const { session, v } = await visitorWithMessage("keep me?");
      v.close();
      made.push(session.conversationId);
    }
    const [failing, erased] = made as [string, string];
    // The first one's files cannot be listed (R2 down for it): its erasure fails.
    await failingBinding(failing, "ATTACHMENTS", { list: () => Promise.reject(new Error("R2 unavailable")) });
    const ws = freshWorkspace();
    const owner = await withAdmin(ws);
    await ws.updateSettings(owner, { retentionDays: 1 });
    await indexed(ws, made, 2 * DAY);
    await putSetting(ws, "retention_next_at", Date.now() - 1);
    await setAlarm(ws, Date.now());
    expect(await runDurableObjectAlarm(ws)).toBe(true);
    expect(await indexIds(ws), "the one that refused is kept for the next run").toEqual([failing]);
    const gone = await fetchApp(`/api/conversations/${erased}`, { headers: { Cookie: admin } });
    expect(gone.status, "the erased conversation, asked directly").toBe(404);
    const kept = await fetchApp(`/api/conversations/${failing}`, { headers: { Cookie: admin } });
    expect(kept.status, "the one whose erasure failed still answers").toBe(200);
  });
});

describe("the one alarm", () => {
  it("a job's deadline moves a later alarm sooner, never a sooner one later", async () => {
    const ws = freshWorkspace();
    const admin = await withAdmin(ws);
    // An alarm already due sooner than retention's first check (a minute): it stays.
    const sooner = Date.now() + 5000;
    await setAlarm(ws, sooner);
    await ws.updateSettings(admin, { retentionDays: 30 });
    expect(await alarmAt(ws)).toBe(sooner);

    // An alarm due later than the first check: it is moved to the check.
    const other = freshWorkspace();
    const otherAdmin = await withAdmin(other);
    await setAlarm(other, Date.now() + 2 * HOUR);
    const t0 = Date.now();
    await other.updateSettings(otherAdmin, { retentionDays: 30 });
    const moved = await alarmAt(other);
    expect(moved).toBeGreaterThanOrEqual(t0 + 60_000);
    expect(moved).toBeLessThanOrEqual(Date.now() + 60_000);
  });
});
