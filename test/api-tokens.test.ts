/**
 * API tokens as an attacker holding one would use them: a leaked read token
 * tries to change things, a write token tries to mint itself an admin token
 * or reach the webhooks, an expired token keeps calling, and "last used"
 * must not cost a storage write per request.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ApiTokenInfo, TokenScope } from "../worker/protocol";
import { sha256 } from "../worker/lib/crypto";
import { conversationWithMessage, fetchApp, json, rerunMigration, signInAdmin } from "./helpers";

const workspace = () => env.WORKSPACE.get(env.WORKSPACE.idFromName("demo"));
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

async function newToken(
  admin: string,
  scope: TokenScope,
  extra: { expiresInDays?: number | null } = {},
): Promise<{ token: string; info: ApiTokenInfo }> {
  const name = `${scope} ${crypto.randomUUID().slice(0, 8)}`;
  const res = await fetchApp("/api/v1/tokens", json({ name, scope, ...extra }, { Cookie: admin }));
  const body = await res.text();
  expect(res.status, body).toBe(201);
  return JSON.parse(body) as { token: string; info: ApiTokenInfo };
}

async function tokens(admin: string): Promise<ApiTokenInfo[]> {
  const res = await fetchApp("/api/v1/tokens", { headers: { Cookie: admin } });
  return ((await res.json()) as { tokens: ApiTokenInfo[] }).tokens;
}

/** Calls `path` and returns status and error message, for assertions that say what they saw. */
async function call(path: string, init: RequestInit): Promise<{ status: number; message: string; what: string }> {
  const res = await fetchApp(path, init);
  const text = await res.text();
  const message = res.status >= 400 ? ((JSON.parse(text) as { error: { message: string } }).error.message ?? "") : "";
  return { status: res.status, message, what: `${init.method ?? "GET"} ${path} → ${res.status} ${text.slice(0, 200)}` };
}

