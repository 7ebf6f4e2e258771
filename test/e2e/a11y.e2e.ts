/**
 * Accessibility (WCAG 2.2 AA) in a real browser, with its own data on its own
 * server:
 * - axe-core with its default rules on every screen of the panel (setup,
 *   login, conversations empty / with lists / open with chat and email
 *   messages / visitor info / delete dialog, operators, reports, settings,
 *   integrations) at a desktop and a phone width, and of the widget (the host
 *   page with the launcher, and inside the chat's iframe: empty, nobody
 *   online with the email form, with messages, uploads, the survey card).
 *   The bar is no critical and no serious violation; the moderate
 *   and minor ones (landmark-one-main and page-has-heading-one among them)
 *   are fixed too, so the bar here is no violation at all. The result per
 *   screen is printed at the end and written to test-results/a11y.json,
 *   with what axe could not decide by itself ("incomplete"), for a person.
 * - the article's story with the keyboard alone: setup → Away and back →
 *   Mine / All with the arrows → the Unassigned row's JOIN → composer → Enter
 *   sends → Leave Conversation; the delete dialog keeps focus inside and
 *   Escape closes it; on a customer's site (another origin) the widget's
 *   launcher → composer → Enter sends → minimise → reopen, and the survey
 *   with the arrows. Focus goes where the next step is, in a logical order
 *   (asserted on document.activeElement), with a focus ring of 3:1.
 */
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import type { Browser, BrowserContext, Frame, Page, Route } from "playwright-core";
import { freePort, startApp, type AppServer } from "./app-server.ts";
import { axe, describeViolations, reports, summary, widgetFrame } from "./axe.ts";
import { launch } from "./browser.ts";
import { focused, hasFocus, tabTo, waitForFocus, withoutRing, type Stop } from "./keyboard.ts";

const results = join(import.meta.dirname, "../../test-results");
const shots = join(results, "screenshots");
mkdirSync(shots, { recursive: true });
const fixtures = join(import.meta.dirname, "fixtures");

const PASSWORD = "a long enough password";
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

let app: AppServer;
let browser: Browser;
/** The operator at a desktop width, and the same operator on a phone. */
let desk: Page;
let phone: Page;
/** A visitor on a laptop and another on a phone. */
let laptopVisitor: Page;
let phoneVisitor: Page;
/** A visitor on another site, with the keyboard alone. */
let shop: Page;

/** Screens checked in the current step that have violations, described. */
let failures: string[] = [];

async function check(target: Page | Frame, screen: string): Promise<void> {
  const report = await axe(target, screen);
  if (report.violations.length) failures.push(`${screen}:\n${describeViolations(report.violations)}`);
}

/** Each step checks all its screens, then fails once, listing every screen that failed. */
function assertNoViolations(): void {
  const found = failures;
  failures = [];
  assert.equal(found.length, 0, `axe violations:\n${found.join("\n\n")}`);
}

/** The operator's two pages, named by width. */
const bothWidths = () =>
  [
    [desk, "desktop"],
    [phone, "phone"],
  ] as const;

/** A page in a context of its own; `askNotifications` leaves the permission undecided (the panel offers it). */
async function newPage(
  viewport: { width: number; height: number },
  opts: { askNotifications?: boolean } = {},
): Promise<Page> {
  const ctx: BrowserContext = await browser.newContext({ viewport });
  ctx.setDefaultTimeout(15_000);
  if (!opts.askNotifications) await ctx.grantPermissions(["notifications"], { origin: app.base });
  const page = await ctx.newPage();
  page.on("pageerror", (err) => console.error("page error:", err.message));
  return page;
}

async function signIn(page: Page): Promise<void> {
  const res = await page.request.post(app.base + "/api/auth/login", {
    data: { email: "olivia@example.com", password: PASSWORD },
  });
  assert.equal(res.status(), 200, `login: ${await res.text()}`);
}

/**
 * Five wrong passwords through the form: the fifth pauses signing in, the
 * alert says so in words and the button counts down, disabled.
 */
