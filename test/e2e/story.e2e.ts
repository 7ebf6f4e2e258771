/**
 * The whole help article as one story, with two browsers: an operator in the
 * panel and a visitor on the demo page.
 *
 * visitor writes → Unassigned + notification → JOIN → Enter reply → seen live
 * → files both ways → minimise, reload, navigate: history intact → an email
 * arrives with the blue envelope → visitor goes offline: channel switches to
 * Email and the reply goes out by email → Leave → visitor rates → rating in
 * Report > Operator → a new visitor message requeues → delete.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser, BrowserContext, FrameLocator, Page } from "playwright-core";
import { startApp, type AppServer } from "./app-server.ts";
import { launch } from "./browser.ts";

const shots = join(import.meta.dirname, "../../test-results/screenshots");
const fixtures = join(import.meta.dirname, "fixtures");
let app: AppServer;
let browser: Browser;
let visitorCtx: BrowserContext;
let operator: Page;
let visitor: Page;

const widget = (page: Page): FrameLocator => page.frameLocator('iframe[title="Chat"]');
const rows = (list: string) => operator.getByTestId(list).getByTestId("conversation-row");

async function openWidget(page: Page): Promise<void> {
  // The loader mounts asynchronously; it reopens by itself if the chat was open before a reload.
  const launcher = page.locator("[data-microchat]").locator("button.l");
  await launcher.waitFor();
  if ((await launcher.getAttribute("aria-label")) === "Open chat") await launcher.click();
  await widget(page).locator("#input").waitFor();
}

async function visitorSays(text: string): Promise<void> {
  await widget(visitor).locator("#input").fill(text);
  await widget(visitor).locator("#input").press("Enter");
  await widget(visitor).locator(".m.visitor:not(.pending)", { hasText: text }).waitFor();
}

describe("the article, end to end", () => {
  before(async () => {
    app = await startApp();
    browser = await launch();
    const operatorCtx = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    await operatorCtx.grantPermissions(["notifications"], { origin: app.base });
    await operatorCtx.addInitScript(() => {
      const w = window as unknown as { __notified: string[] };
      w.__notified = [];
      const Original = window.Notification;
      window.Notification = class extends Original {
        constructor(title: string, options?: NotificationOptions) {
          w.__notified.push(`${title} ${options?.body ?? ""}`);
          super(title, options);
        }
      };
    });
    operator = await operatorCtx.newPage();
    visitorCtx = await browser.newContext({ viewport: { width: 1100, height: 860 } });
    visitor = await visitorCtx.newPage();
  });
  after(async () => {
    await browser?.close();
    await app?.stop();
  });

  it("1. the operator sets up and is online; the visitor writes; it lands in Unassigned with a notification", async () => {
    await operator.goto(app.base + "/");
    const form = operator.getByTestId("setup-form");
    await form.locator("input[name=name]").fill("Olivia Operator");
    await form.locator("input[name=email]").fill("olivia@example.com");
    await form.locator("input[name=password]").fill("a long enough password");
    await form.locator("input[name=confirm]").fill("a long enough password");
    await form.getByRole("button", { name: /create/i }).click();
    await operator.getByTestId("unassigned-list").waitFor();

    await visitor.goto(app.base + "/demo/");
    await openWidget(visitor);
    await visitorSays("Hi! Do you deliver plants to Bergen?");
    await widget(visitor).locator("#pname").fill("Nora");
    await widget(visitor).locator("#pemail").fill("nora@example.org");
    await widget(visitor).locator("#profile button[type=submit]").click();

    await rows("unassigned-list").filter({ hasText: "Do you deliver plants to Bergen?" }).waitFor({ timeout: 10_000 });
    await operator.waitForFunction(() =>
      (window as unknown as { __notified: string[] }).__notified.some((n) => n.includes("Bergen")),
    );
    await operator.screenshot({ path: join(shots, "story-1-unassigned.png") });
  });

  it("2. JOIN, reply with Enter, the visitor sees it live", async () => {
    await rows("unassigned-list").first().getByTestId("join-button").click();
    await operator.getByTestId("leave-button").waitFor();
    await operator.getByTestId("composer").fill("Yes, we deliver all over Norway.");
    await operator.getByTestId("composer").press("Enter");
    await widget(visitor).locator(".m.operator", { hasText: "Yes, we deliver all over Norway." }).waitFor();
  });

  it("2b. with the panel tab in the background, a visitor message in a joined conversation notifies the operator", async () => {
    await operator.evaluate(() => {
      Object.defineProperty(document, "visibilityState", { get: () => "hidden", configurable: true });
      document.dispatchEvent(new Event("visibilitychange"));
    });
    await visitorSays("Great, and how much is shipping?");
    await operator.waitForFunction(() =>
      (window as unknown as { __notified: string[] }).__notified.some((n) => n.includes("how much is shipping")),
    );
    await operator.evaluate(() => {
      Object.defineProperty(document, "visibilityState", { get: () => "visible", configurable: true });
      document.dispatchEvent(new Event("visibilitychange"));
    });
  });

  it("3. files and pictures both ways", async () => {
    await widget(visitor).locator("#file").setInputFiles(join(fixtures, "sunset.png"));
    await operator.getByTestId("message-image").last().waitFor({ timeout: 10_000 });
    await operator.getByTestId("file-input").setInputFiles([join(fixtures, "invoice.pdf")]);
    await widget(visitor).locator(".m.operator.file .card", { hasText: "invoice.pdf" }).waitFor({ timeout: 10_000 });
  });

  it("4. minimise, reload and navigate: the visitor's history is intact", async () => {
    await widget(visitor).locator('button[aria-label="Minimise chat"]').click();
    await visitor.reload();
    await openWidget(visitor);
    await widget(visitor).locator(".m.operator", { hasText: "Yes, we deliver all over Norway." }).waitFor();
    await visitor.goto(app.base + "/demo/pricing.html");
    await openWidget(visitor);
    await widget(visitor).locator(".m.visitor", { hasText: "Do you deliver plants to Bergen?" }).waitFor();
    await visitor.screenshot({ path: join(shots, "story-4-widget.png") });
  });

  it("5. an email arrives and shows the blue envelope", async () => {
    const mail = [
      "From: Peter <peter@example.org>",
      "To: support@microchat.example",
      "Subject: Wholesale prices?",
      "Message-ID: <story-1@example.org>",
      "",
      "Do you have wholesale prices for offices?",
      "",
    ].join("\r\n");
    const res = await fetch(`${app.base}/cdn-cgi/handler/email?from=peter@example.org&to=support@microchat.example`, {
      method: "POST",
      body: mail,
    });
    assert.equal(res.status, 200);
    const row = rows("unassigned-list").filter({ hasText: "wholesale prices" });
    await row.waitFor({ timeout: 10_000 });
    await row.locator(".row-link").click();
    await operator.getByTestId("email-badge").first().waitFor();
  });

  it("6. the visitor goes offline: the channel switches to Email and the reply goes out by email", async () => {
    await rows("mine-list").filter({ hasText: "Nora" }).locator(".row-link").click();
    await operator.getByTestId("leave-button").waitFor();
    await visitor.close(); // the visitor leaves the site
    await operator.waitForFunction(
      () => document.querySelector('[data-testid="channel-email"]')?.getAttribute("aria-checked") === "true",
      undefined,
      { timeout: 15_000 },
    );
    await operator.getByTestId("composer").fill("Delivery to Bergen takes two days. Anything else?");
    await operator.getByTestId("composer").press("Enter");
    const reply = operator.getByTestId("message").filter({ hasText: "Delivery to Bergen takes two days." });
    await reply.getByTestId("email-badge").waitFor();
    await reply
      .getByTestId("delivery-state")
      .filter({ hasText: /^Sent$/ })
      .waitFor({ timeout: 15_000 });
    await operator.screenshot({ path: join(shots, "story-6-email-reply.png") });
  });

  it("7. Leave Conversation; the visitor comes back and rates; the rating shows in Report > Operator", async () => {
    await operator.getByTestId("leave-button").click();
    visitor = await visitorCtx.newPage();
    await visitor.goto(app.base + "/demo/");
    await openWidget(visitor);
    await widget(visitor).locator("#survey").waitFor();
    await visitor.screenshot({ path: join(shots, "story-7-survey.png") });
    await widget(visitor).locator('.stars button[data-rating="4"]').click();
    await widget(visitor).locator("#survey-submit").click();
    await operator.getByTestId("message").filter({ hasText: "Rated 4/5" }).waitFor();

    await operator.getByTestId("nav-reports").click();
    const row = operator.getByTestId("operator-report-row").filter({ hasText: "Olivia Operator" });
    await row.waitFor();
    assert.match(await row.innerText(), /4/);
    await operator.screenshot({ path: join(shots, "story-7-reports.png") });
  });

  it("8. a new visitor message puts the conversation back in Unassigned; then it is deleted", async () => {
    await visitorSays("One more thing: do you gift-wrap?");
    await operator.getByTestId("nav-conversations").click();
    const row = rows("unassigned-list").filter({ hasText: "gift-wrap" });
    await row.waitFor({ timeout: 10_000 });
    await row.locator(".row-link").click();
    await operator.screenshot({ path: join(shots, "story-8-before-delete.png") });
    await operator.getByTestId("delete-conversation").click({ timeout: 5000 });
    await operator.getByTestId("confirm-delete").click();
    await row.waitFor({ state: "detached" });
    // The visitor starts afresh.
    await visitor.reload();
    await visitor.waitForTimeout(500);
    await visitor.screenshot({ path: join(shots, "story-8-after-delete.png") });
    await openWidget(visitor);
    assert.equal(await widget(visitor).locator(".m.visitor", { hasText: "gift-wrap" }).count(), 0);
  });
});
