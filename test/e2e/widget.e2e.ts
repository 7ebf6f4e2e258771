/**
 * The widget as a visitor meets it, in a real browser against the real app:
 * - what is typed in the chat's first moments is never lost: an Enter pressed
 *   the moment the input can be used sends the message, exactly once, on 50
 *   fresh opens (each a fresh browser context, so a fresh visitor and a cold
 *   cache), and a draft already in the box when the script starts is kept;
 * - the newest message is in view: after many messages, after minimise and
 *   reopen, after a reload, after a picture loads, and above the survey card;
 * - with nobody online the header says so, and it names the operator who joins;
 * - an operator's name heads each run of their messages;
 * - keyboard only, on another origin: open, write, Tab order, survey stars
 *   with arrows, Escape to minimise.
 * Screenshots go to test-results/screenshots.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { APIRequestContext, Browser, BrowserContext, Frame, FrameLocator, Page } from "playwright-core";
import type { Message, VisitorSession } from "../../worker/protocol/index.ts";
import { freePort, startApp, type AppServer } from "./app-server.ts";
import { launch } from "./browser.ts";

const shots = join(import.meta.dirname, "../../test-results/screenshots");
const fixtures = join(import.meta.dirname, "fixtures");
mkdirSync(shots, { recursive: true });

let app: AppServer;
let browser: Browser;
/** An operator's HTTP client (logged in by setup): reads conversations back from the server. */
let operator: APIRequestContext;

const widget = (page: Page): FrameLocator => page.frameLocator('iframe[title="Chat"]');
const openChat = (page: Page) => page.locator("[data-microchat]").locator('button[aria-label="Open chat"]').click();

/** The visitor session the loader keeps in the host page's storage (which conversation this visitor has). */
async function visitorSession(page: Page): Promise<VisitorSession | null> {
  const raw = await page.evaluate(() => localStorage.getItem("microchat:session:demo"));
  return raw ? (JSON.parse(raw) as VisitorSession) : null;
}

/**
 * A fresh visitor (own context: own storage, cold cache) on the demo page,
 * closed after `fn`. Requests matching `hold` wait until `release()`.
 */
async function asFreshVisitor<T>(fn: (page: Page, release: () => void) => Promise<T>, hold: string[] = []): Promise<T> {
  const ctx = await browser.newContext({ viewport: { width: 1100, height: 800 } });
  try {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    for (const url of hold) {
      await ctx.route(url, async (route) => {
        await released;
        await route.continue();
      });
    }
    const page = await ctx.newPage();
    await page.goto(app.base + "/demo/");
    return await fn(page, release);
  } finally {
    await ctx.close();
  }
}

const CHAT_SCRIPT = "**/widget/app.js";

/** The conversation's stored messages, as the operator API returns them. */
async function storedMessages(conversationId: string): Promise<Message[] | string> {
  const url = `${app.base}/api/conversations/${conversationId}/messages?limit=100`;
  // A GET is safe to repeat: one retry when a kept-alive connection was closed by the server just as it was reused
  // (seen once under a CPU hog as ECONNRESET). Any other failure, or a second one, is the test's failure.
  const res = await operator.get(url).catch((err: unknown) => {
    if (!String(err).includes("ECONNRESET")) throw err;
    return operator.get(url);
  });
  if (!res.ok()) return `HTTP ${res.status()}: ${await res.text()}`;
  return ((await res.json()) as { messages: Message[] }).messages;
}

/** The visitor writes a line and waits until the server has it. */
async function visitorWrites(frame: FrameLocator, text: string): Promise<void> {
  await frame.locator("#input").fill(text);
  await frame.locator("#input").press("Enter");
  await frame.locator(".m.visitor:not(.pending)", { hasText: text }).waitFor();
}

/**
 * The operator joins this visitor's conversation; `say` replies in it and
 * waits until the widget has the reply (attached: also while minimised).
 */