describe("API token scopes", () => {
  it("a read token reads, and every change it tries is refused 403 saying it can only read; nothing changes", async () => {
    const admin = await signInAdmin();
    const { token } = await newToken(admin, "read");
    const id = await conversationWithMessage();
    const before = (await tokens(admin)).length;

    for (const path of ["/api/v1/conversations", `/api/v1/conversations/${id}`, `/api/v1/conversations/${id}/messages`])
      expect((await call(path, { headers: bearer(token) })).status, path).toBe(200);

    const attempts: [string, RequestInit][] = [
      [`/api/v1/conversations/${id}/join`, { method: "POST", headers: bearer(token) }],
      [`/api/v1/conversations/${id}/messages`, json({ text: "injected" }, bearer(token))],
      [`/api/v1/conversations/${id}`, { method: "DELETE", headers: bearer(token) }],
      ["/api/v1/tokens", json({ name: "escalate", scope: "admin" }, bearer(token))],
      ["/api/v1/webhooks", json({ url: "https://hooks.test/steal", events: ["message.created"] }, bearer(token))],
    ];
    for (const [path, init] of attempts) {
      const r = await call(path, init);
      expect(r.status, r.what).toBe(403);
      expect(r.message, r.what).toMatch(/has the read scope: it can only read \(GET\)/);
    }
    // Admin reads are refused too: the read scope is not an admin scope.
    for (const path of ["/api/v1/tokens", "/api/v1/webhooks"]) {
      const r = await call(path, { headers: bearer(token) });
      expect(r.status, r.what).toBe(403);
      expect(r.message, r.what).toMatch(/read scope; only a token with the admin scope can/);
    }
    const state = (await (await fetchApp(`/api/v1/conversations/${id}`, { headers: bearer(token) })).json()) as {
      state: { operators: unknown[] };
    };
    expect(state.state.operators, "the read token joined").toEqual([]);
    expect((await tokens(admin)).length, "a token was created").toBe(before);
  });

  it("a write token works the conversation but cannot create tokens or touch webhooks (no escalation to admin)", async () => {
    const admin = await signInAdmin();
    const { token } = await newToken(admin, "write");
    const id = await conversationWithMessage();
    const before = (await tokens(admin)).length;

    expect((await call(`/api/v1/conversations/${id}/join`, { method: "POST", headers: bearer(token) })).status).toBe(
      200,
    );
    const sent = await call(`/api/v1/conversations/${id}/messages`, json({ text: "From the CRM" }, bearer(token)));
    expect(sent.status, sent.what).toBe(201);

    const attempts: [string, RequestInit][] = [
      ["/api/v1/tokens", json({ name: "escalate", scope: "admin" }, bearer(token))],
      ["/api/v1/tokens", { headers: bearer(token) }],
      ["/api/v1/webhooks", json({ url: "https://hooks.test/steal", events: ["message.created"] }, bearer(token))],
      ["/api/v1/webhooks", { headers: bearer(token) }],
    ];
    for (const [path, init] of attempts) {
      const r = await call(path, init);
      expect(r.status, r.what).toBe(403);
      expect(r.message, r.what).toMatch(/has the write scope; only a token with the admin scope can manage/);
    }
    expect((await tokens(admin)).length, "a token was created").toBe(before);
  });

  it("an admin token does what its admin can, creating tokens included", async () => {
    const admin = await signInAdmin();
    const { token } = await newToken(admin, "admin");
    const made = await call("/api/v1/tokens", json({ name: "made by a token", scope: "read" }, bearer(token)));
    expect(made.status, made.what).toBe(201);
    expect((await call("/api/v1/webhooks", { headers: bearer(token) })).status).toBe(200);
  });

  it("a scoped token's operator object cannot be used to reach an admin operation of the workspace directly", async () => {
    const admin = await signInAdmin();
    const { token } = await newToken(admin, "write");
    const ws = workspace();
    const actor = await ws.authenticateToken(token);
    if (!actor.ok) throw new Error(`authenticateToken refused: ${actor.message}`);
    expect(actor.value.admin, "the operator behind the token is an admin").toBe(true);
    for (const [name, pending] of Object.entries({
      createToken: ws.createToken(actor.value, { name: "x", scope: "admin", expiresInDays: null }),
      listWebhooks: ws.listWebhooks(actor.value),
      updateSettings: ws.updateSettings(actor.value, { emailName: "Hijacked" }),
    })) {
      const result = await pending;
      expect(result, `${name}: ${JSON.stringify(result)}`).toMatchObject({ ok: false, code: "forbidden" });
    }
  });

  it("scope is required and checked; expiry must be whole days from 1 to 3650", async () => {
    const admin = await signInAdmin();
    for (const [body, message] of [
      [{ name: "no scope" }, /scope must be "read", "write" or "admin"/],
      [{ name: "bad scope", scope: "root" }, /scope must be "read", "write" or "admin"/],
      [
        { name: "zero", scope: "read", expiresInDays: 0 },
        /expiresInDays must be a whole number of days from 1 to 3650/,
      ],
      [{ name: "half", scope: "read", expiresInDays: 1.5 }, /expiresInDays must be a whole number/],
      [{ name: "forever", scope: "read", expiresInDays: 3651 }, /expiresInDays must be a whole number/],
    ] as const) {
      const r = await call("/api/v1/tokens", json(body, { Cookie: admin }));
      expect(r.status, r.what).toBe(400);
      expect(r.message, r.what).toMatch(message);
    }
  });
});

