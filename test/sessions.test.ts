/**
 * Operator sessions over time, as an attacker with a stolen or forgotten
 * cookie would use one: a session left unused must end, and an operator (or
 * an admin for them) must be able to end every session at once, with the
 * panels they hold open.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { AuditPage } from "../worker/protocol";
import { sha256 } from "../worker/lib/crypto";
import { SESSION_IDLE_MS } from "../worker/workspace/operators";
import { fetchApp, json, newOperator, panelSocket, rerunMigration, signInAdmin } from "./helpers";

const HOUR = 3600_000;
const workspace = () => env.WORKSPACE.get(env.WORKSPACE.idFromName("demo"));
const me = (cookie: string) => fetchApp("/api/auth/me", { headers: { Cookie: cookie } });
const tokenOf = (cookie: string) => cookie.slice("mc_session=".length);

/** Sets when the session behind `cookie` was last used; returns nothing. */
async function lastSeen(cookie: string, at: number): Promise<void> {
  const hash = await sha256(tokenOf(cookie));
  await runInDurableObject(workspace(), (_o, state) => {
    state.storage.sql.exec("UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?", at, hash);
  });
}

async function sessionRow(cookie: string): Promise<{ last_seen_at: number } | undefined> {
  const hash = await sha256(tokenOf(cookie));
  return runInDurableObject(
    workspace(),
    (_o, state) =>
      state.storage.sql
        .exec<{ last_seen_at: number }>("SELECT last_seen_at FROM sessions WHERE token_hash = ?", hash)
        .toArray()[0],
  );
}

/** Signs `email` in once more: another browser, another session. */
async function signInAgain(email: string, password: string): Promise<string> {
  const res = await fetchApp("/api/auth/login", json({ email, password }));
  expect(res.status).toBe(200);
  return /mc_session=([^;]+)/.exec(res.headers.get("Set-Cookie") ?? "")![0];
}

async function operatorEmail(admin: string, id: string): Promise<string> {
  const list = (await (await fetchApp("/api/operators", { headers: { Cookie: admin } })).json()) as {
    operators: { id: string; email: string }[];
  };
  return list.operators.find((o) => o.id === id)!.email;
}

describe("session idle timeout", () => {
  it("a session unused for 12 hours is refused and deleted, though its 30 days are not over", async () => {
    const admin = await signInAdmin();
    const bob = await newOperator(admin, "Bob");
    expect((await me(bob.cookie)).status).toBe(200);
    await lastSeen(bob.cookie, Date.now() - SESSION_IDLE_MS - 1000);
    const res = await me(bob.cookie);
    expect(res.status, await res.clone().text()).toBe(401);
    expect(await sessionRow(bob.cookie), "the idle session is still stored").toBeUndefined();
    expect(SESSION_IDLE_MS).toBe(12 * HOUR);
  });

  it("a session in use stays: a use pushes the idle deadline, written at most once a minute", async () => {
    const admin = await signInAdmin();
    const bob = await newOperator(admin, "Bob");
    const eleven = Date.now() - 11 * HOUR;
    await lastSeen(bob.cookie, eleven);
    const t0 = Date.now();
    expect((await me(bob.cookie)).status).toBe(200);
    const touched = (await sessionRow(bob.cookie))!.last_seen_at;
    expect(touched, "the use was not recorded").toBeGreaterThanOrEqual(t0);
    // Within the minute, further uses write nothing.
    const recent = Date.now() - 30_000;
    await lastSeen(bob.cookie, recent);
    for (let i = 0; i < 3; i++) expect((await me(bob.cookie)).status).toBe(200);
    expect((await sessionRow(bob.cookie))!.last_seen_at, "rewritten within the minute").toBe(recent);
  });

  it("sessions open before the idle limit existed count as used at the upgrade (migration 12)", async () => {
    const ws = env.WORKSPACE.get(env.WORKSPACE.idFromName(`ws-sessions-${crypto.randomUUID()}`));
    const setup = await ws.setup({ name: "Ada", email: "ada@example.com", passwordHash: "not-a-real-hash" });
    if (!setup.ok) throw new Error(setup.message);
    const token = setup.value.token;
    const hash = await sha256(token);
    await runInDurableObject(ws, (_o, state) => {
      const sql = state.storage.sql;
      // The table as migration 1 made it, with a session signed in two days ago.
      sql.exec("ALTER TABLE sessions DROP COLUMN last_seen_at");
      sql.exec("UPDATE sessions SET created_at = ? WHERE token_hash = ?", Date.now() - 48 * HOUR, hash);
      rerunMigration(sql, 12);
    });
    expect(await ws.authenticate(token)).toMatchObject({ id: setup.value.operator.id });
  });
});

describe("sign out everywhere", () => {
  it("an operator signs themselves out everywhere: every session ends and their open panels close", async () => {
    const admin = await signInAdmin();
    const bob = await newOperator(admin, "Bob");
    const laptop = await signInAgain(await operatorEmail(admin, bob.id), "operator password 123");
    const panel = await panelSocket(laptop);
    await panel.next("index");

    const res = await fetchApp("/api/operators/me/sessions", { method: "DELETE", headers: { Cookie: bob.cookie } });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await res.json()).toEqual({ ended: 2 });
    expect(res.headers.get("Set-Cookie"), "the cookie is not cleared").toMatch(/mc_session=;.*Max-Age=0/);
    for (const cookie of [bob.cookie, laptop]) expect((await me(cookie)).status).toBe(401);
    expect(await panel.settled(() => panel.closed, 5000), "Bob's open panel is still connected").toBe(true);

    const log = (await (await fetchApp("/api/audit", { headers: { Cookie: admin } })).json()) as AuditPage;
    expect(log.entries.find((e) => e.action === "sessions.ended" && e.actor.id === bob.id)).toMatchObject({
      target: expect.stringMatching(/^Bob </),
      detail: "2 sessions",
    });
  });

  it("an admin signs another operator out everywhere; an operator cannot do it to someone else", async () => {
    const admin = await signInAdmin();
    const bob = await newOperator(admin, "Bob");
    const carol = await newOperator(admin, "Carol");
    const panel = await panelSocket(bob.cookie);
    await panel.next("index");

    const refused = await fetchApp(`/api/operators/${bob.id}/sessions`, {
      method: "DELETE",
      headers: { Cookie: carol.cookie },
    });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toBe(
      "Only admins can sign other operators out",
    );
    expect((await me(bob.cookie)).status, "a refused sign-out signed Bob out").toBe(200);

    const res = await fetchApp(`/api/operators/${bob.id}/sessions`, { method: "DELETE", headers: { Cookie: admin } });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await res.json()).toEqual({ ended: 1 });
    expect(res.headers.get("Set-Cookie"), "the admin's own cookie was touched").toBeNull();
    expect((await me(bob.cookie)).status).toBe(401);
    expect((await me(admin)).status, "the admin was signed out too").toBe(200);
    expect(await panel.settled(() => panel.closed, 5000), "Bob's open panel is still connected").toBe(true);

    for (const id of ["AAAAAAAAAAAAAAAAAAAAAA", "not-an-id"]) {
      const unknown = await fetchApp(`/api/operators/${id}/sessions`, { method: "DELETE", headers: { Cookie: admin } });
      expect(unknown.status, id).toBe(404);
    }
    expect((await fetchApp(`/api/operators/${bob.id}/sessions`, { method: "DELETE" })).status).toBe(401);
  });
});