async function operatorJoins(page: Page): Promise<{ conversationId: string; say(text: string): Promise<void> }> {
  const session = await visitorSession(page);
  assert.ok(session, "the visitor has a session");
  const { conversationId } = session;
  const join = await operator.post(`${app.base}/api/conversations/${conversationId}/join`);
  assert.equal(join.status(), 200, await join.text());
  return {
    conversationId,
    async say(text) {
      const res = await operator.post(`${app.base}/api/v1/conversations/${conversationId}/messages`, {
        data: { text },
      });
      assert.equal(res.status(), 201, await res.text());
      await widget(page).locator(".m.operator", { hasText: text }).waitFor({ state: "attached" });
    },
  };
}

/**
 * One fresh visitor opens the chat and, the moment the box takes input,
 * types a line and presses Enter. Returns what went wrong, or null when the
 * message showed as sent and the server stored it exactly once.
 */
async function firstEnterOnFreshOpen(i: number): Promise<string | null> {
  return asFreshVisitor(async (page) => {
    const errors: string[] = [];
    page.on("pageerror", (err) => errors.push(err.message));
    await openChat(page);
    const frame = widget(page);
    // No slack: type the moment the box accepts input.
    const input = frame.locator("#input:enabled");
    await input.waitFor();
    const text = `First words ${i} ${randomUUID().slice(0, 8)}`;
    await input.pressSequentially(text);
    await input.press("Enter");
    const shown = await frame
      .locator(".m.visitor:not(.pending)", { hasText: text })
      .waitFor({ timeout: 10_000 })
      .then(
        () => "",
        async () =>
          `; not shown as sent: the box holds ${JSON.stringify(await frame.locator("#input").inputValue())}, ` +
          `the log shows ${JSON.stringify(await frame.locator("#log").innerText())}`,
      );
    const session = await visitorSession(page);
    if (!session) return `open ${i}: no visitor session in storage${shown}`;
    const stored = await storedMessages(session.conversationId);
    const copies = typeof stored === "string" ? stored : stored.filter((m) => m.text === text).length;
    const pageErrors = errors.length > 0 ? `; page errors: ${errors.join(" | ")}` : "";
    return copies === 1 && !shown && !pageErrors
      ? null
      : `open ${i}: ${JSON.stringify(text)} stored ${copies} time(s)${shown}${pageErrors}`;
  });
}

/**
 * Runs in the chat frame. The newest message is in view when its bottom is
 * inside the visible part of the log and its time stamp can be seen
 * (hit-testing its centre finds it: not scrolled away, not covered by a
 * card). With `check`, says whether it is; without, what was seen instead.
 */
function newestMessageInView(check: boolean): boolean | string {
  const log = document.getElementById("log")!;
  const last = [...log.querySelectorAll(".m")].at(-1);
  if (!last) return check ? false : "no message in the log";
  const area = log.getBoundingClientRect();
  const box = last.getBoundingClientRect();
  const stamp = last.querySelector(".t")!.getBoundingClientRect();
  const hit = document.elementFromPoint(stamp.left + stamp.width / 2, stamp.top + stamp.height / 2);
  const seen = `log ${Math.round(area.top)}–${Math.round(area.bottom)}, newest message ${Math.round(box.top)}–${Math.round(box.bottom)}`;
  let problem = "";
  if (box.bottom > area.bottom + 1 || box.bottom <= area.top) problem = `newest message cut off: ${seen}`;
  else if (!last.contains(hit)) {
    const what = hit ? `${hit.tagName.toLowerCase()}#${hit.id}.${hit.className}` : "nothing";
    problem = `newest time stamp not visible (${what} is there): ${seen}`;
  }
  return check ? problem === "" : problem;
}

/** The chat frame of a page (for waiting on a condition inside it). */
function chatFrame(page: Page): Frame {
  const frame = page.frames().find((f) => new URL(f.url()).pathname.startsWith("/widget/frame"));
  assert.ok(frame, "the chat frame is on the page");
  return frame;
}