describe("API token expiry and last use", () => {
  it("a token past its expiry is refused 401 saying it expired, and is listed as expired until revoked", async () => {
    const admin = await signInAdmin();
    const { token, info } = await newToken(admin, "read", { expiresInDays: 30 });
    expect(info.expiresAt! - info.createdAt).toBe(30 * 86_400_000);
    expect((await call("/api/v1/conversations", { headers: bearer(token) })).status).toBe(200);
    // Thirty days later.
    await runInDurableObject(workspace(), (_o, state) => {
      state.storage.sql.exec("UPDATE api_tokens SET expires_at = ? WHERE id = ?", Date.now() - 1000, info.id);
    });
    const r = await call("/api/v1/conversations", { headers: bearer(token) });
    expect(r.status, r.what).toBe(401);
    expect(r.message, r.what).toMatch(/^This API token expired on \d{4}-\d{2}-\d{2}; an admin can create a new one/);
    const listed = (await tokens(admin)).find((t) => t.id === info.id);
    expect(listed?.expiresAt, "listed with its expiry").toBeLessThan(Date.now());
  });

  it("tokens without an expiry never expire; unknown tokens get the plain refusal", async () => {
    const admin = await signInAdmin();
    const { token, info } = await newToken(admin, "read", { expiresInDays: null });
    expect(info.expiresAt).toBeNull();
    expect((await call("/api/v1/conversations", { headers: bearer(token) })).status).toBe(200);
    const unknown = await call("/api/v1/conversations", { headers: bearer(`mct_${"A".repeat(44)}`) });
    expect(unknown.status, unknown.what).toBe(401);
    expect(unknown.message).toBe("API token is missing, revoked or invalid");
  });

  it("last used is recorded, and written at most once a minute however often the token is used", async () => {
    const admin = await signInAdmin();
    const { token, info } = await newToken(admin, "read");
    expect(info.lastUsedAt).toBeNull();
    const lastUsed = () =>
      runInDurableObject(
        workspace(),
        (_o, state) =>
          state.storage.sql
            .exec<{ at: number | null }>("SELECT last_used_at AS at FROM api_tokens WHERE id = ?", info.id)
            .one().at,
      );
    const t0 = Date.now();
    expect((await call("/api/v1/operators", { headers: bearer(token) })).status).toBe(200);
    const first = await lastUsed();
    expect(first, "recorded on first use").toBeGreaterThanOrEqual(t0);
    for (let i = 0; i < 5; i++) await call("/api/v1/operators", { headers: bearer(token) });
    expect(await lastUsed(), "rewritten within the minute").toBe(first);
    // A minute later the next use is recorded again.
    await runInDurableObject(workspace(), (_o, state) => {
      state.storage.sql.exec("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", first! - 61_000, info.id);
    });
    await call("/api/v1/operators", { headers: bearer(token) });
    expect(await lastUsed(), "recorded after a minute").toBeGreaterThanOrEqual(t0);
    expect((await tokens(admin)).find((t) => t.id === info.id)?.lastUsedAt).toBe(await lastUsed());
  });

  it("tokens from before scopes keep working as admin tokens with no expiry (migration 10)", async () => {
    const ws = env.WORKSPACE.get(env.WORKSPACE.idFromName(`ws-tokens-${crypto.randomUUID()}`));
    const setup = await ws.setup({ name: "Ada", email: "ada@example.com", passwordHash: "not-a-real-hash" });
    if (!setup.ok) throw new Error(setup.message);
    const raw = `mct_${"B".repeat(44)}`;
    const hash = await sha256(raw);
    await runInDurableObject(ws, (_o, state) => {
      const sql = state.storage.sql;
      // The table as version 5 made it, with a token in it.
      sql.exec("ALTER TABLE api_tokens DROP COLUMN scope");
      sql.exec("ALTER TABLE api_tokens DROP COLUMN expires_at");
      sql.exec(
        "INSERT INTO api_tokens (id, name, token_hash, operator_id, created_at) VALUES ('old', 'Legacy', ?, ?, 1)",
        hash,
        setup.value.operator.id,
      );
      rerunMigration(sql, 10);
    });
    const actor = await ws.authenticateToken(raw);
    expect(actor).toMatchObject({ ok: true, value: { token: { id: "old", scope: "admin" } } });
    const listed = await ws.listTokens(setup.value.operator);
    expect(listed).toMatchObject({ ok: true, value: [{ id: "old", scope: "admin", expiresAt: null }] });
  });
});
