/**
 * The live chat loop in a real browser: a visitor on the demo page writes
 * from the widget, an operator sees it in Unassigned, joins, replies with
 * Enter, and the visitor sees the reply; the visitor's history survives
 * minimise, reload and navigation. Screenshots go to test-results/screenshots.
 */
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser, BrowserContext, Page, FrameLocator } from "playwright-core";
import { startApp, type AppServer } from "./app-server.ts";
import { launch } from "./browser.ts";

const shots = join(import.meta.dirname, "../../test-results/screenshots");
const fixtures = join(import.meta.dirname, "fixtures");
mkdirSync(shots, { recursive: true });

let app: AppServer;
let browser: Browser;
let operatorCtx: BrowserContext;
let visitorCtx: BrowserContext;
let operator: Page;
let visitor: Page;

function widget(page: Page): FrameLocator {
  return page.frameLocator('iframe[title="Chat"]');
}

async function openWidget(page: Page): Promise<void> {
  await page.locator("[data-microchat]").locator('button[aria-label="Open chat"]').click();
  await widget(page).locator("#input").waitFor();
}

describe("live chat in the browser", () => {
  before(async () => {
    app = await startApp(process.env.E2E_PORT ? Number(process.env.E2E_PORT) : undefined);
    browser = await launch();
    operatorCtx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    visitorCtx = await browser.newContext({ viewport: { width: 1100, height: 800 } });
    operator = await operatorCtx.newPage();
    visitor = await visitorCtx.newPage();
    for (const page of [operator, visitor]) {
      page.on("pageerror", (err) => console.error("page error:", err.message));
    }
  });

  after(async () => {
    await browser?.close();
    await app?.stop();
  });

  it("the first run shows setup; the admin lands on the conversations screen", async () => {
    await operator.goto(app.base + "/");
    const form = operator.getByTestId("setup-form");
    await form.waitFor();
    await form.locator("input[name=name]").fill("Olivia Operator");
    await form.locator("input[name=email]").fill("olivia@example.com");
    await form.locator("input[name=password]").fill("a long enough password");
    await form.locator("input[name=confirm]").fill("a long enough password");
    await form.getByRole("button", { name: /create/i }).click();
    await operator.getByTestId("unassigned-list").waitFor();
  });

  it("a visitor message from the widget arrives live in the panel's Unassigned column", async () => {
    await visitor.goto(app.base + "/demo/");
    await openWidget(visitor);
    const frame = widget(visitor);
    await frame.locator("#input").fill("Hello, do you ship to Norway?");
    await frame.locator("#input").press("Enter");
    await frame.locator(".m.visitor:not(.pending)", { hasText: "Hello, do you ship to Norway?" }).waitFor();
    await visitor.screenshot({ path: join(shots, "widget.png") });

    const row = operator
      .getByTestId("unassigned-list")
      .getByTestId("conversation-row")
      .filter({ hasText: "Hello, do you ship to Norway?" });
    await row.waitFor({ timeout: 10_000 });
    await operator.screenshot({ path: join(shots, "conversations-unassigned.png") });
  });

  it("the visitor gives a name: the panel shows it with its first letter as the avatar", async () => {
    const frame = widget(visitor);
    await frame.locator("#profile").waitFor();
    await frame.locator("#pname").fill("nora Visitor");
    await frame.locator("#pemail").fill("nora@example.com");
    await frame.locator("#profile button[type=submit]").click();
    await frame.locator("#profile").waitFor({ state: "hidden" });
    const row = operator
      .getByTestId("unassigned-list")
      .getByTestId("conversation-row")
      .filter({ hasText: "nora Visitor" });
    await row.waitFor({ timeout: 10_000 });
    assert.equal((await row.locator(".avatar").innerText()).trim(), "N");
  });

  it("JOIN, reply with Enter, and the visitor sees it live", async () => {
    const row = operator.getByTestId("unassigned-list").getByTestId("conversation-row").first();
    await row.getByTestId("join-button").click();
    await operator.getByTestId("leave-button").waitFor();
    await operator.getByTestId("unassigned-list").getByTestId("conversation-row").waitFor({ state: "detached" });
    await operator.getByTestId("message").filter({ hasText: "Hello, do you ship to Norway?" }).waitFor();

    const composer = operator.getByTestId("composer");
    await composer.fill("Yes, we do!");
    await composer.press("Shift+Enter");
    await composer.pressSequentially("Delivery takes 3 days.");
    await composer.press("Enter");
    await widget(visitor).locator(".m.operator", { hasText: "Delivery takes 3 days." }).waitFor();
    const text = await widget(visitor).locator(".m.operator").last().innerText();
    assert.match(text, /Yes, we do!\nDelivery takes 3 days\./);
    await operator.screenshot({ path: join(shots, "conversations.png") });
    await visitor.screenshot({ path: join(shots, "widget-reply.png") });
  });

  it("the visitor attaches a picture with the paper clip; the operator sees it inline", async () => {
    await widget(visitor).locator("#file").setInputFiles(join(fixtures, "sunset.png"));
    await widget(visitor).locator(".m.visitor.file img").waitFor();
    const img = operator.getByTestId("message-image").last();
    await img.waitFor({ timeout: 10_000 });
    await operator.waitForFunction(
      (el) => (el as HTMLImageElement).complete && (el as HTMLImageElement).naturalWidth === 320,
      await img.elementHandle(),
    );
  });

  it("the operator attaches a picture and a PDF; the visitor sees the picture inline and the PDF as a card", async () => {
    await operator.getByTestId("file-input").setInputFiles([join(fixtures, "leaf.png")]);
    await operator.getByTestId("file-input").setInputFiles([join(fixtures, "invoice.pdf")]);
    const frame = widget(visitor);
    const pic = frame.locator(".m.operator.file img");
    await pic.waitFor({ timeout: 10_000 });
    assert.equal(
      await pic.evaluate(
        (el) =>
          new Promise<number>((resolve) => {
            const img = el as HTMLImageElement;
            if (img.complete && img.naturalWidth) resolve(img.naturalWidth);
            else img.addEventListener("load", () => resolve(img.naturalWidth));
          }),
      ),
      200,
    );
    await frame.locator(".m.operator.file .card", { hasText: "invoice.pdf" }).waitFor();
    await operator.getByTestId("file-card").filter({ hasText: "invoice.pdf" }).waitFor();
    // One wording for a file on both sides.
    const inWidget = await frame
      .locator(".m.operator.file .card", { hasText: "invoice.pdf" })
      .locator(".fs")
      .innerText();
    const inPanel = await operator
      .getByTestId("file-card")
      .filter({ hasText: "invoice.pdf" })
      .locator(".file-card-meta")
      .innerText();
    assert.equal(inWidget, "PDF document · 77 B", "the widget's file card");
    assert.equal(inPanel, inWidget, "the panel's file card says the same");
    await visitor.screenshot({ path: join(shots, "widget-files.png") });
    await operator.screenshot({ path: join(shots, "conversation-files.png") });
  });

  it("a picture that cannot be shown (a PNG's signature, then no picture) is a named download card on both sides", async () => {
    await operator.getByTestId("file-input").setInputFiles([join(fixtures, "broken.png")]);
    await widget(visitor).locator(".m.operator.file .card", { hasText: "broken.png" }).waitFor();
    assert.equal(await widget(visitor).locator(".m.operator.file img[alt='broken.png']").count(), 0, "widget");
    await operator.getByTestId("file-card").filter({ hasText: "broken.png" }).waitFor();
    assert.equal(await operator.locator("img[alt='broken.png']").count(), 0, "panel");
  });

  it("a disguised file is refused with a clear error in the widget and the panel", async () => {
    await widget(visitor).locator("#file").setInputFiles(join(fixtures, "fake.png"));
    await widget(visitor).locator("#error", { hasText: "not allowed" }).waitFor();
    await operator.getByTestId("file-input").setInputFiles([join(fixtures, "fake.png")]);
    await operator.getByTestId("conversation-error").filter({ hasText: "not allowed" }).waitFor();
  });

  it("the visitor's history is intact after minimise, reload and navigation", async () => {
    await widget(visitor).locator('button[aria-label="Minimise chat"]').click();
    await visitor.locator('iframe[title="Chat"]').waitFor({ state: "hidden" });
    await openWidget(visitor);
    await widget(visitor).locator(".m.operator", { hasText: "Delivery takes 3 days." }).waitFor();

    await visitor.reload();
    // The widget reopens by itself because it was open before the reload.
    await widget(visitor).locator(".m.visitor", { hasText: "Hello, do you ship to Norway?" }).waitFor();
    await widget(visitor).locator(".m.operator", { hasText: "Delivery takes 3 days." }).waitFor();

    await visitor.goto(app.base + "/demo/pricing.html");
    await widget(visitor).locator(".m.operator", { hasText: "Delivery takes 3 days." }).waitFor();
    await widget(visitor).locator("#input").fill("Thanks!");
    await widget(visitor).locator("#input").press("Enter");
    await operator.getByTestId("message").filter({ hasText: "Thanks!" }).waitFor();
  });

  it("a message typed while the network is down is sent after it comes back, once", async () => {
    await visitorCtx.setOffline(true);
    // Going offline drops the socket: the widget says so before anything is typed.
    await widget(visitor).locator(".banner:not([hidden])").waitFor({ timeout: 15_000 });
    await widget(visitor).locator("#input").fill("Typed while offline");
    await widget(visitor).locator("#input").press("Enter");
    await widget(visitor).locator(".m.pending", { hasText: "Typed while offline" }).waitFor();
    await visitorCtx.setOffline(false);
    await widget(visitor)
      .locator(".m.visitor:not(.pending)", { hasText: "Typed while offline" })
      .waitFor({ timeout: 20_000 });
    await operator.getByTestId("message").filter({ hasText: "Typed while offline" }).waitFor();
    assert.equal(await operator.getByTestId("message").filter({ hasText: "Typed while offline" }).count(), 1);
  });

  it("an operator's reply typed while the network is down reaches the visitor once, even after leaving its window", async () => {
    const text = "Reply typed offline, then away";
    await operatorCtx.setOffline(true);
    await operator.getByTestId("connection-banner").waitFor({ timeout: 15_000 });
    const composer = operator.getByTestId("composer");
    await composer.fill(text);
    await composer.press("Enter");
    await operator.locator('[data-testid="message"][data-status="sending"]', { hasText: text }).waitFor();
    // The operator moves on before the network is back: the window, its socket and its outbox close. Reports was
    // never opened, so its page cannot load offline: it says so, and loads by itself once the network is back.
    await operator.getByTestId("nav-reports").click();
    await operator.getByTestId("composer").waitFor({ state: "detached" });
    await operator.getByTestId("load-failed").getByText("This page could not be loaded").waitFor();
    await operator.screenshot({ path: join(shots, "page-offline.png") });
    await operatorCtx.setOffline(false);
    await operator.getByRole("heading", { name: "Reports" }).waitFor({ timeout: 20_000 });
    await widget(visitor).locator(".m.operator", { hasText: text }).waitFor({ timeout: 30_000 });
    // Back in the conversation it shows once, stored, not as still on its way (and not sent again).
    await operator.getByTestId("nav-conversations").click();
    await operator.getByTestId("tab-mine").click();
    await operator.getByTestId("mine-list").getByTestId("conversation-row").first().click();
    await operator.getByTestId("composer").waitFor();
    const shown = operator.getByTestId("message").filter({ hasText: text });
    await shown.first().waitFor();
    assert.equal(await shown.count(), 1, "the reply shows once");
    assert.equal(await shown.getAttribute("data-status"), "sent", "the reply is not shown as still on its way");
    assert.equal(await widget(visitor).locator(".m.operator", { hasText: text }).count(), 1);
  });

  it("a reply refused after its window closed says so, and waits in the conversation for Retry", async () => {
    const text = "Reply the server refuses at first";
    await operatorCtx.setOffline(true);
    await operator.getByTestId("connection-banner").waitFor({ timeout: 15_000 });
    // While it is refused: the conversation's socket cannot reconnect, and the server refuses the reply over HTTP.
    let refusing = true;
    await operator.routeWebSocket(/\/ws\/conversations\//, (ws) => {
      if (refusing) void ws.close({ code: 1011, reason: "test" });
      else ws.connectToServer();
    });
    await operator.route(/\/api\/v1\/conversations\/[^/]+\/messages$/, (route) =>
      route.fulfill({
        status: 403,
        contentType: "application/json",
        body: JSON.stringify({ error: { code: "forbidden", message: "Join the conversation to reply." } }),
      }),
    );
    const composer = operator.getByTestId("composer");
    await composer.fill(text);
    await composer.press("Enter");
    await operator.locator('[data-testid="message"][data-status="sending"]', { hasText: text }).waitFor();
    await operator.getByTestId("nav-reports").click();
    await operator.getByRole("heading", { name: "Reports" }).waitFor();
    await operatorCtx.setOffline(false);
    await operator
      .getByTestId("toast")
      .filter({ hasText: "was not sent: Join the conversation to reply." })
      .waitFor({ timeout: 20_000 });
    await operator.unrouteAll();
    refusing = false;
    // Back in the conversation the reply waits, refused, with Retry and Discard; Retry sends it, once.
    await operator.getByTestId("nav-conversations").click();
    await operator.getByTestId("tab-mine").click();
    await operator.getByTestId("mine-list").getByTestId("conversation-row").first().click();
    const failed = operator.locator('[data-testid="message"][data-status="failed"]', { hasText: text });
    await failed.waitFor();
    await failed.getByRole("button", { name: "Retry" }).click();
    await widget(visitor).locator(".m.operator", { hasText: text }).waitFor({ timeout: 20_000 });
    const shown = operator.getByTestId("message").filter({ hasText: text });
    await operator.locator('[data-testid="message"][data-status="sent"]', { hasText: text }).waitFor();
    assert.equal(await shown.count(), 1, "the reply shows once");
    assert.equal(await widget(visitor).locator(".m.operator", { hasText: text }).count(), 1);
  });

  it("hostile text shows as text in the panel and the widget, and nothing executes", async () => {
    const payload = `<img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script>`;
    await widget(visitor).locator("#input").fill(payload);
    await widget(visitor).locator("#input").press("Enter");
    await operator.getByTestId("message").filter({ hasText: "<script>window.__pwned=1</script>" }).waitFor();
    assert.equal(await operator.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
    const inWidget = widget(visitor).locator(".m.visitor", { hasText: "<script>window.__pwned=1</script>" });
    await inWidget.waitFor();
    assert.equal(await inWidget.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
    assert.equal(await widget(visitor).locator("img[src=x]").count(), 0);
    assert.equal(await operator.locator("img[src=x]").count(), 0);
  });

  it("Leave Conversation unassigns the operator; the visitor rates the chat; the next message returns it to Unassigned", async () => {
    await operator.getByTestId("leave-button").click();
    await operator.getByTestId("join-button").first().waitFor();
    const frame = widget(visitor);
    await frame.locator("#survey").waitFor();
    assert.match(await frame.locator("#survey-title").innerText(), /Olivia Operator/);
    await visitor.screenshot({ path: join(shots, "widget-survey.png") });
    await frame.locator('.stars button[data-rating="4"]').click();
    await frame.locator("#survey-comment").fill("Very helpful");
    await frame.locator("#survey-submit").click();
    await frame.locator("#survey-thanks").waitFor();
    await operator.getByTestId("message").filter({ hasText: "Rated 4/5: Very helpful" }).waitFor();
    await widget(visitor).locator("#input").fill("One more question");
    await widget(visitor).locator("#input").press("Enter");
    await operator
      .getByTestId("unassigned-list")
      .getByTestId("conversation-row")
      .filter({ hasText: "One more question" })
      .waitFor({ timeout: 10_000 });
  });

  it("a chosen star is not lost: it outlives a reload, ✕ sends it, and one sent offline arrives when the network is back", async () => {
    const row = operator.getByTestId("unassigned-list").getByTestId("conversation-row").first();
    await row.getByTestId("join-button").click();
    await operator.getByTestId("leave-button").click();
    await operator.getByTestId("join-button").first().waitFor();
    const frame = widget(visitor);
    await frame.locator("#survey:not([hidden])").waitFor();
    await frame.locator('.stars button[data-rating="3"]').click();
    await frame.locator("#survey-comment").fill("Kept across a reload");
    await visitor.reload();
    // The widget reopens by itself (it was open), with the survey as it was left.
    const star = widget(visitor).locator('.stars button[data-rating="3"]');
    await widget(visitor).locator("#survey:not([hidden])").waitFor();
    assert.equal(await star.getAttribute("aria-checked"), "true", "the chosen star is still chosen");
    assert.equal(await widget(visitor).locator("#survey-comment").inputValue(), "Kept across a reload");

    await visitorCtx.setOffline(true);
    await widget(visitor).locator(".banner:not([hidden])").waitFor({ timeout: 15_000 });
    // ✕ after choosing a star: the star is the answer, not a "no thanks".
    await widget(visitor).locator("#survey-dismiss").click();
    await widget(visitor).locator("#survey-thanks:not([hidden])").waitFor();
    await visitorCtx.setOffline(false);
    const rated = operator.getByTestId("message").filter({ hasText: "Rated 3/5: Kept across a reload" });
    await rated.waitFor({ timeout: 20_000 });
    assert.equal(await rated.count(), 1, "rated once");
    assert.equal(await widget(visitor).locator("#survey:not([hidden])").count(), 0, "the survey is not offered again");
  });

  it("works at 800px wide", async () => {
    await operator.setViewportSize({ width: 800, height: 700 });
    await operator.getByTestId("unassigned-list").waitFor();
    await operator.screenshot({ path: join(shots, "conversations-800.png") });
    const overflow = await operator.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
    assert.equal(overflow, false, "no horizontal scrolling at 800px");
  });
});
