/**
 * The admin's security controls in a real browser:
 * - Settings > Audit log: empty on a new workspace, an error with Try again
 *   when it cannot load, then who did what; Settings > Deleting conversations;
 * - Integrations: a token created with a scope and an expiry, listed with
 *   them and its last use; a read token can read and cannot change anything;
 * - the conversation's Delete button only for those the workspace allows;
 * - sign out everywhere: an operator from the rail (keyboard too), an admin
 *   for another operator from the Operators page; their other browsers end
 *   on the sign-in screen.
 * Every screen here passes axe. Screenshots go to test-results/screenshots.
 */
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { startApp, type AppServer } from "./app-server.ts";
import { axe, describeViolations } from "./axe.ts";
import { launch } from "./browser.ts";
import { hasFocus, tabTo, waitForFocus, withoutRing } from "./keyboard.ts";
import { until } from "./waits.ts";

const shots = join(import.meta.dirname, "../../test-results/screenshots");
mkdirSync(shots, { recursive: true });

const ADMIN = { name: "Ada Admin", email: "ada@example.com", password: "a long enough password" };
const BOB = { name: "Bob Operator", email: "bob@example.com", password: "bob's long password", admin: false };
const CAROL = { name: "Carol Operator", email: "carol@example.com", password: "carol's long password", admin: false };

let app: AppServer;
let browser: Browser;
let admin: Page;

async function page(width = 1280): Promise<Page> {
  const p = await (await browser.newContext({ viewport: { width, height: 800 } })).newPage();
  p.on("pageerror", (err) => console.error("page error:", err.message));
  return p;
}

/** A browser signed in as `who` (through the sign-in form), on the conversations. */
async function signedIn(who: { email: string; password: string }, width = 1280): Promise<Page> {
  const p = await page(width);
  await p.goto(app.base + "/conversations");
  const form = p.getByTestId("login-form");
  await form.locator("input[name=email]").fill(who.email);
  await form.locator("input[name=password]").fill(who.password);
  await form.locator("button[type=submit]").click();
  await p.getByTestId("nav-conversations").waitFor();
  return p;
}

async function assertAxe(p: Page, screen: string): Promise<void> {
  const report = await axe(p, screen);
  assert.equal(report.violations.length, 0, `${screen}:\n${describeViolations(report.violations)}`);
}

/** A new visitor writes `text` in the demo page's widget; returns the conversation's id once the index has it. */
async function visitorConversation(text: string): Promise<string> {
  const visitor = await page(1100);
  await visitor.goto(app.base + "/demo/");
  await visitor.locator("[data-microchat]").locator('button[aria-label="Open chat"]').click();
  const chat = visitor.frameLocator('iframe[title="Chat"]');
  await chat.locator("#input").fill(text);
  await chat.locator("#input").press("Enter");
  await chat.locator(".m.visitor:not(.pending)", { hasText: text }).waitFor();
  const found = await until(
    async () => {
      const res = await admin.request.get(app.base + "/api/conversations?view=all&limit=200");
      const list = (await res.json()) as { conversations: { id: string; preview: string }[] };
      return list.conversations.find((c) => c.preview === text)?.id ?? null;
    },
    (id) => id !== null,
    `the conversation with "${text}" in the index`,
  );
  await visitor.context().close();
  return found!;
}

