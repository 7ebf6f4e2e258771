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
import type { Browser, BrowserContext, FrameLocator, Page, Response as PwResponse } from "playwright-core";
import { startApp, type AppServer } from "./app-server.ts";
import { launch } from "./browser.ts";
import { expectSoon, Story, textOf, type Step } from "./story-runner.ts";

const shots = join(import.meta.dirname, "../../test-results/screenshots");
const fixtures = join(import.meta.dirname, "fixtures");
let app: AppServer;
let browser: Browser;
let visitorCtx: BrowserContext;
let operator: Page;
let visitor: Page;

const widget = (page: Page): FrameLocator => page.frameLocator('iframe[title="Chat"]');
const rows = (list: string) => operator.getByTestId(list).getByTestId("conversation-row");

/** What both people see right now, for failure messages. */
async function screens(): Promise<string> {
  const parts = [
    `operator at ${operator.url()}`,
    `  Unassigned: ${await textOf(operator.getByTestId("unassigned-list"), 300)}`,
    `  Mine: ${await textOf(operator.getByTestId("mine-list"), 300)}`,
    `  open conversation: ${await textOf(operator.getByTestId("conversation-header"), 150)}`,
    `  last messages: ${(await operator.getByTestId("message").allInnerTexts()).slice(-4).join(" | ").slice(0, 400)}`,
  ];
  if (visitor.isClosed()) parts.push("visitor: page closed");
  else {
    const w = widget(visitor);
    parts.push(
      `visitor at ${visitor.url()}`,
      `  widget log: ${await textOf(w.locator("#log"), 400)}`,
      `  input: ${JSON.stringify(
        await w
          .locator("#input")
          .inputValue({ timeout: 1000 })
          .catch(() => "(none)"),
      )}`,
      `  banner/error: ${await textOf(w.locator("#banner"), 100)} / ${await textOf(w.locator("#error"), 100)}`,
    );
  }
  return parts.join("\n");
}

const story = new Story(screens, () => [operator, visitor].filter(Boolean));

async function openWidget(page: Page): Promise<void> {
  // The loader mounts asynchronously; it reopens by itself if the chat was open before a reload.
  const launcher = page.locator("[data-microchat]").locator("button.l");
  await expectSoon(launcher, "the widget's launcher", screens);
  if ((await launcher.getAttribute("aria-label")) === "Open chat") await launcher.click();
  await expectSoon(widget(page).locator("#input:not([disabled])"), "the widget's message input, ready", screens);
}

/** The visitor types and presses Enter; if Enter does not send, that is a finding and the Send button is used. */
async function visitorSays(step: Step, text: string): Promise<void> {
  const w = widget(visitor);
  await w.locator("#input").fill(text);
  await w.locator("#input").press("Enter");
  await step.soft(
    `Enter sends "${text}"`,
    () =>
      expectSoon(w.locator(".m.visitor", { hasText: text }), `"${text}" in the widget log`, screens, { timeout: 5000 }),
    () => w.locator("#send").click(),
  );
  await expectSoon(w.locator(".m.visitor:not(.pending)", { hasText: text }), `"${text}" acknowledged`, screens);
}

/** The operator types a reply and presses Enter; if Enter does not send, that is a finding and Send is used. */
async function operatorSays(step: Step, text: string): Promise<void> {
  await operator.getByTestId("composer").fill(text);
  await operator.getByTestId("composer").press("Enter");
  await step.soft(
    `Enter sends the reply "${text}"`,
    () =>
      expectSoon(operator.getByTestId("message").filter({ hasText: text }), `"${text}" in the panel`, screens, {
        timeout: 5000,
      }),
    () => operator.getByTestId("send-button").click(),
  );
}

