/**
 * Visitor info, notifications and integrations in a real browser:
 * - a visitor browses two demo pages and writes; the online operator gets a
 *   desktop notification, a toast and a count in the tab title, while the
 *   operator who set themselves Away gets nothing; the toast opens the
 *   conversation with its JOIN button;
 * - the visitor info beside the conversation shows the pages (newest first),
 *   the browser, system and IP, and a world map drawn without any server;
 * - an admin creates an API token in Integrations, uses it, revokes it, and
 *   registers a webhook.
 * Screenshots go to test-results/screenshots.
 */
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import type { VisitorInfo } from "../../worker/protocol/index.ts";
import { startApp, type AppServer } from "./app-server.ts";
import { launch } from "./browser.ts";

const shots = join(import.meta.dirname, "../../test-results/screenshots");
mkdirSync(shots, { recursive: true });

const PASSWORD = "a long enough password";

let app: AppServer;
let browser: Browser;
let admin: Page;
let away: Page;
let visitor: Page;
let conversationId = "";

/** Records every `new Notification(...)` the panel makes, in `window.__notifications`. */
function recordNotifications(): void {
  const w = window as unknown as { __notifications: { title: string; body?: string }[] };
  w.__notifications = [];
  const Original = window.Notification;
  class Recording extends Original {
    constructor(title: string, options?: NotificationOptions) {
      w.__notifications.push({ title, body: options?.body });
      super(title, options);
    }
  }
  window.Notification = Recording;
}

async function operatorContext(base: string, width = 1280): Promise<BrowserContext> {
  const ctx = await browser.newContext({ viewport: { width, height: 800 } });
  await ctx.grantPermissions(["notifications"], { origin: base });
  await ctx.addInitScript(recordNotifications);
  return ctx;
}

const notifications = (page: Page) =>
  page.evaluate(() => (window as unknown as { __notifications: { title: string; body?: string }[] }).__notifications);