describe("admin security controls", () => {
  before(async () => {
    app = await startApp();
    browser = await launch();
    admin = await page();
    const setup = await admin.request.post(app.base + "/api/setup", { data: ADMIN });
    assert.equal(setup.status(), 201, await setup.text());
  });
  after(async () => {
    await browser?.close();
    await app?.stop();
  });

  it("Settings: the audit log is empty on a new workspace, says when it cannot load, and retries", async () => {
    await admin.goto(app.base + "/settings");
    const log = admin.getByTestId("audit-log");
    await log.getByTestId("audit-empty").waitFor();
    assert.match(await log.innerText(), /Nothing recorded yet/);

    await admin.route("**/api/audit*", (route) =>
      route.fulfill({
        status: 500,
        contentType: "application/json",
        body: '{"error":{"code":"internal","message":"Something went wrong"}}',
      }),
    );
    await admin.reload();
    const alert = log.getByRole("alert");
    await alert.waitFor();
    assert.match(await alert.innerText(), /Something went wrong/);
    await admin.unroute("**/api/audit*");
    await alert.getByRole("button", { name: "Try again" }).click();
    await log.getByTestId("audit-empty").waitFor();
  });

  it("Settings: admins only may delete; the change is in the audit log with who made it", async () => {
    const form = admin.getByTestId("delete-policy-form");
    assert.equal(await form.getByTestId("delete-by-admins_and_joined").isChecked(), true, "the default");
    await form.getByTestId("delete-by-admins").check();
    await form.getByTestId("delete-policy-save").click();
    await form.getByRole("status").filter({ hasText: "Admins only can delete conversations" }).waitFor();
    const log = admin.getByTestId("audit-log");
    await log.getByTestId("audit-refresh").click();
    const row = log.locator('[data-testid="audit-row"][data-action="settings.changed"]');
    await row.waitFor();
    assert.match(await row.innerText(), /Ada Admin[\s\S]*Changed settings[\s\S]*deleteBy: admins/);
    // Back to the default for the rest of the story.
    await form.getByTestId("delete-by-admins_and_joined").check();
    await form.getByTestId("delete-policy-save").click();
    await form.getByRole("status").filter({ hasText: "Admins, and operators in the conversation" }).waitFor();
  });

  it("Integrations: a read token with an expiry is listed with both; it reads, it cannot change anything", async () => {
    await admin.getByTestId("nav-integrations").click();
    const card = admin.getByTestId("tokens-card");
    await card.waitFor();
    assert.equal(await card.getByTestId("token-scope").inputValue(), "read", "the least scope first");
    assert.match(await card.getByTestId("token-scope-hint").innerText(), /Read only/);
    await card.getByTestId("token-name").fill("Nightly export");
    await card.getByTestId("token-expiry").selectOption("30");
    await card.getByTestId("create-token").click();
    const token = await card.getByTestId("new-token").inputValue();
    const row = card.getByTestId("token-row").filter({ hasText: "Nightly export" });
    await row.waitFor();
    assert.equal(await row.getByTestId("token-scope-cell").innerText(), "Read");
    const expires = await row.getByTestId("token-expires").locator("time").getAttribute("datetime");
    const days = (Date.parse(expires!) - Date.now()) / 86_400_000;
    assert.ok(days > 29.9 && days <= 30, `expires in ${days} days`);
    assert.match(await row.innerText(), /Never/, "last used: never");

    const auth = { Authorization: `Bearer ${token}` };
    assert.equal((await fetch(`${app.base}/api/v1/conversations`, { headers: auth })).status, 200);
    const id = await visitorConversation("Hello from a token test");
    const joining = await fetch(`${app.base}/api/v1/conversations/${id}/join`, { method: "POST", headers: auth });
    assert.equal(joining.status, 403, await joining.text());

    await card.getByTestId("token-scope").selectOption("write");
    assert.match(await card.getByTestId("token-scope-hint").innerText(), /without admin rights/);
    await card.getByTestId("token-name").fill("CRM sync");
    await card.getByTestId("token-expiry").selectOption("never");
    await card.getByTestId("create-token").click();
    await card.getByTestId("new-token-box").getByRole("button", { name: "Done" }).click();
    const crm = card.getByTestId("token-row").filter({ hasText: "CRM sync" });
    await crm.waitFor();
    assert.equal(await crm.getByTestId("token-scope-cell").innerText(), "Write");
    assert.equal(await crm.getByTestId("token-expires").innerText(), "Never");

    await admin.reload();
    await row.waitFor();
    assert.equal(await row.locator("td").nth(4).locator("time").count(), 1, "last used is shown after a use");
    await admin.setViewportSize({ width: 1280, height: 1100 });
    await admin.screenshot({ path: join(shots, "integrations-token-scopes.png") });
    await admin.setViewportSize({ width: 1280, height: 800 });
    await assertAxe(admin, "integrations with scoped tokens");
  });

  it("an operator not in a conversation gets no Delete button; in it, they do; and the deletion is audited", async () => {
    for (const op of [BOB, CAROL]) {
      const res = await admin.request.post(app.base + "/api/operators", { data: op });
      assert.equal(res.status(), 201, await res.text());
    }
    const bob = await signedIn(BOB);
    const id = await visitorConversation("Please delete my order");
    await bob.goto(`${app.base}/conversations/${id}`);
    const header = bob.getByTestId("conversation-header");
    await header.getByTestId("join-button").waitFor();
    assert.equal(await header.getByTestId("delete-conversation").count(), 0, "Delete offered before joining");
    await header.getByTestId("join-button").click();
    await bob.getByTestId("delete-conversation").click();
    await bob.getByTestId("confirm-delete").click();
    await bob.getByTestId("conversation-header").waitFor({ state: "detached" });

    await admin.goto(app.base + "/settings");
    const row = admin.getByTestId("audit-log").locator('[data-testid="audit-row"][data-action="conversation.deleted"]');
    await row.waitFor();
    assert.match(await row.innerText(), new RegExp(`Bob Operator[\\s\\S]*Deleted a conversation[\\s\\S]*${id}`));
    // The page scrolls inside its pane: a tall window shows all of it.
    await admin.setViewportSize({ width: 1280, height: 2000 });
    await admin.screenshot({ path: join(shots, "settings-audit-log.png") });
    await admin.setViewportSize({ width: 1280, height: 800 });
    await assertAxe(admin, "settings with the audit log");
    await bob.context().close();
  });

  it("an operator signs out everywhere from the rail with the keyboard; their other browser ends at sign-in", async () => {
    const bobLaptop = await signedIn(BOB);
    const bobPhone = await signedIn(BOB, 390);
    const stops = await tabTo(bobLaptop, "[data-testid=rail-account]");
    assert.equal(withoutRing(stops), "", "every stop on the way shows its focus");
    await bobLaptop.keyboard.press("Enter");
    const dialog = bobLaptop.getByTestId("sign-out-everywhere-dialog");
    await dialog.waitFor();
    await waitForFocus(bobLaptop, "[data-testid=cancel-dialog]");
    await assertAxe(bobLaptop, "sign out everywhere dialog");
    await bobLaptop.screenshot({ path: join(shots, "sign-out-everywhere.png") });
    await bobLaptop.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });
    assert.ok(await hasFocus(bobLaptop, "[data-testid=rail-account]"), "focus returns to the account button");

    await bobLaptop.keyboard.press("Enter");
    await dialog.getByTestId("confirm-sign-out-everywhere").click();
    await bobLaptop.getByTestId("login-form").waitFor();
    assert.match(await bobLaptop.locator("main").innerText(), /signed out on every device/);
    // The phone's session ended too: its panel socket is closed and it lands on the sign-in screen.
    await bobPhone.getByTestId("login-form").waitFor({ timeout: 30_000 });
    await bobPhone.screenshot({ path: join(shots, "signed-out-elsewhere-phone.png") });
    await bobLaptop.context().close();
    await bobPhone.context().close();
  });

  it("an admin signs another operator out everywhere from the Operators page", async () => {
    const carol = await signedIn(CAROL);
    await admin.getByTestId("nav-operators").click();
    const row = admin.getByTestId("operator-row").filter({ hasText: CAROL.name });
    await row.getByTestId("sign-out-operator").click();
    const dialog = admin.getByTestId("sign-out-operator-dialog");
    await dialog.waitFor();
    assert.match(await dialog.innerText(), /Every session of Carol Operator ends/);
    await assertAxe(admin, "sign an operator out dialog");
    await dialog.getByTestId("confirm-sign-out-operator").click();
    await dialog.waitFor({ state: "detached" });
    await admin
      .getByRole("status")
      .filter({ hasText: "Carol Operator is signed out everywhere (1 session ended)." })
      .waitFor();
    await admin.screenshot({ path: join(shots, "operators-signed-out.png") });
    await carol.getByTestId("login-form").waitFor({ timeout: 30_000 });
    await assertAxe(admin, "operators after a sign-out");
    // On a phone the row's actions wrap under the name, and nothing scrolls sideways.
    await admin.setViewportSize({ width: 390, height: 844 });
    await assertAxe(admin, "operators (phone)");
    const sideways = await admin.evaluate(() =>
      [document.documentElement, ...document.querySelectorAll<HTMLElement>(".page")].some(
        (el) => el.scrollWidth > el.clientWidth + 1,
      ),
    );
    assert.equal(sideways, false, "the Operators page scrolls sideways on a phone");
    await admin.screenshot({ path: join(shots, "operators-phone.png") });
    await admin.setViewportSize({ width: 1280, height: 800 });
  });
});
