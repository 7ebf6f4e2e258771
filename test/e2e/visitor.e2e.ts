/**
 * The widget loader records page views on every page load (even with the
 * chat closed), and when nobody is online the widget says so and asks for an
 * email address. Real browser, real app.
 */
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import type { ConversationSummary, VisitorInfo } from "../../worker/protocol/index.ts";
import { startApp, type AppServer } from "./app-server.ts";
import { launch } from "./browser.ts";
import { until } from "./waits.ts";

const shots = join(import.meta.dirname, "../../test-results/screenshots");
let app: AppServer;
let browser: Browser;
let visitor: Page;

/**
 * What the panel's visitor info says about the Unassigned conversation of the visitor who left `email`, read as the
 * operator signed in on `operator`: a function, to be read again while waiting for a page view.
 */
async function visitorInfoOf(operator: Page, email: string): Promise<() => Promise<VisitorInfo>> {
  const list = (await (await operator.request.get(app.base + "/api/conversations?view=unassigned")).json()) as {
    conversations: ConversationSummary[];
  };
  const conv = list.conversations.find((c) => c.visitor.email === email);
  assert.ok(conv, `the conversation of ${email} is in Unassigned`);
  return async () => {
    const res = await operator.request.get(`${app.base}/api/conversations/${conv.id}/visitor`);
    return ((await res.json()) as { visitor: VisitorInfo }).visitor;
  };
}

