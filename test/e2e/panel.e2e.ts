/**
 * The operator panel keeps up with what happens, in a real browser: a visitor
 * on the demo page writes from the widget, the operator joins and answers.
 * - an email reply shows its stored subject ("Re: …") without a reload;
 * - the open conversation's list row follows reads and replies at once,
 *   before the conversation's (coalesced) index report reaches the panel;
 * - a notification names the visitor as the list does, also after a rename;
 * - a long name starting with "<" fits the row, the header and the visitor
 *   info, with its first letter as the avatar;
 * - each group of messages has its author's avatar; an anonymous visitor's
 *   letter and colour come from their id, the same in list, header and log;
 * - a returning operator's panel opens its one socket as its script starts,
 *   alongside the session check; a signed-out browser opens none;
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

/** One entry of the operator page's event log (see `recordPanelFrames`, `watchRow`). */
type Logged =
  | { kind: "upsert"; id: string; unread: number; preview: string }
  | { kind: "row"; id: string; unread: number; preview: string };

/**
 * Runs in the operator page before the panel: logs every `upsert` frame the
 * panel socket receives, in `window.__log`, before the panel handles it.
 */
function recordPanelFrames(): void {
  const w = window as unknown as {
    __log: unknown[];
    __panelSockets: number[];
    __panelSocketsWhile: string[];
    __firstDrawn: number | null;
  };
  w.__log = [];
  w.__panelSockets = [];
  // The document's readyState as each panel socket was opened: "loading" while the page is still parsed (the
  // <head>'s classic script), "interactive" or later once the module script runs.
  w.__panelSocketsWhile = [];
  // When the panel first drew into #root (its script has run by then).
  w.__firstDrawn = null;
  const drawn = new MutationObserver(() => {
    if (!document.getElementById("root")?.firstChild) return;
    w.__firstDrawn = performance.now();
    drawn.disconnect();
  });
  drawn.observe(document, { childList: true, subtree: true });
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      if (!String(url).includes("/ws/panel")) return;
      w.__panelSockets.push(performance.now());
      w.__panelSocketsWhile.push(document.readyState);
      this.addEventListener("message", (e) => {
        const f = JSON.parse(String(e.data)) as {
          type: string;
          conversation?: { id: string; unread: number; preview: string };
        };
        if (f.type === "upsert" && f.conversation) {
          const { id, unread, preview } = f.conversation;
          w.__log.push({ kind: "upsert", id, unread, preview });
        }
      });
    }
  };
}

/** Logs each change of the Mine row of conversation `id` (unread badge, preview) in `window.__log`, as the DOM changes. */
async function watchRow(id: string): Promise<void> {
  await operator.evaluate((id) => {
    const w = window as unknown as { __log: unknown[] };
    let last = "";
    const look = () => {
      const row = document.querySelector(`[data-testid="mine-list"] [data-conversation-id="${id}"]`);
      if (!row) return;
      const unread = Number(row.querySelector('[data-testid="unread-badge"]')?.textContent ?? 0);
      const preview = row.querySelector(".row-preview")?.textContent ?? "";
      const key = `${unread}\n${preview}`;
      if (key === last) return;
      last = key;
      w.__log.push({ kind: "row", id, unread, preview });
    };
    look();
    new MutationObserver(look).observe(document.body, { subtree: true, childList: true, characterData: true });
  }, id);
}

/** Opens the chat on `page` and waits until its script runs (the input is in the page's HTML before that). */
async function openChat(page: Page): Promise<void> {
  await page.locator("[data-microchat]").locator('button[aria-label="Open chat"]').click();
  await widget(page).locator("#input").waitFor();
  const frame = page.frames().find((f) => new URL(f.url()).pathname.startsWith("/widget/frame"));
  assert.ok(
    frame,
    `the chat frame is loaded (frames: ${page
      .frames()
      .map((f) => f.url())
      .join(", ")})`,
  );
  await frame.waitForFunction(() => document.readyState === "complete");
}

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