async function pauseSignIn(page: Page, email: string): Promise<void> {
  const form = page.getByTestId("login-form");
  await form.locator("input[name=email]").fill(email);
  await form.locator("input[name=password]").fill("not the password");
  for (let i = 1; i <= 5; i++) {
    const answer = page.waitForResponse((r) => r.url().endsWith("/api/auth/login"));
    await form.getByTestId("login-submit").click();
    const res = await answer;
    assert.equal(res.status(), i < 5 ? 401 : 429, `try ${i}: ${await res.text()}`);
  }
  const alert = form.getByRole("alert");
  await alert.filter({ hasText: "Too many failed sign-ins" }).waitFor();
  assert.match(
    (await alert.textContent()) ?? "",
    /^Email or password is wrong\. Too many failed sign-ins .* Try again in 30 seconds\.$/,
  );
  const button = form.getByTestId("login-submit");
  await form.locator("[data-testid=login-submit][disabled]", { hasText: /^Try again in 0:[0-3]\d$/ }).waitFor();
  assert.ok(await button.isDisabled(), "the sign-in button is disabled while paused");
}

async function openWidget(page: Page): Promise<Frame> {
  await page.locator("[data-microchat]").locator('button[aria-label="Open chat"]').click();
  const frame = await widgetFrame(page);
  await frame.locator("#input").waitFor();
  return frame;
}

async function visitorSays(frame: Frame, text: string): Promise<void> {
  await frame.locator("#input").fill(text);
  await frame.locator("#input").press("Enter");
  await frame.locator(".m.visitor:not(.pending)", { hasText: text }).waitFor();
}

/**
 * Holds the page's uploads (POSTs to `glob`) until the returned function is
 * called, so the in-progress bubble stays on screen to be checked.
 */
async function holdUploads(page: Page, glob: string): Promise<() => void> {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  await page.context().route(glob, async (route: Route) => {
    if (route.request().method() !== "POST") return route.fallback();
    await held;
    await route.continue();
  });
  return release;
}

const rows = (page: Page, list: string) => page.getByTestId(list).getByTestId("conversation-row");

/** Whether a stop sits in `region` (a landmark's label or tag; "" for outside every landmark). */
const within = (s: Stop, region: string) => (region === "" ? s.regions.length === 0 : s.regions.includes(region));

/** Asserts every stop of a Tab walk showed a focus ring and sat in one of `regions`. */
function assertWalk(stops: Stop[], regions: string[], what: string): void {
  const walk = stops.map((s) => s.what).join(" → ");
  assert.equal(withoutRing(stops), "", `${what}: stops without a visible focus ring (walk: ${walk})`);
  const astray = stops.filter((s) => !regions.some((r) => within(s, r)));
  assert.equal(astray.length, 0, `${what}: focus left ${regions.join(" / ")}: ${walk}`);
}

/**
 * A shop on another origin that embeds the widget, as a customer's site
 * would: a page served by the test itself on its own port (a real server on
 * loopback, so Chrome lets it load the widget from the app's address).
 */
let shopServer: Server;
let shopUrl = "";
async function startShop(): Promise<void> {
  const port = await freePort();
  shopServer = createServer((_req, res) => {
    res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
    res.end(`<!doctype html><html lang="en"><head><title>Garden shop</title></head><body>
      <main><h1>Garden shop</h1><p><a href="/plants">Plants</a></p></main>
      <script src="${app.base}/widget.js" data-site-key="demo" async></script></body></html>`);
  });
  await new Promise<void>((resolve) => shopServer.listen(port, "127.0.0.1", resolve));
  shopUrl = `http://127.0.0.1:${port}/`;
}

const KEYBOARD_TEXT = "Written with the keyboard alone";

