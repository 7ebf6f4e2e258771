/**
 * Report > Operator, rating events and deleting, in a real browser: a visitor
 * writes, the operator joins, replies and leaves, the visitor rates the chat
 * 5 stars; the panel shows the rating in the conversation and on the Reports
 * page, whose CSV export carries the operator; then the operator deletes the
 * conversation through the confirmation dialog and the visitor's widget
 * starts over. Admins set data retention and erase a person's data from
 * Settings. Screenshots go to test-results/screenshots.
 */
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser, BrowserContext, FrameLocator, Page } from "playwright-core";
import { startApp, type AppServer } from "./app-server.ts";
import { launch } from "./browser.ts";

const shots = join(import.meta.dirname, "../../test-results/screenshots");
mkdirSync(shots, { recursive: true });

const OPERATOR = "Rosa Reports";
const FIRST_MESSAGE = "Hi, my parcel has not arrived";

let app: AppServer;
let browser: Browser;
let operatorCtx: BrowserContext;
let visitorCtx: BrowserContext;
let operator: Page;
let visitor: Page;
let operatorId = "";

function widget(page: Page): FrameLocator {
  return page.frameLocator('iframe[title="Chat"]');
}

async function openWidget(page: Page): Promise<void> {
  await page.locator("[data-microchat]").locator('button[aria-label="Open chat"]').click();
  await widget(page).locator("#input").waitFor();
}

async function visitorWrites(page: Page, text: string): Promise<void> {
  await widget(page).locator("#input").fill(text);
  await widget(page).locator("#input").press("Enter");
  await widget(page).locator(".m.visitor:not(.pending)", { hasText: text }).waitFor();
}

/** No sideways scrolling on the operator's page, nor inside the scrolling page pane. */
async function fitsWidth(page: Page): Promise<boolean> {
  return page.evaluate(() =>
    [document.documentElement, ...document.querySelectorAll<HTMLElement>(".page")].every(
      (el) => el.scrollWidth <= el.clientWidth + 1,
    ),
  );
}