/**
 * What has the keyboard focus: "launcher: <label>", "chat: #id" (or the
 * element's accessible label) inside the chat frame, or the host page's element.
 */
async function focused(page: Page): Promise<string> {
  const outside = await page.evaluate(() => {
    const inRoot = document.querySelector("[data-microchat]")?.shadowRoot?.activeElement;
    if (inRoot?.tagName === "IFRAME") return "";
    if (inRoot) return `launcher: ${inRoot.getAttribute("aria-label")}`;
    const el = document.activeElement;
    return el?.textContent?.trim() || el?.tagName || "nothing";
  });
  if (outside) return outside;
  return `chat: ${await chatFrame(page).evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return "nothing";
    if (el.id) return `#${el.id}`;
    const label = el.getAttribute("aria-label");
    if (label) return label;
    // Its name from content, as a screen reader has it: without what is aria-hidden.
    const copy = el.cloneNode(true) as Element;
    for (const hidden of copy.querySelectorAll("[aria-hidden=true]")) hidden.remove();
    return copy.textContent?.replace(/\s+/g, " ").trim() || el.tagName;
  })}`;
}

/** Puts the keyboard focus on an element of the chat (the starting point of a Tab walk) and says what has it. */
async function focusFrom(page: Page, selector: string): Promise<string> {
  await widget(page).locator(selector).focus();
  return focused(page);
}

/** Waits until the newest message is in view; fails with what the frame showed. */
async function expectNewestInView(page: Page, when: string): Promise<void> {
  const frame = chatFrame(page);
  await frame
    .waitForFunction(newestMessageInView, true, { timeout: 5000 })
    .catch(async () => assert.fail(`${when}: ${await frame.evaluate(newestMessageInView, false)}`));
}

describe("the widget as a visitor meets it", () => {
  before(async () => {
    // 50 fresh visitors from one IP are more new conversations than the
    // per-IP limit allows in a minute; the limit itself is tested elsewhere.
    app = await startApp(undefined, { RATE_LIMITS: "off" });
    browser = await launch();
    const ctx = await browser.newContext();
    operator = ctx.request;
    const setup = await operator.post(app.base + "/api/setup", {
      data: { name: "Olivia Operator", email: "olivia@example.com", password: "a long enough password" },
    });
    assert.equal(setup.status(), 201, await setup.text());
  });
  after(async () => {
    await browser?.close();
    await app?.stop();
  });

  it("an Enter typed the moment the input can be used sends the message, exactly once, on 50 fresh opens", async () => {
    const OPENS = 50;
    // A few visitors at a time (each its own context) keep the run short.
    const LANES = 5;
    const problems: string[] = [];
    let next = 0;
    const lane = async () => {
      for (let i = next++; i < OPENS; i = next++) {
        const problem = await firstEnterOnFreshOpen(i);
        if (problem) problems.push(problem);
      }
    };
    await Promise.all(Array.from({ length: LANES }, lane));
    assert.deepEqual(problems, [], `${problems.length} of ${OPENS} fresh opens went wrong:\n${problems.join("\n")}`);
  });

  it("the newest message is in view: many messages, minimise and reopen, reload, a picture, the survey", async () => {
    await asFreshVisitor(async (page) => {
      const errors: string[] = [];
      page.on("pageerror", (err) => errors.push(err.message));
      await openChat(page);
      const frame = widget(page);
      await visitorWrites(frame, "Hello, I have a few questions");
      const { conversationId: id, say } = await operatorJoins(page);
      for (let n = 1; n <= 24; n++) await say(n % 5 === 0 ? `Answer ${n}.\nline two\nline three` : `Answer ${n}.`);
      await expectNewestInView(page, "after 24 replies");
      await page.screenshot({ path: join(shots, "widget-many-messages.png") });

      // Minimised (the frame is display:none), two more replies arrive; the visitor reopens.
      await frame.locator("#minimise").click();
      await page.locator('iframe[title="Chat"]').waitFor({ state: "hidden" });
      await say("While you were away 1");
      await say("While you were away 2");
      await openChat(page);
      await expectNewestInView(page, "after minimise and reopen");

      await page.reload();
      await frame.locator(".m.operator", { hasText: "While you were away 2" }).waitFor();
      await expectNewestInView(page, "after a reload");

      const pic = await operator.post(`${app.base}/api/conversations/${id}/files`, {
        multipart: {
          clientId: `pic-${randomUUID()}`,
          file: { name: "sunset.png", mimeType: "image/png", buffer: readFileSync(join(fixtures, "sunset.png")) },
        },
      });
      assert.equal(pic.status(), 201, await pic.text());
      await frame
        .locator(".m.operator.file img")
        .evaluate(
          (img) => new Promise((r) => ((img as HTMLImageElement).complete ? r(null) : img.addEventListener("load", r))),
        );
      await expectNewestInView(page, "after a picture loaded");
      await say("And one more line after the picture");
      await expectNewestInView(page, "after a reply below the picture");

      // Reading earlier messages: a new reply does not pull the visitor down; sending does.
      const log = frame.locator("#log");
      await log.evaluate((el) => el.scrollTo({ top: 0 }));
      await chatFrame(page).waitForFunction(() => document.getElementById("log")!.scrollTop === 0);
      await log.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
      await say("A reply while the visitor reads");
      assert.equal(await log.evaluate((el) => el.scrollTop), 0, "the log stays where the visitor was reading");
      await visitorWrites(frame, "Thanks, got it");
      await expectNewestInView(page, "after the visitor sent a message");

      assert.equal((await operator.post(`${app.base}/api/conversations/${id}/leave`)).status(), 200);
      await frame.locator("#survey").waitFor();
      await expectNewestInView(page, "with the survey card shown");
      await page.screenshot({ path: join(shots, "widget-survey-scrolled.png") });
      // A phone: the chat fills the screen; still the newest message above the card.
      await page.setViewportSize({ width: 375, height: 667 });
      await expectNewestInView(page, "at 375×667 with the survey card");
      await page.screenshot({ path: join(shots, "widget-survey-phone.png") });
      assert.deepEqual(errors, [], "no page errors");
    });
  });

  it("with nobody online the widget says so once; when an operator joins, the header names them", async () => {
    await asFreshVisitor(async (page) => {
      await openChat(page);
      const frame = widget(page);
      await frame.locator("#sub", { hasText: "No one is online right now" }).waitFor();
      await visitorWrites(frame, "Is anyone there?");
      // Skipping the email prompt leaves one line saying what happens next.
      await frame.locator("#pskip").click();
      await frame.locator("#away", { hasText: "We'll answer here when someone is back." }).waitFor();
      assert.equal(await frame.locator("#profile").isVisible(), false);

      await operatorJoins(page);
      await frame.locator("#sub", { hasText: "You're chatting with Olivia Operator" }).waitFor();
      await frame.locator("#away").waitFor({ state: "hidden" });
      const shown = await frame.locator("main").innerText();
      assert.doesNotMatch(shown, /no one is online|when someone is back/i, `stale notice, saw:\n${shown}`);
    });
  });

  it("an operator's name heads each run of their messages, not every bubble", async () => {
    await asFreshVisitor(async (page) => {
      await openChat(page);
      const frame = widget(page);
      await visitorWrites(frame, "Hi, a question about pots");
      const { say } = await operatorJoins(page);
      await say("Hello!");
      await say("Which size?");
      await say("We have three.");
      await visitorWrites(frame, "The middle one");
      await say("Good choice.");
      await say("It ships tomorrow.");
      // Which bubbles show a name a sighted visitor can read (screen readers still get all).
      const names = await frame.locator(".m.operator").evaluateAll((els) =>
        els.map((el) => {
          const n = el.querySelector(".n");
          return n && n.getBoundingClientRect().width > 2 ? n.textContent : "";
        }),
      );
      assert.deepEqual(names, ["Olivia Operator", "", "", "Olivia Operator", ""], "names on the operator's bubbles");
      assert.equal(await frame.locator(".m.operator .n").count(), 5, "every bubble keeps its name for screen readers");
      await page.screenshot({ path: join(shots, "widget-name-per-group.png") });
    });
  });

  it("keyboard only, on another site: open, write, Tab through the chat, rate with arrows, minimise", async () => {
    // A customer's site: its own origin (another port), embedding the widget from ours.
    const site = createServer((_req, res) => {
      res.writeHead(200, { "Content-Type": "text/html" });
      res.end(`<!doctype html><title>Shop</title><a href="#main">Skip to content</a><h1 id="main">Shop</h1>