describe("visitor info, notifications and integrations", () => {
  before(async () => {
    app = await startApp();
    browser = await launch();
    admin = await (await operatorContext(app.base)).newPage();
    away = await (await operatorContext(app.base)).newPage();
    visitor = await (await browser.newContext({ viewport: { width: 1100, height: 800 } })).newPage();
    for (const page of [admin, away, visitor]) page.on("pageerror", (err) => console.error("page error:", err.message));
  });
  after(async () => {
    await browser?.close();
    await app?.stop();
  });

  it("two operators sign in; one switches to Away and everyone sees it", async () => {
    const setup = await admin.request.post(app.base + "/api/setup", {
      data: { name: "Olivia Admin", email: "olivia@example.com", password: PASSWORD },
    });
    assert.equal(setup.status(), 201);
    const added = await admin.request.post(app.base + "/api/operators", {
      data: { name: "Ben Away", email: "ben@example.com", password: PASSWORD, admin: false },
    });
    assert.equal(added.status(), 201);
    const login = await away.request.post(app.base + "/api/auth/login", {
      data: { email: "ben@example.com", password: PASSWORD },
    });
    assert.equal(login.status(), 200);

    for (const page of [admin, away]) {
      await page.goto(app.base + "/conversations");
      await page.getByTestId("unassigned-list").waitFor();
    }
    // Permission was granted up front, so the panel does not offer to ask for it.
    assert.equal(await admin.getByTestId("enable-notifications").count(), 0);
    assert.equal(await admin.getByTestId("presence-toggle").getAttribute("aria-checked"), "true");

    await away.getByTestId("presence-toggle").click();
    await away.locator('[data-testid="presence-toggle"][data-status="away"]').waitFor();
    assert.equal(await away.getByTestId("presence-toggle").getAttribute("aria-checked"), "false");
    await away.locator('[data-testid="own-presence"][data-status="away"]').waitFor();
    // Integrations are for admins only.
    assert.equal(await away.getByTestId("nav-integrations").count(), 0);

    await admin.getByTestId("nav-operators").click();
    const ben = admin.getByTestId("operator-row").filter({ hasText: "Ben Away" });
    await ben.locator('[data-testid="operator-presence"][data-presence="away"]').waitFor();
    const olivia = admin.getByTestId("operator-row").filter({ hasText: "Olivia Admin" });
    await olivia.locator('[data-testid="operator-presence"][data-presence="online"]').waitFor();
    await admin.getByTestId("nav-conversations").click();
    await admin.getByTestId("unassigned-list").waitFor();
  });

  it("a visitor writes: the online operator is notified (system, toast, title); the Away one is not", async () => {
    await visitor.goto(app.base + "/demo/pricing.html");
    await visitor.goto(app.base + "/demo/");
    await visitor.locator("[data-microchat]").locator('button[aria-label="Open chat"]').click();
    const frame = visitor.frameLocator('iframe[title="Chat"]');
    await frame.locator("#input").fill("Hi! Is the monstera in stock?");
    await frame.locator("#input").press("Enter");
    await frame.locator(".m.visitor:not(.pending)").waitFor();

    const toast = admin.getByTestId("notify-toast").filter({ hasText: "Is the monstera in stock?" });
    await toast.waitFor({ timeout: 10_000 });
    conversationId = (await toast.getAttribute("data-conversation-id")) ?? "";
    assert.ok(conversationId);
    await admin.waitForFunction(() =>
      (window as unknown as { __notifications: { body?: string }[] }).__notifications.some((n) =>
        n.body?.includes("monstera"),
      ),
    );
    assert.match(await admin.title(), /^\(\d+\) Microchat$/);
    await admin.screenshot({ path: join(shots, "notification-toast.png") });

    // The Away operator sees the conversation in Unassigned, but was not notified.
    await away
      .getByTestId("unassigned-list")
      .getByTestId("conversation-row")
      .filter({ hasText: "monstera" })
      .waitFor({ timeout: 10_000 });
    // A notification would come right after that row's update on the same socket. To know none is
    // coming, wait for a later frame: the visitor writes again and the Away panel shows it.
    await frame.locator("#input").fill("And the pothos?");
    await frame.locator("#input").press("Enter");
    await away
      .getByTestId("unassigned-list")
      .getByTestId("conversation-row")
      .filter({ hasText: "And the pothos?" })
      .waitFor({ timeout: 20_000 });
    assert.deepEqual(await notifications(away), []);
    assert.equal(await away.getByTestId("notify-toast").count(), 0);
    assert.equal(await away.title(), "Microchat");
  });

  it("View on the toast opens the conversation with its JOIN button, and the title count clears", async () => {
    await admin.getByTestId("notify-toast").getByTestId("notify-view").click();
    await admin.waitForURL(`**/conversations/${conversationId}`);
    await admin.getByTestId("conversation-header").getByTestId("join-button").waitFor();
    await admin.getByTestId("notify-toast").waitFor({ state: "detached" });
    await admin.waitForFunction(() => document.title === "Microchat");
  });

  it("visitor info shows the pages newest first, the browser, system, IP and a world map", async () => {
    const info = admin.getByTestId("visitor-info");
    await info.waitFor();
    // At 1280 px it is a column: no toggle needed.
    assert.equal(await admin.getByTestId("visitor-info-toggle").count(), 0);

    const pages = info.getByTestId("visitor-pages");
    await pages.getByTestId("visitor-page").nth(1).waitFor({ timeout: 10_000 });
    const first = pages.getByTestId("visitor-page").nth(0);
    const second = pages.getByTestId("visitor-page").nth(1);
    assert.match(await first.innerText(), /Acme Plants — demo shop/);
    assert.match(await second.innerText(), /Pricing — Acme Plants/);
    const link = second.locator("a");
    assert.match((await link.getAttribute("href")) ?? "", /\/demo\/pricing/);
    assert.equal(await link.getAttribute("target"), "_blank");
    assert.equal(await link.getAttribute("rel"), "noopener noreferrer");
    assert.ok(Number(await pages.getByTestId("visitor-pages-count").innerText()) >= 2);

    const tech = info.getByTestId("visitor-tech");
    assert.match(await tech.getByTestId("visitor-browser").innerText(), /^Chrome \d+/);
    assert.match(await tech.getByTestId("visitor-os").innerText(), /Linux/);
    assert.equal(await tech.getByTestId("visitor-ip").innerText(), "127.0.0.1");
    assert.match(await info.getByTestId("visitor-presence").innerText(), /Online now/);

    // The map is drawn locally from the lazy chunk: every country is a path.
    const map = info.getByTestId("visitor-map");
    await map.waitFor();
    assert.ok((await map.locator("path").count()) > 100, "the world's countries are drawn");
    const place = (await info.getByTestId("visitor-place").innerText()).trim();
    // wrangler dev has no edge geolocation; with none the panel says so.
    const { visitor: v } = (await (
      await admin.request.get(`${app.base}/api/conversations/${conversationId}/visitor`)
    ).json()) as { visitor: VisitorInfo };
    if (v.location === null) {
      assert.equal(place, "Location unknown");
      assert.equal(await map.getByTestId("map-pin").count(), 0);
    } else if (v.location.latitude !== null && v.location.longitude !== null) {
      // Some wrangler versions fill in a sample location: then the pin and the country show.
      assert.notEqual(place, "Location unknown");
      assert.equal(await map.getByTestId("map-pin").count(), 1);
      if (v.location.country) assert.notEqual(await map.getAttribute("data-country"), "");
    }
    await admin.screenshot({ path: join(shots, "conversation-visitor-info.png") });
  });

  it("the operator corrects the visitor's name and email; a bad email is refused with the server's message", async () => {
    const identity = admin.getByTestId("visitor-identity");
    await identity.getByTestId("visitor-edit").click();
    const form = identity.getByTestId("visitor-edit-form");
    await form.locator("input[name=name]").fill("Nora <b>Nordmann</b>");
    await form.locator("input[name=email]").fill("not an email");
    await form.getByRole("button", { name: "Save" }).click();
    await form.getByRole("alert").waitFor();
    await form.locator("input[name=email]").fill("nora@example.org");
    await form.getByRole("button", { name: "Save" }).click();
    await form.waitFor({ state: "detached" });
    // Shown as text, never as markup.
    await identity.getByText("Nora <b>Nordmann</b>").waitFor();
    await identity.getByText("nora@example.org").waitFor();
    assert.equal(await identity.locator("b").count(), 0);
  });

  it("at 800 px the visitor info opens as a drawer from the header and closes with Escape", async () => {
    await admin.setViewportSize({ width: 800, height: 800 });
    const toggle = admin.getByTestId("visitor-info-toggle");
    await toggle.waitFor();
    assert.equal(await admin.getByTestId("visitor-info").count(), 0);
    await toggle.click();
    assert.equal(await toggle.getAttribute("aria-expanded"), "true");
    const info = admin.getByTestId("visitor-info");
    await info.getByTestId("visitor-tech").waitFor();
    await admin.screenshot({ path: join(shots, "conversation-visitor-info-800.png") });
    await admin.keyboard.press("Escape");
    await info.waitFor({ state: "detached" });
    assert.equal(await toggle.getAttribute("aria-expanded"), "false");
    await admin.setViewportSize({ width: 1280, height: 800 });
  });

  it("while the conversation's connection is down the panel does not claim the visitor is online, nor hangs opening one", async () => {
    const header = admin.getByTestId("conversation-header");
    const presence = header.getByTestId("header-presence");
    const infoPresence = admin.getByTestId("visitor-info").getByTestId("visitor-presence");
    await presence.filter({ hasText: /^Online$/ }).waitFor();
    await infoPresence.filter({ hasText: "Online now" }).waitFor();
    await admin.context().setOffline(true);
    try {
      await admin.getByTestId("connection-banner").waitFor({ timeout: 15_000 });
      await presence.filter({ hasText: "Reconnecting…" }).waitFor();
      await infoPresence.filter({ hasText: "Not known while reconnecting" }).waitFor();
      assert.equal(await header.locator(".avatar-online").count(), 0, "the avatar drops its online dot");
      await admin.screenshot({ path: join(shots, "conversation-presence-unknown.png") });
      // A conversation opened now says why it does not open yet, rather than loading for ever.
      const url = admin.url();
      await admin.getByTestId("nav-conversations").click();
      await admin.waitForURL((u) => u.toString() !== url);
      await admin.getByTestId("conversation-row").filter({ hasText: "Nora" }).first().click();
      await admin
        .getByTestId("conversation-loading")
        .filter({ hasText: "Cannot reach Microchat. The conversation opens as soon as the connection is back" })
        .waitFor({ timeout: 15_000 });
      await admin.screenshot({ path: join(shots, "conversation-opening-offline.png") });
    } finally {
      await admin.context().setOffline(false);
    }
    await admin.getByTestId("conversation-loading").waitFor({ state: "detached", timeout: 30_000 });
    await presence.filter({ hasText: /^Online$/ }).waitFor({ timeout: 20_000 });
    await infoPresence.filter({ hasText: "Online now" }).waitFor();
  });

  it("an admin creates an API token, sees it once, uses it, revokes it; then it is refused", async () => {
    await admin.getByTestId("nav-integrations").click();
    const page = admin.getByTestId("integrations-page");
    await page.waitFor();
    assert.equal(await page.getByTestId("openapi-link").getAttribute("href"), "/api/v1/openapi.json");

    await page.getByTestId("token-name").fill("Nightly export");
    await page.getByTestId("create-token").click();
    const field = page.getByTestId("new-token");
    await field.waitFor();
    const token = await field.inputValue();
    assert.match(token, /^mct_/);
    await page.getByTestId("token-row").filter({ hasText: "Nightly export" }).waitFor();

    const call = () =>
      fetch(`${app.base}/api/v1/conversations`, { headers: { Authorization: `Bearer ${token}` } }).then(
        (r) => r.status,
      );
    assert.equal(await call(), 200);

    // Shown once: after a reload the list has the name, not the secret.
    await admin.reload();
    await page.getByTestId("token-row").filter({ hasText: "Nightly export" }).waitFor();
    assert.equal(await page.getByTestId("new-token").count(), 0);
    assert.ok(!(await page.innerText()).includes(token));

    await page.getByTestId("token-row").filter({ hasText: "Nightly export" }).getByTestId("revoke-token").click();
    const dialog = admin.getByTestId("revoke-dialog");
    await dialog.waitFor();
    await dialog.getByTestId("confirm-revoke").click();
    await dialog.waitFor({ state: "detached" });
    await page.getByTestId("token-row").filter({ hasText: "Nightly export" }).waitFor({ state: "detached" });
    assert.equal(await call(), 401);
  });

  it("an admin registers a webhook, sees its signing secret once and its deliveries", async () => {
    const page = admin.getByTestId("integrations-page");
    await page.getByTestId("webhook-url").fill("http://example.invalid/hook");
    await page.getByTestId("add-webhook").click();
    await page.getByTestId("webhook-form").getByRole("alert").waitFor();

    await page.getByTestId("webhook-url").fill("https://example.invalid/hook");
    await page.getByTestId("add-webhook").click();
    const secret = page.getByTestId("webhook-secret");
    await secret.waitFor();
    assert.ok((await secret.inputValue()).length >= 16);
    const row = page.getByTestId("webhook-row").filter({ hasText: "https://example.invalid/hook" });
    await row.waitFor();
    assert.match(await row.innerText(), /message\.created/);
    await row.getByTestId("webhook-deliveries").click();
    await row.getByTestId("deliveries-panel").waitFor();
    await page.getByTestId("signature-help").waitFor();
    // A token in the list for the picture.
    await page.getByTestId("token-name").fill("Zapier");
    await page.getByTestId("create-token").click();
    await page.getByTestId("new-token-box").getByRole("button", { name: "Done" }).click();
    await page.getByTestId("token-row").filter({ hasText: "Zapier" }).waitFor();
    // The page scrolls inside the panel, not the document: a tall window shows all of it.
    await admin.setViewportSize({ width: 1280, height: 1400 });
    await admin.screenshot({ path: join(shots, "integrations.png") });
    await admin.setViewportSize({ width: 1280, height: 800 });
  });
});