describe("accessibility: axe on every screen, and the story with the keyboard alone", () => {
  before(async () => {
    app = await startApp();
    await startShop();
    browser = await launch();
    desk = await newPage(DESKTOP);
    phone = await newPage(PHONE, { askNotifications: true });
  });
  beforeEach(() => {
    failures = [];
  });
  after(async () => {
    console.log(`\naxe results per screen:\n${summary()}\n`);
    writeFileSync(join(results, "a11y.json"), JSON.stringify(reports, null, 2));
    await browser?.close();
    shopServer?.close();
    await app?.stop();
  });

  it("setup and login pass axe at both widths; the first admin is created with the keyboard alone", async () => {
    for (const [page, width] of bothWidths()) {
      await page.goto(app.base + "/");
      await page.getByTestId("setup-form").waitFor();
      await check(page, `setup (${width})`);
    }
    await phone
      .getByTestId("setup-form")
      .getByRole("button", { name: /create/i })
      .click();
    await phone.getByTestId("setup-form").getByRole("alert").waitFor();
    await check(phone, "setup with an error (phone)");
    // Every problem is named at once, not one per try.
    await phone.getByTestId("setup-form").getByLabel("Password", { exact: true }).fill("short");
    await phone.getByTestId("setup-form").getByLabel("Confirm password", { exact: true }).fill("shorter");
    await phone
      .getByTestId("setup-form")
      .getByRole("button", { name: /create/i })
      .click();
    assert.equal(
      await phone.getByTestId("setup-form").getByRole("alert").innerText(),
      "Please enter your name. Please enter a valid email address. The password needs at least 10 characters. The two passwords do not match.",
    );
    await phone.getByTestId("setup-form").getByLabel("Password", { exact: true }).fill("");
    await phone.getByTestId("setup-form").getByLabel("Confirm password", { exact: true }).fill("");
    // Each field is named by its label alone; the password's hint is its description, not part of its name.
    for (const label of ["Name", "Email", "Password", "Confirm password"]) {
      assert.equal(await desk.getByTestId("setup-form").getByLabel(label, { exact: true }).count(), 1, label);
    }
    const hint = await desk
      .locator("input[name=password]")
      .evaluate((el) => document.getElementById(el.getAttribute("aria-describedby") ?? "")?.textContent);
    assert.equal(hint, "At least 10 characters.");
    // The first admin with the keyboard alone: each field is the next Tab stop, Enter creates.
    const stops: Stop[] = [];
    for (const [field, text] of [
      ["name", "Olivia Operator"],
      ["email", "olivia@example.com"],
      ["password", PASSWORD],
      ["confirm", PASSWORD],
    ]) {
      stops.push(...(await tabTo(desk, `input[name=${field}]`, { max: 1 })));
      await desk.keyboard.type(text!);
    }
    stops.push(...(await tabTo(desk, "button[type=submit]", { max: 1 })));
    assertWalk(stops, ["Welcome to Microchat"], "setup form");
    await desk.keyboard.press("Enter");
    await desk.getByTestId("unassigned-list").waitFor();
    for (const [page, width] of bothWidths()) {
      const guest = await newPage(page.viewportSize()!);
      // The page's own clock, so the pause's countdown can be run to its end without waiting 30 s.
      await guest.clock.install();
      await guest.goto(app.base + "/");
      await guest.getByTestId("login-form").waitFor();
      await check(guest, `login (${width})`);
      if (width === "desktop") await guest.screenshot({ path: join(shots, "login.png") });
      // An email nobody has, so Olivia is not the one locked out: it is answered as a real account would be.
      await pauseSignIn(guest, `nobody.${width}@example.com`);
      await check(guest, `login paused after 5 wrong passwords (${width})`);
      if (width === "desktop") await guest.screenshot({ path: join(shots, "login-paused.png") });
      await guest.clock.fastForward(31_000);
      await guest
        .getByTestId("login-form")
        .getByRole("status")
        .filter({ hasText: "You can try signing in again now." })
        .waitFor();
      assert.equal(
        await guest.getByTestId("login-submit").textContent(),
        "Sign in",
        "the button is back once the pause is over",
      );
      assert.ok(await guest.getByTestId("login-submit").isEnabled(), "and it can be pressed");
      await guest.context().close();
    }
    await signIn(phone);
    await phone.goto(app.base + "/conversations");
    await phone.getByTestId("unassigned-list").locator(".empty").waitFor();
    await phone.getByTestId("notification-banner").waitFor();
    await desk.getByTestId("unassigned-list").locator(".empty").waitFor();
    await check(desk, "conversations, empty (desktop)");
    await check(phone, "conversations, empty (phone)");
    assertNoViolations();
  });

  it("the operator goes Away with the keyboard; the widget with nobody online passes axe", async () => {
    // The operator goes Away with the keyboard: Tab along the rail to the switch, Space.
    const stops = await tabTo(desk, "[data-testid=presence-toggle]");
    assertWalk(stops, ["Main"], "rail");
    await desk.keyboard.press("Space");
    await desk.locator('[data-testid="presence-toggle"][data-status="away"]').waitFor();
    assert.ok(
      await hasFocus(desk, "[data-testid=presence-toggle]"),
      `focus stays on the switch after it turned, not on ${(await focused(desk)).what}`,
    );
    laptopVisitor = await newPage({ width: 1100, height: 800 });
    await laptopVisitor.goto(app.base + "/demo/");
    await laptopVisitor.locator("[data-microchat]").locator("button.l").waitFor();
    await check(laptopVisitor, "demo page with the launcher (laptop)");
    const frame = await openWidget(laptopVisitor);
    // Nobody online: the header says so and one email prompt is offered.
    await frame.locator("#sub", { hasText: "No one is online right now" }).waitFor();
    await frame.locator("#profile:not([hidden])").waitFor();
    await check(laptopVisitor, "demo page, widget open (laptop)");
    await check(frame, "widget: nobody online, empty, email form (laptop)");
    await visitorSays(frame, "Hello? Is anyone there?");
    await check(frame, "widget: nobody online, with a message (laptop)");
    await frame.locator("#pname").fill("Nora");
    await frame.locator("#pemail").fill("nora@example.org");
    await frame.locator("#profile button[type=submit]").click();
    await frame.locator("#profile[hidden]").waitFor({ state: "attached" });
    await check(frame, "widget: nobody online, email given (laptop)");
    await laptopVisitor.screenshot({ path: join(shots, "a11y-widget-away.png") });
    assertNoViolations();
  });

  it("the widget with an operator online passes axe at a phone width: empty, messages, the name/email offer", async () => {
    await desk.keyboard.press("Space");
    await desk.locator('[data-testid="presence-toggle"][data-status="online"]').waitFor();
    phoneVisitor = await newPage(PHONE);
    await phoneVisitor.goto(app.base + "/demo/");
    await phoneVisitor.locator("[data-microchat]").locator("button.l").waitFor();
    await check(phoneVisitor, "demo page with the launcher (phone)");
    const frame = await openWidget(phoneVisitor);
    await check(frame, "widget: empty (phone)");
    await visitorSays(frame, "Do you deliver plants to Bergen?");
    await frame.locator("#profile:not([hidden])").waitFor();
    await check(frame, "widget: with a message and the name/email offer (phone)");
    await desk.getByTestId("notify-toast").filter({ hasText: "Bergen" }).waitFor();
    await check(desk, "conversations with a waiting visitor's toast (desktop)");
    await frame.locator("#pname").fill("Peter");
    await frame.locator("#pemail").fill("peter@example.org");
    await frame.locator("#profile button[type=submit]").click();
    await frame.locator("#profile[hidden]").waitFor({ state: "attached" });
    await phoneVisitor.screenshot({ path: join(shots, "a11y-widget-phone.png") });
    assertNoViolations();
  });

  it("the widget on another site with the keyboard alone: launcher → composer → Enter sends → minimise → reopen", async () => {
    shop = await newPage({ width: 1100, height: 800 });
    await shop.goto(shopUrl);
    const launcher = "[data-microchat] button.l";
    // The launcher lives in the loader's shadow root: the focus is matched inside it.
    const toLauncher = await tabTo(shop, "button.l");
    assertWalk(toLauncher, ["main", ""], "host page to the launcher");
    assert.equal(await shop.locator(launcher).getAttribute("aria-label"), "Open chat");
    await shop.screenshot({ path: join(shots, "a11y-launcher-focus.png") });

    await shop.keyboard.press("Enter");
    const frame = await widgetFrame(shop);
    await frame.locator("#input").waitFor();
    await waitForFocus(frame, "#input");
    assert.equal(await shop.locator(launcher).getAttribute("aria-expanded"), "true");
    await shop.keyboard.type(KEYBOARD_TEXT);
    await shop.keyboard.press("Enter");
    await frame.locator(".m.visitor:not(.pending)", { hasText: KEYBOARD_TEXT }).waitFor();
    assert.ok(await hasFocus(frame, "#input"), `focus stays in the composer, not on ${(await focused(frame)).what}`);

    // Minimise: back along the chat to its header's button (the name/email offer is on the way).
    const toMinimise = await tabTo(shop, "#minimise", { back: true, target: frame });
    assertWalk(toMinimise, ["Chat"], "chat to minimise");
    await shop.keyboard.press("Enter");
    await shop.locator('[data-microchat] iframe[title="Chat"]').waitFor({ state: "hidden" });
    await waitForFocus(shop, "button.l");
    assert.equal(await shop.locator(launcher).getAttribute("aria-expanded"), "false");

    await shop.keyboard.press("Enter");
    await waitForFocus(frame, "#input");
    await frame.locator(".m.visitor", { hasText: KEYBOARD_TEXT }).waitFor();
    await shop.screenshot({ path: join(shots, "a11y-widget-keyboard.png") });
  });

  it("conversation lists with Unassigned, Mine and All rows pass axe at both widths", async () => {
    const mail = [
      "From: Erik <erik@example.org>",
      "To: support@microchat.example",
      "Subject: Wholesale prices?",
      "Message-ID: <a11y-1@example.org>",
      "",
      "Do you have wholesale prices for offices?",
      "",
    ].join("\r\n");
    const res = await fetch(`${app.base}/cdn-cgi/handler/email?from=erik@example.org&to=support@microchat.example`, {
      method: "POST",
      body: mail,
    });
    assert.equal(res.status, 200);
    await rows(desk, "unassigned-list").filter({ hasText: "wholesale prices" }).waitFor({ timeout: 10_000 });
    await rows(desk, "unassigned-list").filter({ hasText: "Peter" }).getByTestId("join-button").click();
    await rows(desk, "mine-list").filter({ hasText: "Peter" }).waitFor();
    await desk.goto(app.base + "/conversations");
    await rows(desk, "mine-list").filter({ hasText: "Peter" }).waitFor();
    await rows(desk, "unassigned-list").nth(1).waitFor();
    await check(desk, "conversations: Unassigned and Mine (desktop)");
    await desk.screenshot({ path: join(shots, "a11y-lists.png") });
    await rows(phone, "mine-list").filter({ hasText: "Peter" }).waitFor();
    await check(phone, "conversations: Unassigned and Mine (phone)");
    await phone.getByTestId("tab-all").click();
    await rows(phone, "all-list").nth(2).waitFor();
    await check(phone, "conversations: All tab (phone)");
    await phone.getByTestId("tab-mine").click();
    assertNoViolations();
  });

  it("the article with the keyboard alone: Unassigned row → JOIN → composer → Enter sends → Leave → the visitor rates", async () => {
    const row = rows(desk, "unassigned-list").filter({ hasText: KEYBOARD_TEXT });
    const join = `[data-testid=join-button][aria-label="${await row.getByTestId("join-button").getAttribute("aria-label")}"]`;
    await desk.goto(app.base + "/conversations");
    await row.waitFor();
    // From the top of the page: the rail first, then the lists, down to the Mine / All tabs.
    const toTabs = await tabTo(desk, "[data-testid=tab-mine]");
    assertWalk(toTabs, ["Main", "Conversation lists"], "page to the tabs");
    const firstInList = toTabs.findIndex((s) => within(s, "Conversation lists"));
    assert.ok(
      firstInList > 0 && toTabs.slice(firstInList).every((s) => within(s, "Conversation lists")),
      `the rail, then the lists: ${toTabs.map((s) => s.what).join(" → ")}`,
    );
    // Arrow keys move between the tabs and show their list.
    await desk.keyboard.press("ArrowRight");
    await desk.getByTestId("all-list").waitFor();
    assert.ok(await hasFocus(desk, "[data-testid=tab-all][aria-selected=true]"), (await focused(desk)).what);
    await desk.keyboard.press("ArrowLeft");
    await desk.getByTestId("mine-list").waitFor();
    assert.ok(await hasFocus(desk, "[data-testid=tab-mine][aria-selected=true]"), (await focused(desk)).what);
    // Back up to the waiting visitor's JOIN.
    const toJoin = await tabTo(desk, join, { back: true });
    assertWalk(toJoin, ["Conversation lists"], "tabs to JOIN");

    await desk.keyboard.press("Enter");
    await desk.getByTestId("leave-button").waitFor();
    await waitForFocus(desk, "[data-testid=composer]");
    await desk.keyboard.type("Hello! Typed and sent with the keyboard.");
    await desk.keyboard.press("Enter");
    await (await widgetFrame(shop)).locator(".m.operator", { hasText: "sent with the keyboard" }).waitFor();
    assert.ok(
      await hasFocus(desk, "[data-testid=composer]"),
      `focus stays in the composer, not on ${(await focused(desk)).what}`,
    );

    // Back up the conversation to Leave Conversation, next to the visitor's name.
    const toLeave = await tabTo(desk, "[data-testid=leave-button]", { back: true });
    assertWalk(toLeave, ["Conversation"], "composer to Leave");
    await desk.keyboard.press("Enter");
    await desk.getByTestId("join-hint").waitFor();
    // The Leave button is gone: JOIN, in its place, has the focus (not the page).
    await waitForFocus(desk, "[data-testid=conversation-header] [data-testid=join-button]");

    // The visitor rates the chat with the keyboard: back up to the stars, arrows choose, on to Send.
    const frame = await widgetFrame(shop);
    await frame.locator("#survey:not([hidden])").waitFor();
    const toStars = await tabTo(shop, '.stars button[tabindex="0"]', { back: true, target: frame });
    assertWalk(toStars, ["Chat"], "composer to the rating");
    for (let i = 0; i < 4; i++) await shop.keyboard.press("ArrowRight");
    assert.ok(
      await hasFocus(frame, '.stars button[data-rating="4"][aria-checked="true"]'),
      `four ArrowRight choose 4 of 5; focus is on ${(await focused(frame)).what}`,
    );
    const toSend = await tabTo(shop, "#survey-submit", { target: frame, max: 2 });
    assertWalk(toSend, ["How was your chat with Olivia Operator?"], "rating to Send");
    await shop.keyboard.press("Enter");
    await frame.locator("#survey-thanks:not([hidden])").waitFor();
    await check(frame, "widget: thanks for the rating (laptop)");
    await desk.getByTestId("message").filter({ hasText: "Rated 4/5" }).waitFor();
    assertNoViolations();
  });

  it("an open conversation passes axe: chat and email messages, files, uploads, offline, visitor info, delete dialog", async () => {
    const bergen = rows(desk, "mine-list").filter({ hasText: "Peter" });
    await bergen.locator(".row-link").click();
    await desk.getByTestId("leave-button").waitFor();
    await desk.getByTestId("composer").fill("Yes, we deliver all over Norway.");
    await desk.getByTestId("composer").press("Enter");
    const visitorFrame = await widgetFrame(phoneVisitor);
    await visitorFrame.locator(".m.operator", { hasText: "deliver all over Norway" }).waitFor();
    await desk.getByTestId("channel-email").click();
    await desk.getByTestId("composer").fill("And here it is in writing, by email.");
    await desk.getByTestId("composer").press("Enter");
    await desk
      .getByTestId("message")
      .filter({ hasText: "in writing, by email" })
      .getByTestId("delivery-state")
      .filter({ hasText: /^Sent$/ })
      .waitFor({ timeout: 15_000 });
    await desk.getByTestId("channel-chat").click();

    // Files both ways; each upload is held mid-way to check its progress bubble.
    const releaseVisitor = await holdUploads(phoneVisitor, "**/api/visitor/files");
    await visitorFrame.locator("#file").setInputFiles(join(fixtures, "sunset.png"));
    await visitorFrame.locator(".m.visitor.pending .bar").waitFor();
    await check(visitorFrame, "widget: an upload in progress (phone)");
    releaseVisitor();
    await desk.getByTestId("message-image").last().waitFor({ timeout: 10_000 });
    const releaseOperator = await holdUploads(desk, "**/api/conversations/*/files");
    await desk.getByTestId("file-input").setInputFiles([join(fixtures, "invoice.pdf")]);
    await desk.locator('[data-testid="message"][data-status="uploading"]').waitFor();
    await check(desk, "conversation open: an upload in progress (desktop)");
    releaseOperator();
    await visitorFrame.locator(".m.operator.file .card", { hasText: "invoice.pdf" }).waitFor({ timeout: 10_000 });
    await visitorFrame.locator(".m.visitor.file img[src^=blob]").waitFor();
    await check(visitorFrame, "widget: with messages and files (phone)");
    await phoneVisitor.screenshot({ path: join(shots, "a11y-widget-files.png") });

    // Offline on both sides: the banners, and messages waiting to be sent.
    await phoneVisitor.context().setOffline(true);
    await visitorFrame.locator("#banner:not([hidden])").waitFor({ timeout: 15_000 });
    await visitorFrame.locator("#input").fill("Are you still there?");
    await visitorFrame.locator("#input").press("Enter");
    await visitorFrame.locator(".m.pending", { hasText: "still there" }).waitFor();
    await check(visitorFrame, "widget: offline, a message waiting to be sent (phone)");
    await phoneVisitor.screenshot({ path: join(shots, "a11y-widget-offline.png") });
    await phoneVisitor.context().setOffline(false);
    await visitorFrame.locator(".m.visitor:not(.pending)", { hasText: "still there" }).waitFor({ timeout: 20_000 });
    await desk.context().setOffline(true);
    await desk.getByTestId("connection-banner").waitFor({ timeout: 15_000 });
    await desk.getByTestId("composer").fill("Yes, still here.");
    await desk.getByTestId("composer").press("Enter");
    await desk.locator('[data-testid="message"][data-status="sending"]').waitFor();
    await check(desk, "conversation open: offline, a reply waiting to be sent (desktop)");
    await desk.screenshot({ path: join(shots, "a11y-conversation-offline.png") });
    await desk.context().setOffline(false);
    await visitorFrame.locator(".m.operator", { hasText: "Yes, still here." }).waitFor({ timeout: 20_000 });

    await desk.getByTestId("visitor-info").waitFor();
    await check(desk, "conversation open: chat, email, files, visitor info (desktop)");
    await desk.screenshot({ path: join(shots, "a11y-conversation.png") });

    // The email contact's other threads load after the rest: hold that answer so its loading state is checked too.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    await desk.route("**/api/conversations/*/threads", async (route) => {
      await held;
      await route.continue();
    });
    const email = rows(desk, "unassigned-list").filter({ hasText: "wholesale prices" });
    await email.locator(".row-link").click();
    await desk.getByTestId("email-badge").first().waitFor();
    await desk.getByTestId("visitor-threads").locator(".skeleton").waitFor();
    await check(desk, "conversation open: an email, other threads loading (desktop)");
    release();
    await desk.getByTestId("visitor-threads").locator(".skeleton").waitFor({ state: "detached" });
    await desk.unroute("**/api/conversations/*/threads");
    await check(desk, "conversation open: an email, not joined (desktop)");

    await phone.goto(app.base + (await bergen.locator(".row-link").getAttribute("href")));
    await phone.getByTestId("leave-button").waitFor();
    await phone.getByTestId("message-image").last().waitFor();
    await check(phone, "conversation open (phone)");
    await phone.getByTestId("visitor-info-toggle").click();
    await phone.getByTestId("visitor-info").waitFor();
    await check(phone, "visitor info drawer (phone)");
    await phone.screenshot({ path: join(shots, "a11y-visitor-info-phone.png") });
    await phone.keyboard.press("Escape");
    await phone.getByTestId("visitor-info").waitFor({ state: "detached" });

    await phone.getByTestId("delete-conversation").click();
    await phone.getByTestId("delete-dialog").waitFor();
    await check(phone, "delete dialog (phone)");
    await phone.getByTestId("cancel-dialog").click();
    await desk.getByTestId("delete-conversation").click();
    await desk.getByTestId("delete-dialog").waitFor();
    await check(desk, "delete dialog (desktop)");
    await desk.getByTestId("cancel-dialog").click();
    assertNoViolations();
  });

  it("the delete dialog with the keyboard: focus moves in, Tab stays inside, Escape closes it and focus returns", async () => {
    await desk.goto(app.base + "/conversations");
    await rows(desk, "mine-list").filter({ hasText: "Peter" }).locator(".row-link").click();
    await waitForFocus(desk, "[data-testid=composer]");
    await tabTo(desk, "[data-testid=delete-conversation]", { back: true });
    await desk.keyboard.press("Enter");
    await desk.getByTestId("delete-dialog").waitFor();
    const inDialog: Stop[] = [await focused(desk)];
    assert.ok(await hasFocus(desk, "[data-testid=cancel-dialog]"), `Cancel has focus first, not ${inDialog[0]!.what}`);
    for (const [key, expected] of [
      ["Tab", "confirm-delete"],
      ["Tab", "cancel-dialog"],
      ["Shift+Tab", "confirm-delete"],
      ["Shift+Tab", "cancel-dialog"],
    ] as const) {
      await desk.keyboard.press(key);
      inDialog.push(await focused(desk));
      assert.ok(
        await hasFocus(desk, `[data-testid=${expected}]`),
        `${key} in the dialog: ${inDialog.map((s) => s.what).join(" → ")}`,
      );
    }
    assertWalk(inDialog, ["Delete this conversation?"], "delete dialog");
    await desk.keyboard.press("Escape");
    await desk.getByTestId("delete-dialog").waitFor({ state: "detached" });
    assert.ok(
      await hasFocus(desk, "[data-testid=delete-conversation]"),
      `Escape closes the dialog and focus returns to Delete, not ${(await focused(desk)).what}`,
    );
    await rows(desk, "mine-list").filter({ hasText: "Peter" }).waitFor();
  });

  it("the survey card after Leave Conversation passes axe", async () => {
    await desk.goto(app.base + "/conversations");
    await rows(desk, "mine-list").filter({ hasText: "Peter" }).locator(".row-link").click();
    await desk.getByTestId("leave-button").click();
    const frame = await widgetFrame(phoneVisitor);
    await frame.locator("#survey:not([hidden])").waitFor();
    await check(frame, "widget: the survey card (phone)");
    await phoneVisitor.screenshot({ path: join(shots, "a11y-widget-survey.png") });
    await frame.locator('.stars button[data-rating="4"]').click();
    await check(frame, "widget: the survey card, rated (phone)");
    assertNoViolations();
  });

  it("operators, reports, settings and integrations pass axe at both widths", async () => {
    for (const [page, width] of bothWidths()) {
      await page.goto(app.base + "/operators");
      await page.getByTestId("operator-row").first().getByTestId("operator-presence").waitFor();
      await page.locator('[data-testid="operator-presence"][data-presence="online"]').waitFor();
      await check(page, `operators (${width})`);
      // Each name is shown whole where the row has room for it: the badges beside it move under it first.
      const cut = await page
        .locator('[data-testid="operator-row"] .operator-name > .ellipsis')
        .evaluateAll((names) => names.filter((n) => n.scrollWidth > n.clientWidth).map((n) => n.textContent));
      assert.deepEqual(cut, [], `operators (${width}): names cut short`);
      await page.goto(app.base + "/reports");
      await page.getByTestId("operator-report-row").first().waitFor();
      await check(page, `reports (${width})`);
      await page.goto(app.base + "/settings");
      await page.getByTestId("settings-form").waitFor();
      await check(page, `settings (${width})`);
      await page.goto(app.base + "/integrations");
      await page.getByTestId("tokens-card").waitFor();
      await check(page, `integrations (${width})`);
    }
    await desk.goto(app.base + "/operators");
    await desk.locator('[data-testid="operator-presence"][data-presence="online"]').waitFor();
    await desk.screenshot({ path: join(shots, "operators.png") });
    await phone.goto(app.base + "/operators");
    await phone.locator('[data-testid="operator-presence"][data-presence="online"]').waitFor();
    await phone.screenshot({ path: join(shots, "operators-phone.png") });
    assertNoViolations();
  });
});
