/**
 * The Workspace object's own rules, reached through its RPC methods the way
 * the Worker reaches them: the one alarm, and settings
 * stored by older versions. Each test uses a workspace of its own.
 */
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Operator } from "../worker/protocol";
import { migrate } from "../worker/schema/migrate";
import { workspaceMigrations } from "../worker/workspace/schema";

const HOUR = 3600_000;

function freshWorkspace() {
  return env.WORKSPACE.get(env.WORKSPACE.idFromName(`ws-test-${crypto.randomUUID()}`));
}

type Stub = ReturnType<typeof freshWorkspace>;

async function withAdmin(ws: Stub): Promise<Operator> {
  const setup = await ws.setup({ name: "Ada", email: "ada@example.com", passwordHash: "not-a-real-hash" });
  if (!setup.ok) throw new Error(`setup refused: ${setup.code} ${setup.message}`);
  return setup.value.operator;
}

async function alarmAt(ws: Stub): Promise<number | null> {
  return runInDurableObject(ws, (_o, state) => state.storage.getAlarm());
}

describe("workspace", () => {
  it("the one alarm is re-armed to the earliest deadline: a webhook retry before the next retention check", async () => {
    const ws = freshWorkspace();
    const admin = await withAdmin(ws);
    expect(await alarmAt(ws), "a new workspace has no alarm").toBeNull();

    // Turning retention on schedules its first check a minute from now.
    const t0 = Date.now();
    expect(await ws.updateSettings(admin, { retentionDays: 30 })).toMatchObject({ ok: true });
    const first = await alarmAt(ws);
    expect(first, `alarm after turning retention on: ${first}`).toBeGreaterThanOrEqual(t0 + 59_000);
    expect(first, `alarm after turning retention on: ${first}`).toBeLessThanOrEqual(Date.now() + 60_000);

    // An event for an endpoint that answers 500: its delivery is due now, sooner than retention's check.
    const hook = { value: await ws.addWebhook("https://hooks.test/fail/scheduler", ["conversation.deleted"]) };
    await ws.emit("conversation.deleted", JSON.stringify({ conversationId: "gone" }));
    const attempted = async () => {
      await runDurableObjectAlarm(ws);
      return ws.webhookDeliveries(hook.value.webhook.id);
    };
    await expect.poll(attempted, { timeout: 5000 }).toMatchObject([{ status: "pending", attempts: 1 }]);

    // Both ran: retention found nothing (next check in 6 h), the delivery failed (retry in 30 s).
    const retry = await alarmAt(ws);
    expect(retry, `alarm after a failed delivery: ${retry} (now ${Date.now()})`).toBeGreaterThan(Date.now() + 20_000);
    expect(retry, `alarm after a failed delivery: ${retry} (now ${Date.now()})`).toBeLessThanOrEqual(
      Date.now() + 30_000,
    );

    // With the endpoint gone, the only deadline left is retention's.
    expect(await ws.removeWebhook(hook.value.webhook.id)).toBe(true);
    expect(await runDurableObjectAlarm(ws)).toBe(true);
    const later = await alarmAt(ws);
    expect(later, `alarm with only retention left: ${later}`).toBeGreaterThan(Date.now() + 5 * HOUR);
    expect(later, `alarm with only retention left: ${later}`).toBeLessThanOrEqual(Date.now() + 6 * HOUR);
  });

  it("settings stored by older versions (bare text, 1 for yes) read the same after the JSON migration", async () => {
    const ws = freshWorkspace();
    await runInDurableObject(ws, (_o, state) => {
      const sql = state.storage.sql;
      // Back to before migration 9, with the values an older version wrote.
      sql.exec("DELETE FROM _migrations WHERE id >= 9");
      const old: [string, string][] = [
        ["email_address", "help@shop.example"],
        ["email_name", 'Shop "Support"'],
        ["retention_days", "30"],
        ["survey_by_email", "1"],
        ["retention_next_at", "1700000000000"],
      ];
      for (const [key, value] of old) sql.exec("INSERT INTO settings (key, value) VALUES (?, ?)", key, value);
      migrate(sql, workspaceMigrations);
    });
    expect(await ws.getSettings()).toEqual({
      emailAddress: "help@shop.example",
      emailName: 'Shop "Support"',
      retentionDays: 30,
      surveyByEmail: true,
    });
    const stored = await runInDurableObject(ws, (_o, state) =>
      Object.fromEntries(
        state.storage.sql
          .exec<{ key: string; value: string }>("SELECT key, value FROM settings")
          .toArray()
          .map((r) => [r.key, JSON.parse(r.value) as unknown]),
      ),
    );
    expect(stored).toEqual({
      email_address: "help@shop.example",
      email_name: 'Shop "Support"',
      retention_days: 30,
      survey_by_email: true,
      retention_next_at: 1700000000000,
    });

    // And "0" was no.
    const other = freshWorkspace();
    await runInDurableObject(other, (_o, state) => {
      state.storage.sql.exec("DELETE FROM _migrations WHERE id >= 9");
      state.storage.sql.exec("INSERT INTO settings (key, value) VALUES ('survey_by_email', '0')");
      migrate(state.storage.sql, workspaceMigrations);
    });
    expect((await other.getSettings()).surveyByEmail).toBe(false);
  });
});
