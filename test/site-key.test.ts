/**
 * The public site key is not the workspace's identity (WORKSPACE_ID is): a
 * team that changes its key (a leaked key, a new site) keeps its workspace,
 * its operators, its conversations and its visitors' sessions; only the old
 * key stops opening new ones. The Worker is called with the changed
 * variable, as a deploy with a new SITE_KEY would run it; the Durable Objects
 * are the same real ones.
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { app } from "../worker/app";
import type { Env } from "../worker/env";
import type { ConversationSummary } from "../worker/protocol";
import { ADMIN, ORIGIN, conversationWithMessage, json, newVisitorSession, signInAdmin } from "./helpers";

/** The Worker as deployed with `SITE_KEY = key` (everything else as configured). */
async function withSiteKey(
  key: string,
  path: string,
  init: RequestInit = {},
  vars: Partial<Env> = {},
): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await app.fetch(new Request(ORIGIN + path, init), { ...env, SITE_KEY: key, ...vars } as Env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

describe("site key", () => {
  it("changing the site key keeps the workspace: operators sign in, conversations and visitor sessions stay; the old key opens nothing new", async () => {
    // Before the change: the workspace set up, a conversation started with the key "demo", and a visitor holding a session.
    await signInAdmin();
    const earlier = await conversationWithMessage("Written before the key changed");
    const visitor = await newVisitorSession();

    const rotated = "rotated-" + crypto.randomUUID().slice(0, 8);
    expect(env.WORKSPACE_ID, "the workspace's identity is its own variable").toBe("demo");
    const login = await withSiteKey(rotated, "/api/auth/login", json({ email: ADMIN.email, password: ADMIN.password }));
    expect(login.status, "the same operators sign in").toBe(200);
    const cookie = /mc_session=[^;]+/.exec(login.headers.get("Set-Cookie") ?? "")![0];
    const setup = (await (await withSiteKey(rotated, "/api/setup")).json()) as { needsSetup: boolean };
    expect(setup.needsSetup, "a changed key must not look like a new, empty workspace").toBe(false);

    const list = await withSiteKey(rotated, "/api/conversations?view=all&limit=200", { headers: { Cookie: cookie } });
    const { conversations } = (await list.json()) as { conversations: ConversationSummary[] };
    expect(conversations.map((c) => c.id)).toContain(earlier);
    const messages = await withSiteKey(rotated, `/api/conversations/${earlier}/messages`, {
      headers: { Cookie: cookie },
    });
    expect(((await messages.json()) as { messages: { text: string }[] }).messages.map((m) => m.text)).toContain(
      "Written before the key changed",
    );

    // A visitor's session from before the change still works (its token names the workspace, not the key).
    const ticket = await withSiteKey(rotated, "/api/visitor/ticket", {
      method: "POST",
      headers: { Authorization: `Bearer ${visitor.token}` },
    });
    expect(ticket.status, await ticket.clone().text()).toBe(200);

    // New visitors: the new key opens a conversation, the old one is refused with a reason.
    const fresh = await withSiteKey(rotated, "/api/visitor/session", json({ siteKey: rotated }));
    expect(fresh.status).toBe(201);
    const stale = await withSiteKey(rotated, "/api/visitor/session", json({ siteKey: "demo" }));
    expect(stale.status).toBe(404);
    expect(await stale.json()).toMatchObject({ error: { code: "unknown_site" } });
  });

  it("SITE_ORIGINS limits which sites may start chats: another site's browser is refused with a reason it can read", async () => {
    const sites = { SITE_ORIGINS: "https://www.example.com, https://shop.example.com" };
    const from = (origin: string | null, path = "/api/visitor/session") =>
      withSiteKey("demo", path, json({ siteKey: "demo" }, origin ? { Origin: origin } : {}), sites);
    expect((await from("https://www.example.com")).status).toBe(201);
    expect((await from("https://shop.example.com")).status).toBe(201);
    const other = await from("https://evil.example");
    expect(other.status).toBe(403);
    expect(other.headers.get("Access-Control-Allow-Origin"), "the refusal is readable cross-site").toBe("*");
    expect(await other.json()).toMatchObject({ error: { code: "bad_origin" } });
    expect((await from("https://evil.example", "/api/visitor/identify")).status).toBe(403);
    // Not set (the default): any site with the key.
    const open = await withSiteKey(
      "demo",
      "/api/visitor/session",
      json({ siteKey: "demo" }, { Origin: "https://evil.example" }),
    );
    expect(open.status).toBe(201);
  });
});