const notified = (needle: string) =>
  operator.waitForFunction(
    (n) => (window as unknown as { __notified: string[] }).__notified.some((x) => x.includes(n)),
    needle,
    { timeout: 15_000 },
  );

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

  it(
    "1. the operator sets up the workspace and is online",
    story.step("setup", { makes: ["operator"] }, async () => {
      await operator.goto(app.base + "/");
      const form = operator.getByTestId("setup-form");
      await form.locator("input[name=name]").fill("Olivia Operator");
      await form.locator("input[name=email]").fill("olivia@example.com");
      await form.locator("input[name=password]").fill("a long enough password");
      await form.locator("input[name=confirm]").fill("a long enough password");
      await form.getByRole("button", { name: /create/i }).click();
      await expectSoon(operator.getByTestId("unassigned-list"), "the Unassigned list after setup", screens);
    }),
  );

  it(
    "2. the visitor writes with Enter; it lands in Unassigned with a notification",
    story.step("visitor writes", { needs: ["operator"], makes: ["waiting"] }, async (step) => {
      await visitor.goto(app.base + "/demo/");
      await openWidget(visitor);
      await visitorSays(step, "Hi! Do you deliver plants to Bergen?");
      await widget(visitor).locator("#pname").fill("Nora");
      await widget(visitor).locator("#pemail").fill("nora@example.org");
      await widget(visitor).locator("#profile button[type=submit]").click();
      await expectSoon(
        rows("unassigned-list").filter({ hasText: "Do you deliver plants to Bergen?" }),
        "the message in Unassigned",
        screens,
      );
      await step.soft("the online operator is notified", () => notified("Bergen").then(() => undefined));
      await operator.screenshot({ path: join(shots, "story-1-unassigned.png") });
    }),
  );

  it(
    "3. JOIN, reply with Enter, the visitor sees it live",
    story.step("join and reply", { needs: ["waiting"], makes: ["joined"] }, async (step) => {
      await rows("unassigned-list").first().getByTestId("join-button").click();
      await expectSoon(operator.getByTestId("leave-button"), "Leave Conversation after JOIN", screens);
      await operatorSays(step, "Yes, we deliver all over Norway.");
      await expectSoon(
        widget(visitor).locator(".m.operator", { hasText: "Yes, we deliver all over Norway." }),
        "the reply in the widget",
        screens,
      );
    }),
  );

  it(
    "4. with the panel tab in the background, a visitor message in a joined conversation notifies the operator",
    story.step("background notification", { needs: ["joined"] }, async (step) => {
      await operator.evaluate(() => {
        Object.defineProperty(document, "visibilityState", { get: () => "hidden", configurable: true });
        document.dispatchEvent(new Event("visibilitychange"));
      });
      await visitorSays(step, "Great, and how much is shipping?");
      await notified("how much is shipping");
      await operator.evaluate(() => {
        Object.defineProperty(document, "visibilityState", { get: () => "visible", configurable: true });
        document.dispatchEvent(new Event("visibilitychange"));
      });
    }),
  );

  it(
    "5. files and pictures both ways",
    story.step("files", { needs: ["joined"] }, async () => {
      await widget(visitor).locator("#file").setInputFiles(join(fixtures, "sunset.png"));
      await expectSoon(operator.getByTestId("message-image").last(), "the visitor's picture in the panel", screens);
      await operator.getByTestId("file-input").setInputFiles([join(fixtures, "invoice.pdf")]);
      await expectSoon(
        widget(visitor).locator(".m.operator.file .card", { hasText: "invoice.pdf" }),
        "the operator's PDF card in the widget",
        screens,
      );
    }),
  );

  it(
    "6. minimise, reload and navigate: the visitor's history is intact",
    story.step("history", { needs: ["joined"] }, async () => {
      await widget(visitor).locator('button[aria-label="Minimise chat"]').click();
      await visitor.reload();
      await openWidget(visitor);
      await expectSoon(
        widget(visitor).locator(".m.operator", { hasText: "Yes, we deliver all over Norway." }),
        "the reply after a reload",
        screens,
      );
      await visitor.goto(app.base + "/demo/pricing.html");
      await openWidget(visitor);
      await expectSoon(
        widget(visitor).locator(".m.visitor", { hasText: "Do you deliver plants to Bergen?" }),
        "the first message on another page",
        screens,
      );
      await visitor.screenshot({ path: join(shots, "story-4-widget.png") });
    }),
  );

  it(
    "7. an email arrives and shows the blue envelope",
    story.step("email in", { needs: ["operator"] }, async () => {
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
      assert.equal(res.status, 200, `the email handler answered ${res.status}: ${await res.text()}`);
      const row = rows("unassigned-list").filter({ hasText: "wholesale prices" });
      await expectSoon(row, "the email in Unassigned", screens);
      await row.locator(".row-link").click();
      await expectSoon(operator.getByTestId("email-badge").first(), "the blue envelope on the email", screens);
    }),
  );

  it(
    "8. the visitor goes offline: the channel switches to Email and the reply goes out by email",
    story.step("email reply", { needs: ["joined"] }, async (step) => {
      await rows("mine-list").filter({ hasText: "Nora" }).locator(".row-link").click();
      await expectSoon(operator.getByTestId("leave-button"), "Nora's conversation open", screens);
      await visitor.close(); // the visitor leaves the site
      await expectSoon(
        operator.locator('[data-testid="channel-email"][aria-checked="true"]'),
        "the channel switched to Email once the visitor left",
        screens,
      );
      await operatorSays(step, "Delivery to Bergen takes two days. Anything else?");
      const reply = operator.getByTestId("message").filter({ hasText: "Delivery to Bergen takes two days." });
      await expectSoon(reply.getByTestId("email-badge"), "the blue envelope on the reply", screens);
      await expectSoon(
        reply.getByTestId("delivery-state").filter({ hasText: /^Sent$/ }),
        "the reply's delivery state Sent",
        screens,
      );
      await operator.screenshot({ path: join(shots, "story-6-email-reply.png") });
    }),
  );

  it(
    "9. Leave Conversation; the visitor comes back and rates; the rating shows in Report > Operator",
    story.step("leave and rate", { needs: ["joined"], makes: ["left"] }, async () => {
      await operator.getByTestId("leave-button").click();
      if (visitor.isClosed()) visitor = await visitorCtx.newPage();
      await visitor.goto(app.base + "/demo/");
      await openWidget(visitor);
      await expectSoon(widget(visitor).locator("#survey"), "the survey in the widget after Leave", screens);
      await visitor.screenshot({ path: join(shots, "story-7-survey.png") });
      await widget(visitor).locator('.stars button[data-rating="4"]').click();
      await widget(visitor).locator("#survey-submit").click();
      await expectSoon(
        operator.getByTestId("message").filter({ hasText: "Rated 4/5" }),
        "the rating in the panel",
        screens,
      );

      await operator.getByTestId("nav-reports").click();
      const row = operator.getByTestId("operator-report-row").filter({ hasText: "Olivia Operator" });
      await expectSoon(row, "Olivia's row in Report > Operator", screens);
      assert.match(await row.innerText(), /4/, "Olivia's report row shows the rating 4");
      await operator.screenshot({ path: join(shots, "story-7-reports.png") });
    }),
  );

  it(
    "10. a new visitor message puts the conversation back in Unassigned; then it is deleted",
    story.step("requeue and delete", { needs: ["left"] }, async (step) => {
      await visitorSays(step, "One more thing: do you gift-wrap?");
      await operator.getByTestId("nav-conversations").click();
      const row = rows("unassigned-list").filter({ hasText: "gift-wrap" });
      await expectSoon(row, "the conversation back in Unassigned", screens);
      await row.locator(".row-link").click();
      await expectSoon(
        operator.getByTestId("message").filter({ hasText: "gift-wrap" }),
        "the requeued conversation's messages loaded",
        screens,
      );
      await operator.screenshot({ path: join(shots, "story-8-before-delete.png") });
      // Once deleted, the panel asks nothing more of the conversation (its visitor info would answer 404).
      const refused: string[] = [];
      const watch = (r: PwResponse) =>
        r.url().includes("/api/conversations/") && r.status() >= 400 && refused.push(`${r.status()} ${r.url()}`);
      operator.on("response", watch);
      await operator.getByTestId("delete-conversation").click();
      await operator.getByTestId("confirm-delete").click();
      await expectSoon(row, "the row gone after delete", screens, { state: "detached" });
      // The visitor starts afresh: an empty chat, none of the old messages.
      await visitor.reload();
      await openWidget(visitor);
      await expectSoon(widget(visitor).locator("#empty"), "the widget's empty state after the deletion", screens);
      assert.equal(
        await widget(visitor).locator(".m").count(),
        0,
        `the widget still shows: ${await textOf(widget(visitor).locator("#log"))}`,
      );
      await visitor.screenshot({ path: join(shots, "story-8-after-delete.png") });
      operator.off("response", watch);
      assert.deepEqual(refused, [], "the panel's requests about the deleted conversation that were refused");
    }),
  );
});
