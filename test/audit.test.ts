/**
 * Deleting conversations as an attacker inside the team would: an operator
 * deletes a conversation they have nothing to do with, a token deletes
 * behind everyone's back. Who may delete is a workspace rule (Settings), and
 * every deletion, erasure and admin change lands in an audit log that only
 * admins can read.
 */
import { describe, expect, it } from "vitest";
import type { AuditEntry, AuditPage, TokenScope } from "../worker/protocol";
import {
  conversationWithMessage,
  fetchApp,
  json,
  newOperator,
  newVisitorSession,
  say,
  signInAdmin,
  visitorSocket,
} from "./helpers";

async function auditLog(cookie: string, query = "limit=200"): Promise<AuditPage> {
  const res = await fetchApp(`/api/audit?${query}`, { headers: { Cookie: cookie } });
  const body = await res.text();
  expect(res.status, body).toBe(200);
  return JSON.parse(body) as AuditPage;
}

async function entryFor(cookie: string, target: string | RegExp): Promise<AuditEntry | undefined> {
  return (await auditLog(cookie)).entries.find((e) =>
    typeof target === "string" ? e.target === target : target.test(e.target),
  );
}

async function del(id: string, headers: Record<string, string>) {
  const res = await fetchApp(`/api/conversations/${id}`, { method: "DELETE", headers });
  const text = await res.text();
  return {
    status: res.status,
    text,
    message: text ? (JSON.parse(text) as { error: { message: string } }).error.message : "",
  };
}

async function setDeleteBy(admin: string, deleteBy: "admins" | "admins_and_joined"): Promise<void> {
  const res = await fetchApp("/api/settings", { ...json({ deleteBy }, { Cookie: admin }), method: "PUT" });
  expect(res.status, await res.clone().text()).toBe(200);
}

async function token(admin: string, scope: TokenScope): Promise<string> {
  const res = await fetchApp(
    "/api/v1/tokens",
    json({ name: `audit ${scope} ${Date.now()}`, scope }, { Cookie: admin }),
  );
  expect(res.status).toBe(201);
  return ((await res.json()) as { token: string }).token;
}

describe("who may delete a conversation", () => {
  it("an operator who is not in the conversation is refused 403, and the conversation stays", async () => {
    const admin = await signInAdmin();
    await setDeleteBy(admin, "admins_and_joined");
    const bob = await newOperator(admin, "Bob");
    const id = await conversationWithMessage();
    const r = await del(id, { Cookie: bob.cookie });
    expect(r.status, r.text).toBe(403);
    expect(r.message).toBe("Only admins and the operators in this conversation can delete it");
    const still = await fetchApp(`/api/conversations/${id}/messages`, { headers: { Cookie: admin } });
    expect(still.status, "the conversation was deleted anyway").toBe(200);
    expect(await entryFor(admin, id), "a refused deletion was recorded as done").toBeUndefined();
  });

  it("an operator in the conversation deletes it (the default rule), and the audit log says who and on what grounds", async () => {
    const admin = await signInAdmin();
    await setDeleteBy(admin, "admins_and_joined");
    const bob = await newOperator(admin, "Bob");
    const id = await conversationWithMessage();
    expect(
      (await fetchApp(`/api/conversations/${id}/join`, { method: "POST", headers: { Cookie: bob.cookie } })).status,
    ).toBe(200);
    const t0 = Date.now();
    const r = await del(id, { Cookie: bob.cookie });
    expect(r.status, r.text).toBe(204);
    const entry = await entryFor(admin, id);
    expect(entry, "no audit entry for the deletion").toMatchObject({
      action: "conversation.deleted",
      target: id,
      actor: { id: bob.id, name: "Bob", token: null },
      detail: "as an operator in it",
    });
    expect(entry!.at).toBeGreaterThanOrEqual(t0);
  });

  it("when Settings say admins only, even a joined operator is refused; an admin deletes without joining", async () => {
    const admin = await signInAdmin();
    await setDeleteBy(admin, "admins");
    try {
      const bob = await newOperator(admin, "Bob");
      const id = await conversationWithMessage();
      await fetchApp(`/api/conversations/${id}/join`, { method: "POST", headers: { Cookie: bob.cookie } });
      const refused = await del(id, { Cookie: bob.cookie });
      expect(refused.status, refused.text).toBe(403);
      expect(refused.message).toBe("Only admins can delete conversations in this workspace");
      const r = await del(id, { Cookie: admin });
      expect(r.status, r.text).toBe(204);
      expect(await entryFor(admin, id)).toMatchObject({
        action: "conversation.deleted",
        actor: { name: "Ada Admin" },
        detail: "as an admin",
      });
      // The rule change itself is in the log.
      expect((await auditLog(admin)).entries.find((e) => e.action === "settings.changed")).toMatchObject({
        target: "deleteBy",
        detail: "deleteBy: admins",
      });
    } finally {
      await setDeleteBy(admin, "admins_and_joined");
    }
  });

  it("an admin's write token deletes only where a non-admin operator could; the entry names the token", async () => {
    const admin = await signInAdmin();
    await setDeleteBy(admin, "admins_and_joined");
    const write = await token(admin, "write");
    const auth = { Authorization: `Bearer ${write}` };
    const id = await conversationWithMessage();
    const refused = await fetchApp(`/api/v1/conversations/${id}`, { method: "DELETE", headers: auth });
    expect(refused.status, await refused.clone().text()).toBe(403);
    await fetchApp(`/api/v1/conversations/${id}/join`, { method: "POST", headers: auth });
    const done = await fetchApp(`/api/v1/conversations/${id}`, { method: "DELETE", headers: auth });
    expect(done.status, await done.clone().text()).toBe(204);
    expect(await entryFor(admin, id)).toMatchObject({
      actor: { name: "Ada Admin", token: expect.stringMatching(/^audit write/) },
      detail: "as an operator in it",
    });
  });

  it("a privacy erasure is recorded once: a masked address and the conversations it deleted", async () => {
    const admin = await signInAdmin();
    const session = await newVisitorSession();
    const v = await visitorSocket(session);
    await v.next("welcome");
    await say(v, "erase me");
    v.close();
    const erased = await fetchApp("/api/erasure", json({ visitorId: session.visitorId }, { Cookie: admin }));
    expect(await erased.json()).toEqual({ deleted: 1 });
    expect(await entryFor(admin, `visitor ${session.visitorId}`)).toMatchObject({
      action: "person.erased",
      actor: { name: "Ada Admin" },
      detail: `1 conversation deleted: ${session.conversationId}`,
    });
    expect(
      await entryFor(admin, session.conversationId),
      "erased conversations are one entry, not one each",
    ).toBeUndefined();

    const email = `erase.audit.${Date.now()}@example.org`;
    const none = await fetchApp("/api/erasure", json({ email }, { Cookie: admin }));
    expect(await none.json()).toEqual({ deleted: 0 });
    const entry = await entryFor(admin, /^email e•••@example\.org$/);
    expect(entry?.detail).toBe("0 conversations deleted");
    expect(JSON.stringify(await auditLog(admin)), "the erased address is kept in the log").not.toContain(email);
  });
});

