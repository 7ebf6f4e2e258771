/**
 * The operator panel keeps up with what happens, in a real browser: a visitor
 * on the demo page writes from the widget, the operator joins and answers.
 * - an email reply shows its stored subject ("Re: …") without a reload;
 * Screenshots go to test-results/screenshots.
 */
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser, FrameLocator, Locator, Page } from "playwright-core";
import { startApp, type AppServer } from "./app-server.ts";
import { launch } from "./browser.ts";

const shots = join(import.meta.dirname, "../../test-results/screenshots");
mkdirSync(shots, { recursive: true });

let app: AppServer;
let browser: Browser;
let operator: Page;
let visitor: Page;

const widget = (page: Page): FrameLocator => page.frameLocator('iframe[title="Chat"]');

async function visitorSays(text: string): Promise<void> {
  await widget(visitor).locator("#input").fill(text);
  await widget(visitor).locator("#input").press("Enter");
  await widget(visitor).locator(".m.visitor:not(.pending)", { hasText: text }).waitFor();
}

/** Waits until `locator`'s text matches; a failure says what the text was instead. */
async function textBecomes(locator: Locator, expected: RegExp, what: string, timeout = 10_000): Promise<string> {
  try {
    await locator.filter({ hasText: expected }).first().waitFor({ timeout });
  } catch {
    const seen = (await locator.allInnerTexts()).map((t) => JSON.stringify(t.trim())).join(", ");
    assert.fail(`${what}: expected ${expected}, saw ${seen || "nothing"}`);
  }
  return (await locator.filter({ hasText: expected }).first().innerText()).trim();
}

describe("the panel keeps up", () => {
  before(async () => {
    app = await startApp();
    browser = await launch();
    const operatorCtx = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    operator = await operatorCtx.newPage();
    visitor = await (await browser.newContext({ viewport: { width: 1100, height: 860 } })).newPage();
    for (const page of [operator, visitor]) page.on("pageerror", (err) => console.error("page error:", err.message));
  });
  after(async () => {
    await browser?.close();
    await app?.stop();
  });

  it("the admin signs up and opens the conversations", async () => {
    const setup = await operator.request.post(app.base + "/api/setup", {
      data: { name: "Olivia Operator", email: "olivia@example.com", password: "a long enough password" },
    });
    assert.equal(setup.status(), 201);
    await operator.goto(app.base + "/conversations");
    await operator.getByTestId("unassigned-list").waitFor();
  });

  it("a visitor writes, then gives a name and an email address", async () => {
    await visitor.goto(app.base + "/demo/");
    await visitor.locator("[data-microchat]").locator('button[aria-label="Open chat"]').click();
    await visitorSays("Hello! Could you send me the invoice for order 88?");
    await widget(visitor).locator("#pname").fill("Nora");
    await widget(visitor).locator("#pemail").fill("nora@example.org");
    await widget(visitor).locator("#profile button[type=submit]").click();
    const row = operator.getByTestId("unassigned-list").getByTestId("conversation-row").filter({ hasText: "Nora" });
    await row.waitFor({ timeout: 10_000 });
    await row.getByTestId("join-button").click();
    await operator.getByTestId("leave-button").waitFor();
  });

  it("an email reply to a chat visitor shows its stored subject without a reload", async () => {
    await operator.getByTestId("channel-email").click();
    await operator.getByTestId("composer").fill("Here is your invoice by email.");
    await operator.getByTestId("composer").press("Enter");
    const reply = operator.locator('[data-testid="message"][data-status="sent"]', {
      hasText: "Here is your invoice by email.",
    });
    await reply
      .getByTestId("delivery-state")
      .filter({ hasText: /^Sent$/ })
      .waitFor({ timeout: 15_000 });
    await textBecomes(
      reply.getByTestId("email-subject"),
      /^Re: Your conversation with Microchat Demo$/,
      "the reply's subject",
    );
  });
});