describe("visitor pages and availability", () => {
  before(async () => {
    app = await startApp();
    browser = await launch();
    visitor = await (await browser.newContext({ viewport: { width: 1100, height: 800 } })).newPage();
  });
  after(async () => {
    await browser?.close();
    await app?.stop();
  });

  it("with nobody online the widget says so and asks for an email address", async () => {
    await visitor.goto(app.base + "/demo/");
    await visitor.locator("[data-microchat]").locator('button[aria-label="Open chat"]').click();
    const frame = visitor.frameLocator('iframe[title="Chat"]');
    // One message: the header says it, and one prompt asks for the email.
    await frame.locator("#sub", { hasText: "No one is online right now" }).waitFor();
    await frame.locator("#profile", { hasText: "Leave your email and we'll reply there." }).waitFor();
    // What a sighted visitor reads (innerText, less the labels kept for screen readers).
    const shown = await frame
      .locator("main")
      .evaluate((main) => (main as HTMLElement).innerText.replace(/^(Name|Email|Message)$/gm, ""));
    assert.equal(shown.match(/email/gi)?.length, 1, `one mention of email in the widget, saw:\n${shown}`);
    assert.doesNotMatch(shown, /usually reply|here to help/i, `nothing promises a quick answer, saw:\n${shown}`);
    assert.equal(await frame.locator("#away").isVisible(), false, "no second notice above the log");
    await visitor.screenshot({ path: join(shots, "widget-nobody-online.png") });
    await frame.locator("#pemail").fill("nora@example.org");
    await frame.locator("#profile button[type=submit]").click();
    await frame.locator("#away", { hasText: "We'll reply to nora@example.org by email." }).waitFor();
    await frame.locator("#profile").waitFor({ state: "hidden" });
    assert.equal(await frame.locator("#sub").innerText(), "No one is online right now");
    await frame.locator("#input").fill("Do you ship to Norway?");
    await frame.locator("#input").press("Enter");
    await frame.locator(".m.visitor:not(.pending)").waitFor();
  });

  it("page views are recorded by the loader on every page, newest first, with time on page", async () => {
    // Close the chat, then browse: views are still recorded.
    await visitor.locator("[data-microchat]").locator('button[aria-label="Minimise chat"]').click();
    await visitor.goto(app.base + "/demo/pricing.html");
    await visitor.goto(app.base + "/demo/");

    const operator = await (await browser.newContext()).newPage();
    const setup = await operator.request.post(app.base + "/api/setup", {
      data: { name: "Olivia", email: "olivia@example.com", password: "a long enough password" },
    });
    assert.equal(setup.status(), 201);
    // Page views arrive by beacon (batched, and on leaving a page): wait for the three of this visit.
    const info = await until(
      await visitorInfoOf(operator, "nora@example.org"),
      (v) => v.pages.count >= 3 && v.pages.items[1]?.ms !== null,
      "three page views, the pricing page's with its time on page",
    );
    assert.ok(info.pages.count >= 3, `3 page views, got ${info.pages.count}`);
    assert.deepEqual(
      // Static assets serve pricing.html at its pretty URL.
      info.pages.items.slice(0, 3).map((p) => new URL(p.url).pathname.replace(/\.html$/, "")),
      ["/demo/", "/demo/pricing", "/demo/"],
    );
    assert.match(info.pages.items[1]!.title, /Pricing/);
    assert.ok((info.pages.items[1]!.ms ?? -1) >= 0, "time on the pricing page is known once it was left");
    assert.equal(info.browser?.name, "Chrome");
    assert.equal(info.ip, "127.0.0.1");
  });

  it("a page left with a beacon the browser never sent still gets its time on page, from the next page's queue", async () => {
    // The same visitor (same storage) in a second tab whose browser takes every beacon and sends none.
    const tab = await visitor.context().newPage();
    try {
      await tab.addInitScript(() => {
        Navigator.prototype.sendBeacon = () => true;
      });
      // The pricing page's view is sent when the browser is idle; by then embed.js listens for the page being left.
      const sent = tab.waitForResponse((r) => r.url().endsWith("/api/visitor/pageviews") && r.status() === 200);
      await tab.goto(app.base + "/demo/pricing.html");
      await sent;
      const operator = await (await browser.newContext()).newPage();
      const login = await operator.request.post(app.base + "/api/auth/login", {
        data: { email: "olivia@example.com", password: "a long enough password" },
      });
      assert.equal(login.status(), 200, `login: ${await login.text()}`);
      const info = await visitorInfoOf(operator, "nora@example.org");
      const pages = async () => (await info()).pages.items;
      const shown = (await pages())[0];
      assert.match(
        shown?.url ?? "",
        /\/demo\/pricing/,
        `the pricing page is the newest view, saw ${JSON.stringify(shown)}`,
      );
      assert.equal(shown!.ms, null, "its time on page is not known while it is shown");

      // Leaving it: the beacon carrying its time on page goes nowhere; the next page sends it again.
      await tab.goto(app.base + "/demo/");
      const items = await until(
        pages,
        (views) => views.some((v) => v.at === shown!.at && v.url === shown!.url && v.ms !== null),
        "the pricing page's time on page, sent again by the next page",
      );
      assert.ok(items.some((v) => v.at === shown!.at && (v.ms ?? -1) >= 0));
    } finally {
      await tab.close();
    }
  });

  it("the JavaScript API opens and closes the chat, reports events, and verifies a logged-in user", async () => {
    await visitor.evaluate(() => {
      const w = window as unknown as {
        Microchat: { on(e: string, fn: (d?: unknown) => void): void };
        __events: string[];
      };
      w.__events = [];
      for (const e of ["open", "close", "message"]) w.Microchat.on(e, () => w.__events.push(e));
    });
    await visitor.evaluate(() => (window as unknown as { Microchat: { open(): void } }).Microchat.open());
    await visitor.frameLocator('iframe[title="Chat"]').locator("#input").waitFor();
    await visitor.evaluate(() => (window as unknown as { Microchat: { close(): void } }).Microchat.close());
    await visitor.locator('iframe[title="Chat"]').waitFor({ state: "hidden" });
    assert.deepEqual(await visitor.evaluate(() => (window as unknown as { __events: string[] }).__events), [
      "open",
      "close",
    ]);

    // The site's server signs the user id with the workspace's identity secret.
    const secret = /^IDENTITY_SECRET=(.+)$/m
      .exec(readFileSync(join(import.meta.dirname, "../../.dev.vars"), "utf8"))![1]!
      .trim();
    const hash = createHmac("sha256", secret).update("customer-42").digest("hex");
    const verified = await visitor.evaluate(
      (h) =>
        (window as unknown as { Microchat: { setUser(u: object): Promise<boolean> } }).Microchat.setUser({
          id: "customer-42",
          name: "Nora Nordmann",
          hash: h,
        }),
      hash,
    );
    assert.equal(verified, true);
    const forged = await visitor.evaluate(() =>
      (window as unknown as { Microchat: { setUser(u: object): Promise<boolean> } }).Microchat.setUser({
        id: "customer-43",
        name: "Someone Else",
        hash: "0".repeat(64),
      }),
    );
    assert.equal(forged, false);
  });

  it("the open widget hears at once when an operator opens the panel, goes Away and comes back", async () => {
    await visitor.evaluate(() => (window as unknown as { Microchat: { open(): void } }).Microchat.open());
    const frame = visitor.frameLocator('iframe[title="Chat"]');
    const sub = frame.locator("#sub");
    await sub.filter({ hasText: "No one is online right now" }).waitFor();
    const operator = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    try {
      const login = await operator.request.post(app.base + "/api/auth/login", {
        data: { email: "olivia@example.com", password: "a long enough password" },
      });
      assert.equal(login.status(), 200, `login: ${await login.text()}`);
      await operator.goto(app.base + "/");
      await operator.getByTestId("unassigned-list").waitFor();
      // No reload, no new message: the widget's socket is told.
      await sub.filter({ hasText: "We usually reply in a few minutes" }).waitFor({ timeout: 15_000 });
      assert.equal(await frame.locator("#away").isVisible(), false, "no 'we'll reply by email' notice");
      await visitor.screenshot({ path: join(shots, "widget-someone-came-online.png") });

      const toggle = operator.getByTestId("presence-toggle");
      await toggle.click();
      await operator.locator('[data-testid="presence-toggle"][data-status="away"]').waitFor();
      await sub.filter({ hasText: "No one is online right now" }).waitFor({ timeout: 15_000 });
      await frame.locator("#away", { hasText: "We'll reply to nora@example.org by email." }).waitFor();
      await toggle.click();
      await operator.locator('[data-testid="presence-toggle"][data-status="online"]').waitFor();
      await sub.filter({ hasText: "We usually reply in a few minutes" }).waitFor({ timeout: 15_000 });
    } finally {
      await operator.context().close();
    }
  });
});