<script src="${app.base}/widget.js" data-site-key="demo" async></script>`);
    });
    const port = await freePort();
    await new Promise<void>((r) => site.listen(port, "127.0.0.1", r));
    const shop = `http://127.0.0.1:${port}/`;
    const ctx = await browser.newContext({ viewport: { width: 1100, height: 800 } });
    try {
      const page = await ctx.newPage();
      await page.goto(shop);
      await page.locator("[data-microchat] button.l").waitFor();
      const tab = async (key = "Tab") => {
        await page.keyboard.press(key);
        return focused(page);
      };
      assert.equal(await tab(), "Skip to content");
      assert.equal(await tab(), "launcher: Open chat");
      await page.keyboard.press("Enter");
      const frame = widget(page);
      await frame.locator("#input:enabled").waitFor();
      await chatFrame(page).waitForFunction(() => document.activeElement?.id === "input");
      assert.equal(await focused(page), "chat: #input", "opening puts the cursor in the message box");
      await page.keyboard.type("Hello by keyboard");
      await page.keyboard.press("Enter");
      await frame.locator(".m.visitor:not(.pending)", { hasText: "Hello by keyboard" }).waitFor();
      // The name/email card is offered (nobody online); skip it by keyboard: the cursor comes back.
      await frame.locator("#profile").waitFor();

      const { conversationId, say } = await operatorJoins(page);
      for (let n = 1; n <= 6; n++) await say(`Step ${n} of 6:\nfirst this,\nthen that.`);
      await say("Here is the invoice you asked for.");
      const pdf = await operator.post(`${app.base}/api/conversations/${conversationId}/files`, {
        multipart: {
          clientId: `pdf-${randomUUID()}`,
          file: {
            name: "invoice.pdf",
            mimeType: "application/pdf",
            buffer: readFileSync(join(fixtures, "invoice.pdf")),
          },
        },
      });
      assert.equal(pdf.status(), 201, await pdf.text());
      await frame.locator(".card", { hasText: "invoice.pdf" }).waitFor();

      // Top to bottom, as it is drawn: header, messages, the card under them, the composer.
      const order: string[] = [await focusFrom(page, "#minimise")];
      let after = "";
      for (let i = 0; i < 12 && !after; i++) {
        const next = await tab();
        if (next.startsWith("chat:")) order.push(next);
        else after = next;
      }
      assert.deepEqual(
        order,
        [
          "chat: #minimise",
          "chat: #log",
          "chat: Download invoice.pdf, PDF document · 77 B",
          "chat: #pname",
          "chat: #pemail",
          "chat: Save",
          "chat: #pskip",
          "chat: #attach",
          "chat: #input",
          "chat: #send",
        ],
        "Tab order through the chat",
      );
      assert.ok(after, "Tab from Send leaves the chat");
      await focusFrom(page, "#pskip");
      await page.keyboard.press("Enter");
      await frame.locator("#profile").waitFor({ state: "hidden" });
      assert.equal(await focused(page), "chat: #input", "after skipping the card the cursor is in the message box");

      // The log scrolls by keyboard once focused.
      await focusFrom(page, "#log");
      const top = await frame.locator("#log").evaluate((el) => el.scrollTop);
      assert.ok(top > 0, "the log is scrolled to its newest message");
      await page.keyboard.press("Home");
      await chatFrame(page).waitForFunction(() => document.getElementById("log")!.scrollTop === 0);

      // The survey: one Tab stop for the stars, arrows choose, then comment and send.
      const left = await operator.post(`${app.base}/api/conversations/${conversationId}/leave`);
      assert.equal(left.status(), 200, await left.text());
      await frame.locator("#survey").waitFor();
      await focusFrom(page, "#survey-dismiss");
      assert.equal(await tab(), "chat: 1 of 5: very poor", "the stars are one Tab stop, starting at the first");
      for (let i = 0; i < 4; i++) await page.keyboard.press("ArrowRight");
      assert.equal(await focused(page), "chat: 4 of 5: good");
      assert.equal(await frame.locator('.stars [aria-checked="true"]').getAttribute("data-rating"), "4");
      await page.keyboard.press("ArrowLeft");
      assert.equal(await focused(page), "chat: 3 of 5: okay");
      await page.keyboard.press("ArrowUp");
      assert.equal(await tab(), "chat: #survey-comment");
      await page.keyboard.type("Clear and quick");
      assert.equal(await tab(), "chat: #survey-submit");
      await page.screenshot({ path: join(shots, "widget-survey-keyboard.png") });
      await page.keyboard.press("Enter");
      await frame.locator("#survey-thanks").waitFor();
      assert.equal(await focused(page), "chat: #input", "after rating the cursor is back in the message box");
      const stored = await storedMessages(conversationId);
      assert.ok(typeof stored !== "string", stored as string);
      assert.ok(
        stored.some((m) => m.event === "rated" && /4\/5: Clear and quick/.test(m.text)),
        `rated 4 with the comment, stored: ${stored.map((m) => m.text).join(" | ")}`,
      );

      // Escape minimises; the launcher has the focus again.
      await page.keyboard.press("Escape");
      await page.locator('iframe[title="Chat"]').waitFor({ state: "hidden" });
      assert.equal(await focused(page), "launcher: Open chat");
      await page.keyboard.press("Enter");
      await chatFrame(page).waitForFunction(() => document.activeElement?.id === "input");
      assert.equal(await focused(page), "chat: #input", "reopening puts the cursor back in the message box");
    } finally {
      await ctx.close();
      site.close();
    }
  });

  it("until the chat's script has started, the message box takes no input; then it does, focused", async () => {
    await asFreshVisitor(
      async (page, release) => {
        await openChat(page);
        const frame = widget(page);
        await frame.locator("#input").waitFor();
        // The hidden file input is reached only through the (disabled) paper clip.
        const before = await frame
          .locator("#composer :is(#attach, #input, #send)")
          .evaluateAll((els) => els.map((el) => `${el.id}:${(el as HTMLInputElement).disabled}`));
        assert.deepEqual(before, ["attach:true", "input:true", "send:true"], "composer before the script");
        await page.screenshot({ path: join(shots, "widget-loading.png") });
        release();
        await frame.locator("#input:enabled:focus").waitFor();
        assert.equal(await frame.locator("#composer [disabled]").count(), 0, "nothing in the composer stays disabled");
      },
      [CHAT_SCRIPT],
    );
  });

  it("clicks on the launcher while the chat is on its way open one chat, not one per click", async () => {
    // The first open waits for a new visitor session: it is held so the clicks land meanwhile.
    await asFreshVisitor(
      async (page, release) => {
        const launcher = page.locator("[data-microchat] button.l");
        await launcher.click(); // open
        await launcher.click(); // close again
        await launcher.click(); // and open
        release();
        await widget(page).locator("#input:enabled").waitFor();
        assert.equal(await page.locator('[data-microchat] iframe[title="Chat"]').count(), 1, "chat frames on the page");
        assert.equal(await launcher.getAttribute("aria-label"), "Minimise chat");
        await launcher.click();
        await page.locator('[data-microchat] iframe[title="Chat"]').waitFor({ state: "hidden" });
      },
      ["**/api/visitor/session"],
    );
  });

  it("the launcher shows what the visitor asked for at once: after a reload with the chat open and no session yet, one click minimises", async () => {
    // A session is held the way a deleted conversation's visitor meets it: the loader must fetch a new one.
    const ctx = await browser.newContext({ viewport: { width: 1100, height: 800 } });
    try {
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      await ctx.route("**/api/visitor/session", async (route) => {
        await released;
        await route.continue().catch(() => undefined); // the page may have been reloaded meanwhile
      });
      const page = await ctx.newPage();
      await page.goto(app.base + "/demo/");
      const launcher = page.locator("[data-microchat] button.l");
      await launcher.click();
      const state = () =>
        launcher.evaluate((b) => [
          b.getAttribute("aria-label"),
          b.getAttribute("aria-expanded"),
          b.getAttribute("aria-busy"),
        ]);
      assert.deepEqual(await state(), ["Minimise chat", "true", "true"], "opening, while the session is on its way");
      await page.reload();
      // The chat was open before the reload: it reopens by itself, and says so before the session is there.
      await page.locator('[data-microchat] button.l[aria-busy="true"]').waitFor();
      assert.deepEqual(await state(), ["Minimise chat", "true", "true"], "after the reload, still waiting");
      await launcher.click(); // the visitor changes their mind
      assert.deepEqual(await state(), ["Open chat", "false", "true"], "minimised at once");
      release();
      await page.locator("[data-microchat] button.l:not([aria-busy])").waitFor();
      assert.equal(
        await page.locator('[data-microchat] iframe[title="Chat"]').count(),
        0,
        "no chat opened behind the visitor's back",
      );
      await launcher.click();
      await widget(page).locator("#input:enabled").waitFor();
      assert.deepEqual(await state(), ["Minimise chat", "true", null], "open, and no longer busy");
    } finally {
      await ctx.close();
    }
  });

  it("text already in the box when the chat's script starts is kept, and a line ended with Enter is sent once", async () => {
    for (const typed of ["Sent once ready\n", "Still drafting"]) {
      await asFreshVisitor(
        async (page, release) => {
          await openChat(page);
          const frame = widget(page);
          // As if the box were usable early (a browser restoring a draft, or markup without `disabled`).
          await frame.locator("#input").evaluate((el) => ((el as HTMLTextAreaElement).disabled = false));
          await frame.locator("#input").pressSequentially(typed.trim());
          if (typed.endsWith("\n")) await frame.locator("#input").press("Enter");
          assert.equal(await frame.locator("#input").inputValue(), typed, "no script yet: Enter made a newline");
          release();
          await frame.locator("#input:enabled").waitFor();
          const session = await visitorSession(page);
          assert.ok(session);
          if (typed.endsWith("\n")) {
            await frame.locator(".m.visitor:not(.pending)", { hasText: typed.trim() }).waitFor();
            assert.equal(await frame.locator("#input").inputValue(), "", "the box is empty once the line is sent");
            const stored = await storedMessages(session.conversationId);
            assert.ok(typeof stored !== "string", stored as string);
            assert.deepEqual(
              stored.filter((m) => m.kind === "text").map((m) => m.text),
              [typed.trim()],
              "the line is stored exactly once",
            );
          } else {
            assert.equal(await frame.locator("#input").inputValue(), typed, "the draft stays in the box, unsent");
            assert.equal(await frame.locator(".m.visitor").count(), 0, "nothing was sent");
          }
        },
        [CHAT_SCRIPT],
      );
    }
  });
});