describe("reports, ratings and deleting in the browser", () => {
  before(async () => {
    app = await startApp();
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

  it("the admin sets up the workspace", async () => {
    await operator.goto(app.base + "/");
    const form = operator.getByTestId("setup-form");
    await form.locator("input[name=name]").fill(OPERATOR);
    await form.locator("input[name=email]").fill("rosa@example.com");
    await form.locator("input[name=password]").fill("a long enough password");
    await form.locator("input[name=confirm]").fill("a long enough password");
    await form.getByRole("button", { name: /create/i }).click();
    await operator.getByTestId("unassigned-list").waitFor();
    const me = await operator.request.get(app.base + "/api/auth/me");
    operatorId = ((await me.json()) as { operator: { id: string } }).operator.id;
    assert.ok(operatorId);
  });

  it("after JOIN, a reply and Leave Conversation, the visitor's 5-star rating shows in the conversation", async () => {
    await visitor.goto(app.base + "/demo/");
    await openWidget(visitor);
    await visitorWrites(visitor, FIRST_MESSAGE);

    const row = operator
      .getByTestId("unassigned-list")
      .getByTestId("conversation-row")
      .filter({ hasText: FIRST_MESSAGE });
    await row.getByTestId("join-button").click({ timeout: 10_000 });
    await operator.getByTestId("leave-button").waitFor();
    await operator.getByTestId("composer").fill("Sorry about that, it is on its way.");
    await operator.getByTestId("composer").press("Enter");
    await widget(visitor).locator(".m.operator", { hasText: "it is on its way" }).waitFor();
    await operator.getByTestId("leave-button").click();
    await operator.getByTestId("join-button").waitFor();

    const frame = widget(visitor);
    await frame.locator("#survey").waitFor();
    await frame.locator('.stars button[data-rating="5"]').click();
    await frame.locator("#survey-comment").fill("Quick and kind");
    await frame.locator("#survey-submit").click();
    await frame.locator("#survey-thanks").waitFor();

    const rated = operator.locator('[data-testid="message"][data-event="rated"]');
    await rated.filter({ hasText: "Rated 5/5: Quick and kind" }).waitFor({ timeout: 10_000 });
    assert.equal((await rated.getByTestId("rating-stars").innerText()).trim(), "★★★★★");
    await operator.screenshot({ path: join(shots, "conversation-rated.png") });
  });

  it("Reports > Operator shows the operator with 1 rating averaging 5, charted per day", async () => {
    await operator.getByTestId("nav-reports").click();
    await operator.getByTestId("reports-page").waitFor();
    assert.equal(await operator.getByTestId("tab-operator").getAttribute("aria-selected"), "true");
    assert.equal(await operator.getByTestId("range-30").getAttribute("aria-checked"), "true");

    const row = operator.locator(`[data-testid="operator-report-row"][data-operator-id="${operatorId}"]`);
    await row.waitFor();
    assert.match(await row.innerText(), new RegExp(OPERATOR));
    assert.equal((await row.getByTestId("rating-count").innerText()).trim(), "1");
    assert.match(await row.getByTestId("average-rating").innerText(), /★★★★★\s*5\b/);
    assert.equal((await row.getByTestId("conversations-joined").innerText()).trim(), "1");
    assert.equal((await row.getByTestId("messages-sent").innerText()).trim(), "1");
    assert.match((await row.getByTestId("first-response").innerText()).trim(), /^\d+ (s|min)$/);

    const chart = operator.getByTestId("ratings-chart").locator('svg[role="img"]');
    assert.match((await chart.getAttribute("aria-label")) ?? "", /1 rating on 1 day, average 5 out of 5/);

    await operator.getByTestId("range-today").click();
    await operator.getByTestId("report-period").filter({ hasNotText: "–" }).waitFor();
    assert.equal((await row.getByTestId("rating-count").innerText()).trim(), "1");
    await operator.getByTestId("range-7").click();
    await operator.getByTestId("range-custom").click();
    await operator.getByTestId("range-from").waitFor();
    await operator.getByTestId("range-30").click();
    await operator.getByTestId("range-from").waitFor({ state: "detached" });
    await row.getByTestId("rating-count").filter({ hasText: "1" }).waitFor();

    // Let the refresh fade (a range change dims the old figures) finish before the picture.
    await operator.locator('.report[aria-busy="false"] .report-body:not(.refreshing)').waitFor();
    await operator.evaluate(() => Promise.all(document.getAnimations().map((a) => a.finished)));
    await operator.screenshot({ path: join(shots, "reports.png") });

    await operator.setViewportSize({ width: 800, height: 700 });
    // The chart redraws for the narrower box.
    await operator.waitForFunction(() => {
      const svg = document.querySelector('[data-testid="ratings-chart"] svg');
      return !!svg && svg.getBoundingClientRect().right <= window.innerWidth;
    });
    await operator.screenshot({ path: join(shots, "reports-800.png"), fullPage: true });
    assert.equal(await fitsWidth(operator), true, "no horizontal scrolling at 800px");
    // On a phone the days along the axis are fewer, and none runs into the next.
    for (const width of [375, 800, 1280]) {
      await operator.setViewportSize({ width, height: 740 });
      // Wait until the chart is drawn for its box at this width, then read every label in the same task: a redraw
      // replaces the labels, and ones read across two round trips may already be detached (all zeros).
      const drawn = await operator.waitForFunction(() => {
        const box = document.querySelector<HTMLElement>('[data-testid="ratings-chart"] .chart-box');
        const svg = box?.querySelector("svg");
        if (!box || !svg) return null;
        if (Number(svg.getAttribute("width")) !== Math.max(240, Math.floor(box.getBoundingClientRect().width)))
          return null;
        if (svg.getBoundingClientRect().right > window.innerWidth) return null;
        return [...svg.querySelectorAll(".chart-label")].map((l) => {
          const r = l.getBoundingClientRect();
          return { text: l.textContent, left: r.left, right: r.right };
        });
      });
      const boxes = (await drawn.jsonValue())!;
      assert.ok(boxes.length >= 2, `at ${width}px the axis names at least its first and last day: ${boxes.length}`);
      for (let i = 1; i < boxes.length; i++) {
        const [a, b] = [boxes[i - 1]!, boxes[i]!];
        assert.ok(
          a.right + 4 <= b.left,
          `at ${width}px "${a.text}" (to ${a.right}) runs into "${b.text}" (from ${b.left})`,
        );
      }
    }
    await operator.screenshot({ path: join(shots, "reports-1280-after-phone.png") });
    await operator.setViewportSize({ width: 375, height: 740 });
    await operator.screenshot({ path: join(shots, "reports-375.png"), fullPage: true });
    await operator.setViewportSize({ width: 1280, height: 800 });
  });

  it("Export CSV downloads the report for the chosen range, naming the operator", async () => {
    const link = operator.getByTestId("export-csv");
    const href = await link.getAttribute("href");
    assert.ok(href, "the link has an href");
    assert.notEqual(await link.getAttribute("download"), null);
    const res = await operator.request.get(new URL(href, app.base).toString());
    assert.equal(res.status(), 200);
    assert.match(res.headers()["content-disposition"] ?? "", /attachment/);
    const csv = await res.text();
    assert.match(csv, /^"?operator"?,/);
    assert.match(csv, new RegExp(`"${OPERATOR}","5",`));
  });

  it("Delete asks first (Escape cancels), then removes the conversation; the visitor's widget starts fresh", async () => {
    await operator.getByTestId("nav-conversations").click();
    await operator.getByTestId("tab-all").click();
    // The only conversation so far; its preview is the rating, the last thing said.
    const allRow = operator.getByTestId("all-list").getByTestId("conversation-row").first();
    await allRow.locator(".row-link").click();
    await operator.getByTestId("message").filter({ hasText: FIRST_MESSAGE }).waitFor();

    const del = operator.getByTestId("delete-conversation");
    await del.click();
    const dialog = operator.getByRole("alertdialog", { name: "Delete this conversation?" });
    await dialog.waitFor();
    assert.equal(await dialog.getAttribute("aria-modal"), "true");
    assert.match(await dialog.innerText(), /messages and files/);
    // Focus starts on Cancel, stays inside with Tab, and Escape cancels and returns it.
    assert.equal(await operator.evaluate(() => document.activeElement?.getAttribute("data-testid")), "cancel-dialog");
    await operator.keyboard.press("Tab");
    await operator.keyboard.press("Tab");
    assert.equal(await operator.evaluate(() => document.activeElement?.getAttribute("data-testid")), "cancel-dialog");
    await operator.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });
    assert.equal(
      await operator.evaluate(() => document.activeElement?.getAttribute("data-testid")),
      "delete-conversation",
    );

    await del.click();
    await dialog.waitFor();
    await operator.screenshot({ path: join(shots, "delete-dialog.png") });
    await operator.getByTestId("confirm-delete").click();
    await operator.getByTestId("toast").filter({ hasText: "Conversation deleted" }).waitFor();
    await dialog.waitFor({ state: "detached" });
    await operator.getByTestId("conversation-header").waitFor({ state: "detached" });
    assert.equal(new URL(operator.url()).pathname, "/conversations");
    await allRow.waitFor({ state: "detached" });
    assert.equal(await operator.getByTestId("conversation-row").count(), 0);

    await visitor.reload();
    // The widget reopens by itself because it was open before the reload.
    await widget(visitor).locator("#input").waitFor();
    await visitorWrites(visitor, "Starting over");
    assert.equal(await widget(visitor).locator(".m", { hasText: FIRST_MESSAGE }).count(), 0);
    assert.equal(await widget(visitor).locator(".m", { hasText: "it is on its way" }).count(), 0);
    const fresh = operator.getByTestId("unassigned-list").getByTestId("conversation-row");
    await fresh.filter({ hasText: "Starting over" }).waitFor({ timeout: 10_000 });
    await fresh.first().locator(".row-link").click();
    await operator.getByTestId("message").filter({ hasText: "Starting over" }).waitFor();
    assert.equal(await operator.getByTestId("message").filter({ hasText: FIRST_MESSAGE }).count(), 0);
  });

  it("a conversation deleted by someone else closes with the same notice", async () => {
    const path = new URL(operator.url()).pathname;
    const id = decodeURIComponent(path.split("/").pop()!);
    const res = await operator.request.delete(`${app.base}/api/conversations/${encodeURIComponent(id)}`);
    assert.equal(res.status(), 204);
    await operator.getByTestId("toast").filter({ hasText: "Conversation deleted" }).waitFor();
    await operator.getByTestId("conversation-header").waitFor({ state: "detached" });
    assert.equal(new URL(operator.url()).pathname, "/conversations");
  });

  it("Settings: an admin keeps conversations for 90 days and erases a person's data by email", async () => {
    const other = await visitorCtx.newPage();
    await visitorCtx.clearCookies();
    await other.goto(app.base + "/demo/pricing.html");
    await other.evaluate(() => localStorage.clear());
    await other.reload();
    await openWidget(other);
    await visitorWrites(other, "Please forget me afterwards");
    await widget(other).locator("#profile").waitFor();
    await widget(other).locator("#pname").fill("Erin Erase");
    await widget(other).locator("#pemail").fill("erin@example.com");
    await widget(other).locator("#profile button[type=submit]").click();
    await operator
      .getByTestId("unassigned-list")
      .getByTestId("conversation-row")
      .filter({ hasText: "Erin Erase" })
      .waitFor({ timeout: 10_000 });

    await operator.getByTestId("nav-settings").click();
    const retention = operator.getByTestId("retention-form");
    await retention.getByTestId("retention-days").fill("90");
    await retention.getByTestId("retention-save").click();
    await retention.getByText("Saved. Conversations with no activity for 90 days are deleted for good.").waitFor();
    const settings = await operator.request.get(app.base + "/api/settings");
    assert.equal(((await settings.json()) as { retentionDays: number }).retentionDays, 90);

    const erasure = operator.getByTestId("erasure-form");
    await erasure.getByTestId("erasure-target").fill("erin@example.com");
    await erasure.getByTestId("erasure-submit").click();
    const dialog = operator.getByRole("alertdialog", { name: "Erase all data of this person?" });
    await dialog.waitFor();
    await operator.getByTestId("confirm-erasure").click();
    await dialog.waitFor({ state: "detached" });
    assert.match(
      await erasure.getByTestId("erasure-result").innerText(),
      /Deleted 1 conversation of erin@example\.com/,
    );
    await operator.screenshot({ path: join(shots, "settings-privacy.png"), fullPage: true });

    await erasure.getByTestId("erasure-target").fill("not an address@");
    await erasure.getByTestId("erasure-submit").click();
    await operator.getByTestId("confirm-erasure").click();
    await dialog
      .getByRole("alert")
      .filter({ hasText: /email address/i })
      .waitFor();
    await operator.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });

    await operator.getByTestId("nav-conversations").click();
    await operator.getByTestId("unassigned-list").waitFor();
    assert.equal(await operator.getByTestId("conversation-row").filter({ hasText: "Erin Erase" }).count(), 0);
    await other.close();
  });
});