describe("the audit log", () => {
  it("records token, webhook, operator and settings changes with who did them", async () => {
    const admin = await signInAdmin();
    const name = `audited ${Date.now()}`;
    const created = await fetchApp(
      "/api/v1/tokens",
      json({ name, scope: "read", expiresInDays: 7 }, { Cookie: admin }),
    );
    const { info } = (await created.json()) as { info: { id: string } };
    await fetchApp(`/api/v1/tokens/${info.id}`, { method: "DELETE", headers: { Cookie: admin } });
    const hook = await fetchApp(
      "/api/v1/webhooks",
      json({ url: `https://hooks.test/audit-${Date.now()}`, events: ["conversation.deleted"] }, { Cookie: admin }),
    );
    const { webhook } = (await hook.json()) as { webhook: { id: string; url: string } };
    await fetchApp(`/api/v1/webhooks/${webhook.id}`, { method: "DELETE", headers: { Cookie: admin } });
    const carol = await newOperator(admin, "Carol");
    await fetchApp(`/api/operators/${carol.id}`, { method: "DELETE", headers: { Cookie: admin } });

    const entries = (await auditLog(admin)).entries;
    const actions = (target: string | RegExp) =>
      entries
        .filter((e) => (typeof target === "string" ? e.target === target : target.test(e.target)))
        .map((e) => [e.action, e.detail]);
    expect(actions(name)).toEqual([
      ["token.revoked", null],
      ["token.created", expect.stringMatching(/^scope read, expires \d{4}-\d{2}-\d{2}$/)],
    ]);
    expect(actions(webhook.url)).toEqual([
      ["webhook.removed", null],
      ["webhook.added", "conversation.deleted"],
    ]);
    expect(actions(/^Carol <carol\./)).toEqual([
      ["operator.removed", null],
      ["operator.added", null],
    ]);
    for (const e of entries.slice(0, 6)) expect(e.actor.name, JSON.stringify(e)).toBe("Ada Admin");
  });

  it("only admins read it, on the panel route and the REST API; a read or write token is refused", async () => {
    const admin = await signInAdmin();
    const bob = await newOperator(admin, "Bob");
    const panel = await fetchApp("/api/audit", { headers: { Cookie: bob.cookie } });
    expect(panel.status).toBe(403);
    expect(((await panel.json()) as { error: { message: string } }).error.message).toBe(
      "Only admins can read the audit log",
    );
    expect((await fetchApp("/api/audit")).status).toBe(401);
    for (const scope of ["read", "write"] as const) {
      const res = await fetchApp("/api/v1/audit", {
        headers: { Authorization: `Bearer ${await token(admin, scope)}` },
      });
      expect(res.status, scope).toBe(403);
    }
    const adminToken = await token(admin, "admin");
    const v1 = await fetchApp("/api/v1/audit?limit=2", { headers: { Authorization: `Bearer ${adminToken}` } });
    expect(v1.status).toBe(200);
    expect(((await v1.json()) as AuditPage).entries).toHaveLength(2);
  });

  it("pages newest first with before=<id>, and refuses a bad cursor or limit", async () => {
    const admin = await signInAdmin();
    for (let i = 0; i < 3; i++)
      await fetchApp("/api/v1/tokens", json({ name: `page ${i}`, scope: "read" }, { Cookie: admin }));
    const first = await auditLog(admin, "limit=2");
    expect(first.entries).toHaveLength(2);
    expect(first.hasMore).toBe(true);
    expect(first.entries[0]!.id).toBeGreaterThan(first.entries[1]!.id);
    const next = await auditLog(admin, `limit=2&before=${first.entries[1]!.id}`);
    expect(next.entries[0]!.id).toBeLessThan(first.entries[1]!.id);
    for (const bad of ["limit=0", "limit=201", "limit=x", "before=-1", "before=abc", "other=1"]) {
      const res = await fetchApp(`/api/audit?${bad}`, { headers: { Cookie: admin } });
      expect(res.status, `${bad}: ${await res.clone().text()}`).toBe(400);
    }
  });
});
