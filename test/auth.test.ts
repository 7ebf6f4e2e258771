import { describe, expect, it } from "vitest";
import { ADMIN, fetchApp, json, newOperator, signInAdmin } from "./helpers";

describe("operators and sessions", () => {
  it("first run needs setup; setup creates the first admin once and never again", async () => {
    const before = (await (await fetchApp("/api/setup")).json()) as { needsSetup: boolean };
    expect(before.needsSetup).toBe(true);
    const res = await fetchApp("/api/setup", json(ADMIN));
    expect(res.status).toBe(201);
    const { operator } = (await res.json()) as { operator: { admin: boolean; email: string } };
    expect(operator).toMatchObject({ admin: true, email: ADMIN.email });
    const cookie = res.headers.get("Set-Cookie") ?? "";
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    expect(cookie).not.toMatch(/Secure/); // plain http here; https gets Secure (next test)
    const after = (await (await fetchApp("/api/setup")).json()) as { needsSetup: boolean };
    expect(after.needsSetup).toBe(false);
    const again = await fetchApp("/api/setup", json({ ...ADMIN, email: "mallory@example.com" }));
    expect(again.status).toBe(409);
  });

  it("the session cookie is Secure when served over https", async () => {
    await signInAdmin();
    const { exports } = await import("cloudflare:workers");
    const res = await exports.default.fetch(
      new Request("https://microchat.test/api/auth/login", json({ email: ADMIN.email, password: ADMIN.password })),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("Set-Cookie")).toMatch(/; Secure/);
  });

  it("setup refuses weak passwords and bad emails with a clear error", async () => {
    const weak = await fetchApp("/api/setup", json({ ...ADMIN, password: "short" }));
    expect(weak.status).toBe(400);
    expect(((await weak.json()) as { error: { message: string } }).error.message).toMatch(/Password/);
    const badEmail = await fetchApp("/api/setup", json({ ...ADMIN, email: "not-an-email" }));
    expect(badEmail.status).toBe(400);
    const notJson = await fetchApp("/api/setup", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: "{",
    });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { error: { code: string } }).error.code).toBe("bad_json");
  });

  it("login with a wrong password or unknown email is 401; the right one signs in; logout ends the session", async () => {
    const cookie = await signInAdmin();
    expect((await fetchApp("/api/auth/login", json({ email: ADMIN.email, password: "wrong password!" }))).status).toBe(
      401,
    );
    expect(
      (await fetchApp("/api/auth/login", json({ email: "nobody@example.com", password: "whatever123" }))).status,
    ).toBe(401);
    const me = await fetchApp("/api/auth/me", { headers: { Cookie: cookie } });
    expect(me.status).toBe(200);
    const out = await fetchApp("/api/auth/logout", { method: "POST", headers: { Cookie: cookie } });
    expect(out.status).toBe(204);
    expect((await fetchApp("/api/auth/me", { headers: { Cookie: cookie } })).status).toBe(401);
  });

  it("passwords are stored as PBKDF2 hashes, never in clear", async () => {
    await signInAdmin();
    const { env, runInDurableObject } = await import("cloudflare:test");
    const stub = env.WORKSPACE.get(env.WORKSPACE.idFromName("demo"));
    const hash = await runInDurableObject(
      stub,
      (_o, state) =>
        state.storage.sql
          .exec<{ h: string }>("SELECT password_hash AS h FROM operators WHERE email = ?", ADMIN.email)
          .one().h,
    );
    expect(hash).toMatch(/^pbkdf2-sha256\$100000\$/);
    expect(hash).not.toContain(ADMIN.password);
  });

  it("an admin adds and removes operators; a removed operator's session stops working", async () => {
    const admin = await signInAdmin();
    const bob = await newOperator(admin, "Bob");
    const list = (await (await fetchApp("/api/operators", { headers: { Cookie: admin } })).json()) as {
      operators: { id: string }[];
    };
    expect(list.operators.map((o) => o.id)).toContain(bob.id);
    expect(JSON.stringify(list)).not.toContain("password");
    const del = await fetchApp(`/api/operators/${bob.id}`, { method: "DELETE", headers: { Cookie: admin } });
    expect(del.status).toBe(204);
    expect((await fetchApp("/api/auth/me", { headers: { Cookie: bob.cookie } })).status).toBe(401);
  });

  it("a non-admin operator cannot add or remove operators", async () => {
    const admin = await signInAdmin();
    const bob = await newOperator(admin, "Bob");
    const add = await fetchApp(
      "/api/operators",
      json({ name: "Eve", email: "eve@example.com", password: "eve password 1" }, { Cookie: bob.cookie }),
    );
    expect(add.status).toBe(403);
    const me = (await (await fetchApp("/api/auth/me", { headers: { Cookie: admin } })).json()) as {
      operator: { id: string };
    };
    const del = await fetchApp(`/api/operators/${me.operator.id}`, {
      method: "DELETE",
      headers: { Cookie: bob.cookie },
    });
    expect(del.status).toBe(403);
  });

  it("an admin cannot remove themselves; a duplicate email is refused", async () => {
    const admin = await signInAdmin();
    const me = (await (await fetchApp("/api/auth/me", { headers: { Cookie: admin } })).json()) as {
      operator: { id: string };
    };
    expect(
      (await fetchApp(`/api/operators/${me.operator.id}`, { method: "DELETE", headers: { Cookie: admin } })).status,
    ).toBe(400);
    const dup = await fetchApp(
      "/api/operators",
      json({ name: "Ada 2", email: ADMIN.email, password: "another password" }, { Cookie: admin }),
    );
    expect(dup.status).toBe(409);
  });

  it("sessions expire: an expired session is refused", async () => {
    const cookie = await signInAdmin();
    const { env, runInDurableObject } = await import("cloudflare:test");
    const stub = env.WORKSPACE.get(env.WORKSPACE.idFromName("demo"));
    expect((await fetchApp("/api/auth/me", { headers: { Cookie: cookie } })).status).toBe(200);
    await runInDurableObject(stub, (_o, state) => {
      state.storage.sql.exec("UPDATE sessions SET expires_at = ?", Date.now() - 1);
    });
    expect((await fetchApp("/api/auth/me", { headers: { Cookie: cookie } })).status).toBe(401);
  });
});
