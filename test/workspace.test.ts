/**
 * The Workspace object's own rules, reached through its RPC methods the way
 * the Worker reaches them: the one admin check, the one alarm, and settings
 * stored by older versions. Each test uses a workspace of its own.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { freshWorkspace, rerunMigration, withAdmin, type WorkspaceObject } from "./helpers";

const HOUR = 3600_000;

async function alarmAt(ws: WorkspaceObject): Promise<number | null> {
  return runInDurableObject(ws, (_o, state) => state.storage.getAlarm());
}

describe("workspace", () => {
  it("every admin-only operation refuses an operator who is not an admin, even one whose copy says admin", async () => {
    const ws = freshWorkspace();
    const admin = await withAdmin(ws);
    const added = await ws.addOperator(admin, {
      name: "Otto",
      email: "otto@example.com",
      passwordHash: "not-a-real-hash",
      admin: false,
    });
    if (!added.ok) throw new Error(`addOperator refused: ${added.message}`);
    // A stale or forged copy of the operator: the workspace reads the flag from storage, not from the caller.
    const otto = { ...added.value, admin: true };
    const hook = await ws.addWebhook(admin, "https://hooks.test/ok", ["conversation.created"]);
    const token = await ws.createToken(admin, { name: "CI", scope: "admin", expiresInDays: null });
    if (!hook.ok || !token.ok) throw new Error("admin setup of webhook/token refused");
    const before = { settings: await ws.getSettings(), operators: await ws.listOperators() };

    const attempts = {
      addOperator: ws.addOperator(otto, { name: "Eve", email: "eve@example.com", passwordHash: "x", admin: true }),
      removeOperator: ws.removeOperator(otto, admin.id),
      createToken: ws.createToken(otto, { name: "mine", scope: "admin", expiresInDays: null }),
      listTokens: ws.listTokens(otto),
      revokeToken: ws.revokeToken(otto, token.value.info.id),
      updateSettings: ws.updateSettings(otto, { emailName: "Hijacked", retentionDays: 1 }),
      addWebhook: ws.addWebhook(otto, "https://hooks.test/steal", ["message.created"]),
      listWebhooks: ws.listWebhooks(otto),
      removeWebhook: ws.removeWebhook(otto, hook.value.webhook.id),
      webhookDeliveries: ws.webhookDeliveries(otto, hook.value.webhook.id),
      conversationsOf: ws.conversationsOf(otto, { email: "someone@example.com" }),
    };
    for (const [name, pending] of Object.entries(attempts)) {
      const result = await pending;
      expect(result, `${name} by a non-admin answered ${JSON.stringify(result)}`).toMatchObject({
        ok: false,
        code: "forbidden",
      });
    }

    // Nothing changed.
    expect(await ws.getSettings()).toEqual(before.settings);
    expect(await ws.listOperators()).toEqual(before.operators);
    const hooks = await ws.listWebhooks(admin);
    expect(hooks.ok && hooks.value.map((h) => h.url)).toEqual(["https://hooks.test/ok"]);
    const tokens = await ws.listTokens(admin);
    expect(tokens.ok && tokens.value.map((t) => t.name)).toEqual(["CI"]);
  });

  it("a removed webhook, or one that never existed, is not_found for its deliveries and its removal", async () => {
    const ws = freshWorkspace();
    const admin = await withAdmin(ws);
    const hook = await ws.addWebhook(admin, "https://hooks.test/ok", ["conversation.created"]);
    if (!hook.ok) throw new Error("addWebhook refused");
    expect(await ws.webhookDeliveries(admin, hook.value.webhook.id)).toEqual({ ok: true, value: [] });
    expect(await ws.removeWebhook(admin, hook.value.webhook.id)).toEqual({ ok: true, value: null });
    for (const result of [
      await ws.removeWebhook(admin, hook.value.webhook.id),
      await ws.webhookDeliveries(admin, hook.value.webhook.id),
    ]) {
      expect(result).toEqual({ ok: false, code: "not_found", message: "No such webhook" });
    }
  });

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
    const hook = await ws.addWebhook(admin, "https://hooks.test/fail/scheduler", ["conversation.deleted"]);
    if (!hook.ok) throw new Error("addWebhook refused");
    await ws.emit("conversation.deleted", JSON.stringify({ conversationId: "gone" }));
    const attempted = async () => {
      await runDurableObjectAlarm(ws);
      const log = await ws.webhookDeliveries(admin, hook.value.webhook.id);
      return log.ok ? log.value : [];
    };
    await expect.poll(attempted, { timeout: 5000 }).toMatchObject([{ status: "pending", attempts: 1 }]);

    // Both ran: retention found nothing (next check in 6 h), the delivery failed (retry in 30 s).
    const retry = await alarmAt(ws);
    expect(retry, `alarm after a failed delivery: ${retry} (now ${Date.now()})`).toBeGreaterThan(Date.now() + 20_000);
    expect(retry, `alarm after a failed delivery: ${retry} (now ${Date.now()})`).toBeLessThanOrEqual(
      Date.now() + 30_000,
    );

    // With the endpoint gone, the only deadline left is retention's.
    expect(await ws.removeWebhook(admin, hook.value.webhook.id)).toMatchObject({ ok: true });
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
      const old: [string, string][] = [
        ["email_address", "help@shop.example"],
        ["email_name", 'Shop "Support"'],
        ["retention_days", "30"],
        ["survey_by_email", "1"],
        ["retention_next_at", "1700000000000"],
      ];
      for (const [key, value] of old) sql.exec("INSERT INTO settings (key, value) VALUES (?, ?)", key, value);
      rerunMigration(sql, 9);
    });
    expect(await ws.getSettings()).toEqual({
      emailAddress: "help@shop.example",
      emailName: 'Shop "Support"',
      retentionDays: 30,
      surveyByEmail: true,
      deleteBy: "admins_and_joined",
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
      state.storage.sql.exec("INSERT INTO settings (key, value) VALUES ('survey_by_email', '0')");
      rerunMigration(state.storage.sql, 9);
    });
    expect((await other.getSettings()).surveyByEmail).toBe(false);
  });
});