/**
 * The panel sockets the page opened (when, ms after navigation), when the panel first drew, and each request for
 * the first screen's two answers (what asked it: the page's preload is "link", a script's fetch "fetch").
 */
const socketTimes = (page: Page) =>
  page.evaluate(() => {
    const w = window as unknown as {
      __panelSockets: number[];
      __panelSocketsWhile: string[];
      __firstDrawn: number | null;
    };
    const asked = (path: string) =>
      (performance.getEntriesByType("resource") as PerformanceResourceTiming[])
        .filter((e) => new URL(e.name).pathname === path)
        .map((e) => e.initiatorType);
    return {
      sockets: w.__panelSockets,
      socketsWhile: w.__panelSocketsWhile,
      firstDrawn: w.__firstDrawn,
      me: asked("/api/auth/me"),
      setup: asked("/api/setup"),
    };
  });

describe("the panel keeps up", () => {
  before(async () => {
    app = await startApp();
    browser = await launch();
    const operatorCtx = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    await operatorCtx.addInitScript(recordPanelFrames);
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
    await openChat(visitor);
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

  it("the open conversation's row follows its read and its reply at once, before the index reports them", async () => {
    const row = operator.getByTestId("mine-list").getByTestId("conversation-row").filter({ hasText: "Nora" });
    const id = (await row.getAttribute("data-conversation-id"))!;
    // Close it, and let the visitor write: the row shows one unread message.
    await operator.getByTestId("nav-conversations").click();
    await operator.locator(".window-empty").waitFor();
    await visitorSays("Thanks! Is the invoice paid already?");
    await row
      .filter({ hasText: "Is the invoice paid already?" })
      .getByTestId("unread-badge")
      .waitFor({ timeout: 10_000 });
    assert.equal((await row.getByTestId("unread-badge").innerText()).trim(), "1");

    await watchRow(id);
    await row.locator(".row-link").click();
    await operator.getByTestId("message").filter({ hasText: "Is the invoice paid already?" }).waitFor();
    await operator.getByTestId("channel-chat").click();
    await operator.getByTestId("composer").fill("Yes, it is paid.");
    await operator.getByTestId("composer").press("Enter");
    await operator.locator('[data-testid="message"][data-status="sent"]', { hasText: "Yes, it is paid." }).waitFor();
    // Wait for the index to report the reply too, so the whole order is in the log.
    await operator.waitForFunction(
      (id) =>
        (window as unknown as { __log: Logged[] }).__log.some(
          (e) => e.kind === "upsert" && e.id === id && e.preview === "Yes, it is paid.",
        ),
      id,
      { timeout: 15_000 },
    );
    const all = (await operator.evaluate(() => (window as unknown as { __log: Logged[] }).__log)).filter(
      (e) => e.id === id,
    );
    // From the index's word on the new visitor message on (earlier replies had unread 0 too).
    const log = all.slice(all.findIndex((e) => e.preview.includes("Is the invoice paid already?")));
    const story = log.map((e) => `${e.kind}: unread ${e.unread}, ${JSON.stringify(e.preview)}`).join("\n");
    const first = (pred: (e: Logged) => boolean) => log.findIndex(pred);
    const rowRead = first((e) => e.kind === "row" && e.unread === 0);
    const indexRead = first((e) => e.kind === "upsert" && e.unread === 0);
    assert.ok(rowRead >= 0 && rowRead < indexRead, `the row lost its unread badge before the index said so:\n${story}`);
    const rowReply = first((e) => e.kind === "row" && e.preview.includes("Yes, it is paid."));
    const indexReply = first((e) => e.kind === "upsert" && e.preview === "Yes, it is paid.");
    assert.ok(rowReply >= 0 && rowReply < indexReply, `the row showed the reply before the index did:\n${story}`);
    // And no older index row took it back afterwards.
    assert.equal((await row.locator(".row-preview").innerText()).trim(), "Reply: Yes, it is paid.");
    assert.equal(await row.getByTestId("unread-badge").count(), 0);
  });

  it("a notification and the list row use one current name for the visitor", async () => {
    const other = await (await browser.newContext({ viewport: { width: 1100, height: 860 } })).newPage();
    await other.goto(app.base + "/demo/");
    await openChat(other);
    await widget(other).locator("#input").fill("Do you sell gift cards?");
    await widget(other).locator("#input").press("Enter");
    try {
      await widget(other).locator(".m.visitor:not(.pending)", { hasText: "gift cards" }).waitFor({ timeout: 10000 });
    } catch (e) {
      await other.screenshot({ path: join(shots, "DEBUG-other.png") });
      console.log("DEBUG", await widget(other).locator("body").innerHTML());
      throw e;
    }

    const toast = operator.getByTestId("notify-toast").filter({ hasText: "Do you sell gift cards?" });
    await toast.waitFor({ timeout: 10_000 });
    const row = operator
      .getByTestId("unassigned-list")
      .getByTestId("conversation-row")
      .filter({ hasText: "gift cards" });
    const anonymous = (await row.locator(".row-name").innerText()).trim();
    assert.match(anonymous, /^Visitor #/);
    assert.equal((await toast.locator(".notify-name").innerText()).trim(), anonymous);

    // The visitor tells their name: the row and the toast both say it.
    await widget(other).locator("#pname").fill("Bjørn");
    await widget(other).locator("#profile button[type=submit]").click();
    await textBecomes(row.locator(".row-name"), /^Bjørn$/, "the list row's name");
    await textBecomes(toast.locator(".notify-name"), /^Bjørn$/, "the notification's name");
    assert.equal(await toast.getByTestId("notify-view").getAttribute("aria-label"), "View the conversation with Bjørn");
    await operator.screenshot({ path: join(shots, "notification-renamed.png") });
    await toast.getByRole("button", { name: "Dismiss the notification about Bjørn" }).click();
    await toast.waitFor({ state: "detached" });
    await other.close();
  });

  it("a long name starting with '<' fits the row, the header and the visitor info; its avatar is its first letter", async () => {
    const long = "<Zed> " + "Wolfeschlegelsteinhausenbergerdorff".repeat(2);
    assert.ok(long.length <= 80, "within the 80-character limit on names");
    const other = await (await browser.newContext({ viewport: { width: 1100, height: 860 } })).newPage();
    await other.goto(app.base + "/demo/");
    await openChat(other);
    await widget(other).locator("#input").fill("My name is rather long");
    await widget(other).locator("#input").press("Enter");
    await widget(other).locator(".m.visitor:not(.pending)", { hasText: "rather long" }).waitFor();
    await widget(other).locator("#pname").fill(long);
    await widget(other).locator("#profile button[type=submit]").click();

    const row = operator
      .getByTestId("unassigned-list")
      .getByTestId("conversation-row")
      .filter({ hasText: "rather long" });
    await textBecomes(row.locator(".row-name"), /Wolfeschlegel/, "the row's name");
    await row.locator(".row-link").click();
    const header = operator.getByTestId("conversation-header");
    await header.filter({ hasText: "Wolfeschlegel" }).waitFor();
    const info = operator.getByTestId("visitor-identity");
    await info.filter({ hasText: "Wolfeschlegel" }).waitFor();

    assert.equal((await row.locator(".avatar").innerText()).trim(), "Z", "the row's avatar letter");
    assert.equal((await header.locator(".avatar").innerText()).trim(), "Z", "the header's avatar letter");
    assert.equal(await row.locator(".row-name").getAttribute("title"), long);
    assert.equal(await header.locator(".window-name").getAttribute("title"), long);
    /** Width a box needs beyond the width it has (0 when its content fits). */
    const overflow = (l: Locator) => l.evaluate((el) => el.scrollWidth - el.clientWidth);
    for (const [what, box] of [
      ["the list row", row],
      ["the conversation header", header],
      ["the visitor info", operator.getByTestId("visitor-info")],
    ] as const) {
      assert.equal(await overflow(box), 0, `${what} does not overflow`);
    }
    assert.equal(await info.locator("dd").first().innerText(), long, "the visitor info shows the whole name");
    const dd = await info.locator("dd").first().boundingBox();
    const aside = await operator.getByTestId("visitor-info").boundingBox();
    assert.ok(
      dd && aside && dd.x + dd.width <= aside.x + aside.width,
      `the name stays in the panel: ${JSON.stringify({ dd, aside })}`,
    );
    await operator.screenshot({ path: join(shots, "long-name.png") });
    await other.close();
  });

  it("each group of messages has its author's avatar; an anonymous visitor's letter and colour come from their id", async () => {
    const other = await (await browser.newContext({ viewport: { width: 1100, height: 860 } })).newPage();
    await other.goto(app.base + "/demo/");
    await openChat(other);
    for (const text of ["Do you ship cacti to Tromsø?", "And to Svalbard?"]) {
      await widget(other).locator("#input").fill(text);
      await widget(other).locator("#input").press("Enter");
      await widget(other).locator(".m.visitor:not(.pending)", { hasText: text }).waitFor();
    }
    const row = operator.getByTestId("unassigned-list").getByTestId("conversation-row").filter({ hasText: "Svalbard" });
    await row.waitFor({ timeout: 10_000 });
    await row.getByTestId("join-button").click();
    await operator.getByTestId("leave-button").waitFor();
    await operator.getByTestId("channel-chat").click();
    for (const text of ["Yes to Tromsø.", "Svalbard too, by boat."]) {
      await operator.getByTestId("composer").fill(text);
      await operator.getByTestId("composer").press("Enter");
      await operator.locator('[data-testid="message"][data-status="sent"]', { hasText: text }).waitFor();
    }
    await widget(other).locator("#input").fill("Lovely, thanks!");
    await widget(other).locator("#input").press("Enter");
    await operator.getByTestId("message").filter({ hasText: "Lovely, thanks!" }).waitFor();

    // One avatar per group: visitor (2 messages), operator (2), visitor (1); none on the join event.
    const messages = operator.locator('.messages [data-testid="message"]');
    const groups = await messages.evaluateAll((els) =>
      els.map((el) => ({
        text: el.querySelector(".bubble")?.textContent ?? el.textContent ?? "",
        avatar: el.querySelector(':scope > [data-testid="message-avatar"]')?.textContent ?? null,
      })),
    );
    const expected = [
      ["Do you ship cacti to Tromsø?", "visitor"],
      ["And to Svalbard?", null],
      ["Yes to Tromsø.", "O"],
      ["Svalbard too, by boat.", null],
      ["Lovely, thanks!", "visitor"],
    ] as const;
    const id = (await operator.getByTestId("visitor-id").innerText()).trim();
    const letter = /[A-Za-z0-9]/.exec(id)![0].toUpperCase();
    const seen = groups.filter((g) => expected.some(([t]) => g.text.includes(t)));
    assert.deepEqual(
      seen.map((g) => g.avatar),
      expected.map(([, a]) => (a === "visitor" ? letter : a)),
      `avatars beside the messages: ${JSON.stringify(groups)}`,
    );

    // The anonymous visitor's letter and colour are the same in the row, the header and the log.
    const looks = async (l: Locator) =>
      l.evaluate((el) => `${el.textContent?.trim()} ${getComputedStyle(el).backgroundColor}`);
    const inLog = await looks(operator.locator('[data-testid="message-avatar"][data-role="visitor"] .avatar').first());
    const inRow = await looks(
      operator.getByTestId("mine-list").locator(`[data-conversation-id] .avatar`).filter({ hasText: letter }).first(),
    );
    const inHeader = await looks(operator.getByTestId("conversation-header").locator(".avatar"));
    assert.equal(inHeader, inLog, "header and log");
    assert.equal(inRow, inLog, "list row and log");
    assert.notEqual(inLog.split(" ").slice(1).join(" "), "rgba(0, 0, 0, 0)", "the avatar has a colour");
    await operator.screenshot({ path: join(shots, "conversation-avatars.png") });

    // The same after a reload: it comes from the id, not from the session.
    await operator.reload();
    await operator.getByTestId("message").filter({ hasText: "Lovely, thanks!" }).waitFor();
    assert.equal(await looks(operator.getByTestId("conversation-header").locator(".avatar")), inLog);
    await operator.setViewportSize({ width: 360, height: 760 });
    // On a phone the header's name, Leave and actions each keep their own room: none overlaps another or the edge,
    // and the name and the status line are read whole, not cut to a letter or two beside the buttons.
    const boxes = await operator.getByTestId("conversation-header").evaluate((header) => {
      const edge = header.getBoundingClientRect();
      return [...header.querySelectorAll<HTMLElement>(".window-name, button")]
        .filter((el) => el.offsetParent !== null)
        .map((el) => {
          const r = el.getBoundingClientRect();
          const name = el.getAttribute("data-testid") ?? el.getAttribute("aria-label") ?? el.className;
          return {
            name,
            left: r.left,
            right: r.right,
            top: r.top,
            bottom: r.bottom,
            inside: r.right <= edge.right + 0.5,
          };
        });
    });
    for (const b of boxes) assert.ok(b.inside, `${b.name} runs past the header's edge`);
    for (const [i, a] of boxes.entries())
      for (const b of boxes.slice(i + 1)) {
        const overlap =
          a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5;
        assert.ok(!overlap, `${a.name} overlaps ${b.name} in the phone header: ${JSON.stringify([a, b])}`);
      }
    const cut = await operator
      .getByTestId("conversation-header")
      .evaluate((header) =>
        [...header.querySelectorAll<HTMLElement>(".window-name, .window-status")]
          .filter((el) => el.scrollWidth > el.clientWidth + 1)
          .map((el) => `${el.className}: "${el.textContent}" needs ${el.scrollWidth}px, has ${el.clientWidth}px`),
      );
    assert.deepEqual(cut, [], "cut short in the phone header");
    await operator.screenshot({ path: join(shots, "conversation-avatars-360.png") });
    await operator.setViewportSize({ width: 1280, height: 860 });
    await other.close();
  });

  it("a returning operator's panel asks its session with the page and opens its one socket while the page is parsed; a signed-out browser opens none", async () => {
    await operator.setViewportSize({ width: 1280, height: 860 });
    await operator.goto(app.base + "/conversations");
    await operator.getByTestId("mine-list").getByTestId("conversation-row").first().waitFor();
    const seen = await socketTimes(operator);
    assert.equal(seen.sockets.length, 1, `panel sockets opened: ${JSON.stringify(seen)}`);
    assert.deepEqual(seen.socketsWhile, ["loading"], `opened by the page's first script: ${JSON.stringify(seen)}`);
    assert.ok(
      seen.firstDrawn !== null && seen.sockets[0]! < seen.firstDrawn,
      `the socket left before the panel first drew, not after the session answer: ${JSON.stringify(seen)}`,
    );
    // Asked by the page's preloads while the script was on its way, and taken by the script: once each.
    assert.deepEqual({ me: seen.me, setup: seen.setup }, { me: ["link"], setup: ["link"] }, JSON.stringify(seen));

    const stranger = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    await stranger.addInitScript(recordPanelFrames);
    const page = await stranger.newPage();
    await page.goto(app.base + "/conversations");
    await page.getByTestId("login-form").waitFor();
    assert.deepEqual((await socketTimes(page)).sockets, [], "no panel socket before anyone signs in");
    await stranger.close();
  });
});
