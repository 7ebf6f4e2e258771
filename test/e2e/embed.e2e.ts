/**
 * The widget on a customer's website: host pages served by this test from
 * another site (http://localhost:<port>, while Microchat is at
 * http://127.0.0.1:<port>; so the chat is a third-party frame, its storage
 * partitioned as Chromium does by default), in a real browser:
 * - a strict Content-Security-Policy (exactly the one README.md gives site
 *   owners; no 'unsafe-inline' anywhere): drawn as designed, works, and not
 *   one console error or warning on open, close, reload or navigation;
 * - cross-origin in full: open/minimise/reopen, the unread badge, the JS API
 *   (open, close, on("message"), setUser with a hash), page views, files both
 *   ways, the survey, history after a reload;
 * - a single-page app: pushState, replaceState, popstate and hashchange are
 *   page views with the title as it is after the navigation; the chat stays open;
 * - a Turbo site (the real @hotwired/turbo, which replaces <body>): the
 *   launcher stays, the open chat keeps its state and history;
 * - storage blocked everywhere, or only for the third-party frame: the chat works;
 * - two tabs: one conversation live in both, each tab's badge right;
 * - the tag included twice and once more in <head> without async: one launcher.
 */
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { APIRequestContext, Browser, BrowserContext, Frame, FrameLocator, Page } from "playwright-core";
import type { VisitorInfo, VisitorSession } from "../../worker/protocol/index.ts";
import { freePort, startApp, type AppServer } from "./app-server.ts";
import { launch } from "./browser.ts";
import { until } from "./waits.ts";

const root = join(import.meta.dirname, "../..");
const shots = join(root, "test-results/screenshots");
const fixtures = join(import.meta.dirname, "fixtures");

let app: AppServer;
let browser: Browser;
let operator: APIRequestContext;
let site: Server;
/** The customer's site: another site than Microchat's (localhost, not 127.0.0.1). */
let shop: string;

/** The policy README.md tells site owners to use (their own sources plus Microchat's origin). */
const csp = () =>
  `default-src 'self'; script-src 'self' ${app.base}; frame-src ${app.base}; connect-src 'self' ${app.base}; ` +
  `img-src 'self'; style-src 'self'`;

const tag = (extra = "async") => `<script src="${app.base}/widget.js" data-site-key="demo" ${extra}></script>`;
const html = (title: string, body: string, head = "") =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>` +
  `<link rel="stylesheet" href="/site.css">${head}</head><body>${body}</body></html>`;

/** The host pages, by path: [html, strict CSP?]. */
const pages = (): Record<string, [string, boolean]> => ({
  "/": [html("Shop", `<h1>Shop</h1><a href="/two">Page two</a>${tag()}`), true],
  "/two": [html("Shop — page two", `<h1>Page two</h1><a href="/">Home</a>${tag()}`), true],
  // A tiny single-page app: it sets the title after it has changed the URL, as routers do.
  "/spa": [
    html(
      "Spa home",
      `<h1 id="h">Home</h1><a href="/spa/plants" data-title="Spa plants">Plants</a>
       <a href="#reviews">Reviews</a> <button id="filter">Only green</button>${tag()}`,
      `<script src="/spa.js" defer></script>`,
    ),
    true,
  ],
  "/spa.js": [
    `addEventListener("click", (e) => {
       const a = e.target.closest("a[data-title]");
       if (a) { e.preventDefault(); history.pushState({}, "", a.href); setTimeout(() => (document.title = a.dataset.title), 30); }
       if (e.target.id === "filter") { history.replaceState({}, "", "/spa/plants?color=green"); setTimeout(() => (document.title = "Spa green plants"), 30); }
     });
     addEventListener("popstate", () => location.hash || setTimeout(() => (document.title = location.pathname === "/spa" ? "Spa home" : "Spa back"), 30));
     addEventListener("hashchange", () => (document.title = "Spa reviews"));`,
    true,
  ],
  // A Turbo site: the real Turbo Drive replaces <body> on each visit.
  "/turbo/a": [
    html("Turbo A", `<h1>Page A</h1><a id="go" href="/turbo/b">To B</a>${tag()}`, `<script src="/turbo.js"></script>`),
    false,
  ],
  "/turbo/b": [
    html("Turbo B", `<h1>Page B</h1><a id="go" href="/turbo/a">To A</a>${tag()}`, `<script src="/turbo.js"></script>`),
    false,
  ],
  "/turbo.js": [readFileSync(join(root, "node_modules/@hotwired/turbo/dist/turbo.es2017-umd.js"), "utf8"), false],
  // Pasted twice in the body and once more in <head> without async.
  "/twice": [html("Twice", `<h1>Twice</h1>${tag()}${tag()}`, tag("")), true],
  "/site.css": ["body{font:16px system-ui;margin:2rem} *{box-sizing:content-box!important}", true],
});

const widget = (page: Page): FrameLocator => page.frameLocator('iframe[title="Chat"]');
const launcher = (page: Page) => page.locator("[data-microchat] button.l");
const badge = (page: Page) => page.locator("[data-microchat] .b");
const chatFrame = (page: Page): Frame => {
  const frame = page.frames().find((f) => f.url().startsWith(`${app.base}/widget/frame`));
  assert.ok(frame, `the chat frame is on ${page.url()}`);
  return frame;
};

/** Everything the browser said on the console or threw, from the page and its frames. */
function listen(page: Page): string[] {
  const said: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") said.push(`${m.type()}: ${m.text()} (${m.location().url})`);
  });
  page.on("pageerror", (err) => said.push(`thrown: ${err.message}`));
  return said;
}

async function open(page: Page): Promise<void> {
  if ((await launcher(page).getAttribute("aria-expanded")) !== "true") await launcher(page).click();
  await widget(page).locator("#input:enabled").waitFor();
}

async function minimise(page: Page): Promise<void> {
  await launcher(page).click();
  await page.locator('[data-microchat] iframe[title="Chat"]').waitFor({ state: "hidden" });
}

async function writes(page: Page, text: string): Promise<void> {
  await widget(page).locator("#input").fill(text);
  await widget(page).locator("#input").press("Enter");
  await widget(page).locator(".m.visitor:not(.pending)", { hasText: text }).waitFor();
}

/** The visitor session the loader keeps (in memory when storage is blocked: asked of the chat's first request then). */
async function sessionOf(page: Page): Promise<VisitorSession> {
  const raw = await page.evaluate(() => {
    try {
      return localStorage.getItem("microchat:session:demo");
    } catch {
      return null;
    }
  });
  assert.ok(raw, `no visitor session in ${page.url()}'s storage`);
  return JSON.parse(raw) as VisitorSession;
}

async function operatorSays(conversationId: string, text: string): Promise<void> {
  const res = await operator.post(`${app.base}/api/v1/conversations/${conversationId}/messages`, { data: { text } });
  assert.equal(res.status(), 201, await res.text());
}

async function join_(conversationId: string): Promise<void> {
  const res = await operator.post(`${app.base}/api/conversations/${conversationId}/join`);
  assert.equal(res.status(), 200, await res.text());
}

type PageView = { url: string; title: string };
/** Waits until the visitor info lists every page in `want` (url + title); fails with what it listed. */
async function expectPages(conversationId: string, want: PageView[]): Promise<void> {
  let seen: PageView[] = [];
  for (const started = Date.now(); Date.now() - started < 20_000;) {
    const res = await operator.get(`${app.base}/api/conversations/${conversationId}/visitor`);
    assert.equal(res.status(), 200, await res.text());
    seen = ((await res.json()) as { visitor: { pages: { items: PageView[] } } }).visitor.pages.items;
    if (want.every((w) => seen.some((s) => s.url === w.url && s.title === w.title))) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.fail(`page views: want ${JSON.stringify(want)}, the visitor info lists ${JSON.stringify(seen)}`);
}

/**
 * A fresh visitor (own context: own storage and cache) on the shop's `path`;
 * `init` prepares the context first. Afterwards not one console error or
 * warning may have come from the page or its frames.
 */
async function visit(
  path: string,
  fn: (page: Page, ctx: BrowserContext) => Promise<void>,
  init?: (ctx: BrowserContext) => Promise<unknown>,
): Promise<void> {
  const ctx = await browser.newContext({
    viewport: { width: 1100, height: 800 },
  });
  try {
    await init?.(ctx);
    const page = await ctx.newPage();
    const said = listen(page);
    await page.goto(shop + path);
    await fn(page, ctx);
    assert.deepEqual(said, [], `console errors or warnings on ${page.url()}`);
  } finally {
    await ctx.close();
  }
}

describe("the widget on a customer's website (another site)", () => {
  before(async () => {
    app = await startApp(undefined, { RATE_LIMITS: "off" });
    browser = await launch();
    operator = (await browser.newContext()).request;
    const setup = await operator.post(app.base + "/api/setup", {
      data: {
        name: "Olivia Operator",
        email: "olivia@example.com",
        password: "a long enough password",
      },
    });
    assert.equal(setup.status(), 201, await setup.text());
    site = createServer((req, res) => {
      const path = new URL(req.url ?? "/", "http://x").pathname;
      const found = pages()[path] ?? (path.startsWith("/spa/") ? pages()["/spa"] : undefined);
      if (!found) {
        res.writeHead(204).end(); // e.g. /favicon.ico: no 404 on the console
        return;
      }
      const type = path.endsWith(".js") ? "text/javascript" : path.endsWith(".css") ? "text/css" : "text/html";
      res.writeHead(200, {
        "Content-Type": `${type}; charset=utf-8`,
        ...(found[1] ? { "Content-Security-Policy": csp() } : {}),
      });
      res.end(found[0]);
    });
    const port = await freePort();
    await new Promise<void>((r) => site.listen(port, "127.0.0.1", r));
    shop = `http://localhost:${port}`;
  });
  after(async () => {
    await browser?.close();
    await app?.stop();
    site?.close();
  });

  it("under a strict CSP: drawn as designed, works, and no console error or warning on open, close, reload, navigation", async () => {
    await visit("/", async (page) => {
      // Styled: a round launcher fixed in the corner, not an unstyled button in the page flow.
      const box = await launcher(page).boundingBox();
      assert.ok(box, "the launcher is shown");
      assert.deepEqual(
        [box.width, box.height, Math.round(1100 - box.x - box.width), Math.round(800 - box.y - box.height)],
        [60, 60, 20, 20],
        "60×60 launcher, 20 px from the bottom right corner",
      );
      await open(page);
      const frameBox = await page.locator('[data-microchat] iframe[title="Chat"]').boundingBox();
      assert.ok(
        frameBox && frameBox.x > 600 && frameBox.width === 380,
        `the chat sits at the right: ${JSON.stringify(frameBox)}`,
      );
      await writes(page, "Hello from a strict site");
      await page.screenshot({ path: join(shots, "embed-strict-csp.png") });
      await minimise(page);
      await page.reload();
      await open(page);
      await widget(page).locator(".m.visitor", { hasText: "Hello from a strict site" }).waitFor();
      await page.goto(shop + "/two");
      await open(page);
      await widget(page).locator(".m.visitor", { hasText: "Hello from a strict site" }).waitFor();
      await minimise(page);
    });
  });

  it("cross-origin in full: open/minimise/reopen, badge, JS API, page views, files both ways, survey, history after reload", async () => {
    await visit("/", async (page) => {
      await page.evaluate(() => {
        const w = window as unknown as {
          Microchat: { on(e: string, fn: (d?: unknown) => void): void };
          __events: string[];
        };
        w.__events = [];
        for (const e of ["open", "close", "message"])
          w.Microchat.on(e, (d) => w.__events.push(e === "message" ? `message: ${(d as { text: string }).text}` : e));
      });
      // The JS API opens and closes it.
      await page.evaluate(() => (window as unknown as { Microchat: { open(): void } }).Microchat.open());
      await widget(page).locator("#input:enabled").waitFor();
      await writes(page, "Do you ship to Norway?");
      const { conversationId } = await sessionOf(page);
      await page.evaluate(() => (window as unknown as { Microchat: { close(): void } }).Microchat.close());
      await page.locator('[data-microchat] iframe[title="Chat"]').waitFor({ state: "hidden" });

      // A reply while minimised: the badge counts it, on("message") hears it.
      await join_(conversationId);
      await operatorSays(conversationId, "Yes, we do.");
      await badge(page).filter({ hasText: "1" }).waitFor();
      const [b, l] = [await badge(page).boundingBox(), await launcher(page).boundingBox()];
      assert.ok(
        b && l && b.x + b.width >= l.x + l.width - 4 && b.y <= l.y + 2 && b.width >= 20 && b.height === 20,
        `a 20 px red badge on the launcher's top right corner: badge ${JSON.stringify(b)}, launcher ${JSON.stringify(l)}`,
      );
      await page.screenshot({ path: join(shots, "embed-badge.png") });
      await open(page);
      await badge(page).waitFor({ state: "hidden" });
      await widget(page).locator(".m.operator", { hasText: "Yes, we do." }).waitFor();
      assert.deepEqual(await page.evaluate(() => (window as unknown as { __events: string[] }).__events), [
        "open",
        "close",
        "message: Yes, we do.",
        "open",
      ]);

      // Files both ways.
      await widget(page).locator("#file").setInputFiles(join(fixtures, "sunset.png"));
      await widget(page).locator(".m.visitor.file:not(.pending) img").waitFor();
      const pic = await operator.post(`${app.base}/api/conversations/${conversationId}/files`, {
        multipart: {
          clientId: "embed-pic-1",
          file: {
            name: "leaf.png",
            mimeType: "image/png",
            buffer: readFileSync(join(fixtures, "leaf.png")),
          },
        },
      });
      assert.equal(pic.status(), 201, await pic.text());
      await widget(page)
        .locator(".m.operator.file img")
        .evaluate(
          (img) =>
            new Promise((r, j) => {
              const i = img as HTMLImageElement;
              if (i.complete) return i.naturalWidth > 0 ? r(null) : j(new Error("the picture did not load"));
              i.addEventListener("load", r);
              i.addEventListener("error", () => j(new Error("the picture did not load")));
            }),
        );

      // setUser with the hash the site's server computes: verified.
      const secret = /^IDENTITY_SECRET=(.+)$/m.exec(readFileSync(join(root, ".dev.vars"), "utf8"))![1]!.trim();
      const hash = createHmac("sha256", secret).update("customer-7").digest("hex");
      const verified = await page.evaluate(
        (h) =>
          (
            window as unknown as {
              Microchat: { setUser(u: object): Promise<boolean> };
            }
          ).Microchat.setUser({
            id: "customer-7",
            name: "Nils Nordmann",
            hash: h,
          }),
        hash,
      );
      assert.equal(verified, true, "setUser with a valid hash is verified");
      await widget(page).locator("#input:enabled").waitFor();

      // History after a reload (the chat was open: it reopens by itself).
      await page.goto(shop + "/two");
      await page.reload();
      await widget(page).locator(".m.operator", { hasText: "Yes, we do." }).waitFor();
      await widget(page).locator(".m.visitor", { hasText: "Do you ship to Norway?" }).waitFor();
      const now = await sessionOf(page);
      await expectPages(now.conversationId, [
        { url: shop + "/", title: "Shop" },
        { url: shop + "/two", title: "Shop — page two" },
      ]);

      // The survey once the operator leaves.
      assert.equal(now.conversationId, conversationId, "a first login keeps the visitor's conversation");
      const left = await operator.post(`${app.base}/api/conversations/${conversationId}/leave`);
      assert.equal(left.status(), 200, await left.text());
      await widget(page).locator("#survey").waitFor();
      await widget(page).locator('.stars [data-rating="5"]').click();
      await widget(page).locator("#survey-submit").click();
      await widget(page).locator("#survey-thanks").waitFor();
      await page.screenshot({ path: join(shots, "embed-survey.png") });
    });
  });

  it("a single-page app: pushState, replaceState, popstate and hashchange are page views with their titles; the chat stays open", async () => {
    await visit("/spa", async (page) => {
      await open(page);
      await writes(page, "Browsing your plants");
      // The same chat document all along: a mark set in it now is still there after every navigation.
      await chatFrame(page).evaluate(() => ((window as unknown as { __mark: number }).__mark = 1));
      const stillOpen = async (after: string) => {
        assert.equal(await launcher(page).getAttribute("aria-expanded"), "true", `the chat is open after ${after}`);
        assert.equal(
          await chatFrame(page).evaluate(() => (window as unknown as { __mark?: number }).__mark),
          1,
          `the chat was not reloaded by ${after}`,
        );
      };
      await page.getByRole("link", { name: "Plants" }).click();
      await page.waitForFunction(() => document.title === "Spa plants");
      await stillOpen("pushState");
      await page.getByRole("button", { name: "Only green" }).click();
      await page.waitForFunction(() => document.title === "Spa green plants");
      await stillOpen("replaceState");
      await page.goBack();
      await page.waitForFunction(() => location.pathname === "/spa" && document.title === "Spa home");
      await stillOpen("popstate");
      await page.getByRole("link", { name: "Reviews" }).click();
      await page.waitForFunction(() => document.title === "Spa reviews");
      await stillOpen("hashchange");
      const { conversationId } = await sessionOf(page);
      await expectPages(conversationId, [
        { url: shop + "/spa", title: "Spa home" },
        { url: shop + "/spa/plants", title: "Spa plants" },
        { url: shop + "/spa/plants?color=green", title: "Spa green plants" },
        { url: shop + "/spa#reviews", title: "Spa reviews" },
      ]);
    });
  });

  it("a single-page app: a page's time on page that comes while its view is on its way is sent after it", async () => {
    await visit("/spa", async (page) => {
      await open(page);
      await writes(page, "Looking at plants");
      // The page load's own view has been sent and answered: the queue is empty.
      await page.waitForFunction(() => localStorage.getItem("microchat:views:demo") === "[]");
      // The next batch of page views is held on its way until the app has moved on once more.
      let release!: () => void;
      const moved = new Promise<void>((resolve) => (release = resolve));
      let held = 0;
      await page.route(`${app.base}/api/visitor/pageviews`, async (route) => {
        if (held++ === 0) await moved;
        await route.continue();
      });
      const first = page.waitForRequest((r) => r.url().endsWith("/api/visitor/pageviews"));
      await page.getByRole("link", { name: "Plants" }).click();
      const request = await first;
      let answered = false;
      void request.response().then(() => (answered = true));
      const sent = JSON.parse(request.postData() ?? "{}") as { views: { url: string; ms?: number }[] };
      const plants = sent.views.find((v) => v.url === shop + "/spa/plants");
      assert.ok(
        plants && plants.ms === undefined,
        `the plants view goes while shown, saw ${JSON.stringify(sent.views)}`,
      );
      // Leaving it gives its time on page to the queue while that batch is still on its way; then the batch is answered.
      await page.getByRole("button", { name: "Only green" }).click();
      await page.waitForFunction(() => document.title === "Spa green plants");
      assert.equal(answered, false, "the first batch is still held on its way");
      release();
      const { conversationId } = await sessionOf(page);
      const items = await until(
        async () => {
          const res = await operator.get(`${app.base}/api/conversations/${conversationId}/visitor`);
          return ((await res.json()) as { visitor: VisitorInfo }).visitor.pages.items;
        },
        (views) => views.some((v) => v.url === shop + "/spa/plants" && v.ms !== null),
        "the plants page's time on page",
      );
      assert.ok(
        items.some((v) => v.url === shop + "/spa/plants?color=green"),
        "the next view came too",
      );
    });
  });

  it("a batch of page views the server refuses as it is leaves the queue; after an ended identity only the page shown stays", async () => {
    const queued = (page: Page) =>
      page.evaluate(() =>
        (JSON.parse(localStorage.getItem("microchat:views:demo") ?? "[]") as { url: string; ms?: number }[]).map(
          (v) => `${v.url}${v.ms === undefined ? "" : " (left)"}`,
        ),
      );
    for (const [status, left] of [
      // Malformed as it is (400; or too large, 413): sent again it would be refused again, and hold up every view after it.
      [400, [] as string[]],
      // The identity ended (410: the conversation was deleted): the page left was seen under it; the page shown goes on.
      [410, ["/spa/plants"]],
    ] as const) {
      // Its own context, not visit(): the refusals it answers with are console errors by design.
      const ctx = await browser.newContext({ viewport: { width: 1100, height: 800 } });
      try {
        const page = await ctx.newPage();
        await page.goto(shop + "/spa");
        await page.waitForFunction(() => localStorage.getItem("microchat:views:demo") === "[]");
        let answered = 0;
        await page.route(`${app.base}/api/visitor/pageviews`, async (route) => {
          answered++;
          await route.fulfill({
            status,
            contentType: "application/json",
            body: '{"error":{"code":"x","message":"x"}}',
          });
        });
        await page.getByRole("link", { name: "Plants" }).click();
        await page.waitForFunction(() => document.title === "Spa plants");
        assert.deepEqual(await queued(page), [shop + "/spa (left)", shop + "/spa/plants"], "both views wait to go");
        await until(
          () => queued(page),
          (views) => answered > 0 && views.length === left.length,
          `the queue after a ${status}`,
        );
        assert.deepEqual(
          await queued(page),
          left.map((path) => shop + path),
          `the queue after a ${status}`,
        );
      } finally {
        await ctx.close();
      }
    }
  });

  it("a Turbo site replaces <body>: the launcher stays, and the open chat keeps its state and history", async () => {
    await visit("/turbo/a", async (page) => {
      await page.waitForFunction(() => "Turbo" in window);
      await page.evaluate(() => ((window as unknown as { __sameDocument: boolean }).__sameDocument = true));
      await open(page);
      await writes(page, "Hello from Turbo");
      await chatFrame(page).evaluate(() => ((window as unknown as { __mark: number }).__mark = 1));
      const body = await page.evaluateHandle(() => document.body);
      await page.locator("#go").click();
      await page.getByRole("heading", { name: "Page B" }).waitFor();
      assert.equal(await body.evaluate((b) => b.isConnected), false, "Turbo replaced the body");
      assert.equal(
        await page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument),
        true,
        "a Turbo visit, not a page load",
      );
      assert.equal(await page.locator("[data-microchat]").count(), 1, "one launcher");
      assert.equal(await launcher(page).getAttribute("aria-expanded"), "true", "the chat is still open");
      assert.equal(await chatFrame(page).evaluate(() => (window as unknown as { __mark?: number }).__mark), 1);
      await writes(page, "Now on page B");
      await widget(page).locator(".m.visitor", { hasText: "Hello from Turbo" }).waitFor();
      // Minimised, then another visit: the launcher is still there and reopens the same chat.
      await minimise(page);
      await page.locator("#go").click();
      await page.getByRole("heading", { name: "Page A" }).waitFor();
      await open(page);
      await widget(page).locator(".m.visitor", { hasText: "Now on page B" }).waitFor();
      const { conversationId } = await sessionOf(page);
      await expectPages(conversationId, [
        { url: shop + "/turbo/a", title: "Turbo A" },
        { url: shop + "/turbo/b", title: "Turbo B" },
      ]);
      await page.screenshot({ path: join(shots, "embed-turbo.png") });
    });
  });

  for (const [where, blocked] of [
    ["everywhere (cookies blocked)", "all"],
    ["for the third-party chat frame only (Safari-style)", "frame"],
  ] as const) {
    it(`storage blocked ${where}: the chat works for the visit`, async () => {
      await visit(
        "/spa",
        async (page) => {
          await open(page);
          await writes(page, `Storage blocked ${blocked}`);
          await minimise(page);
          await open(page);
          await page.getByRole("link", { name: "Plants" }).click();
          await page.waitForFunction(() => document.title === "Spa plants");
          // The operator finds the conversation by its message, joins and answers; the visitor sees it.
          const list = await operator.get(`${app.base}/api/conversations?view=unassigned&limit=50`);
          const rows = (
            (await list.json()) as {
              conversations: { id: string; preview: string }[];
            }
          ).conversations;
          const row = rows.find((r) => r.preview.includes(`Storage blocked ${blocked}`));
          assert.ok(row, `the conversation is in Unassigned: ${JSON.stringify(rows).slice(0, 300)}`);
          await join_(row.id);
          await operatorSays(row.id, `Answer to ${blocked}`);
          await widget(page)
            .locator(".m.operator", { hasText: `Answer to ${blocked}` })
            .waitFor();
          await expectPages(row.id, [
            { url: shop + "/spa", title: "Spa home" },
            { url: shop + "/spa/plants", title: "Spa plants" },
          ]);
          if (blocked === "frame") {
            // The site's own storage keeps the visitor: a reload shows the conversation.
            await page.reload();
            await open(page);
            await widget(page)
              .locator(".m.operator", { hasText: `Answer to ${blocked}` })
              .waitFor();
          }
        },
        (c) =>
          c.addInitScript(
            ([which, chat]) => {
              if (which === "frame" && location.origin !== chat) return;
              for (const name of ["localStorage", "sessionStorage"]) {
                Object.defineProperty(window, name, {
                  get() {
                    throw new DOMException("Access is denied for this document.", "SecurityError");
                  },
                });
              }
            },
            [blocked, app.base] as const,
          ),
      );
    });
  }

  it("two tabs: one conversation live in both; reading in one clears the badge in both", async () => {
    await visit("/", async (one, ctx) => {
      const two = await ctx.newPage();
      const said = listen(two);
      await open(one);
      await writes(one, "Written in tab one");
      const { conversationId } = await sessionOf(one);
      await join_(conversationId);
      await two.goto(shop + "/two");
      await open(two);
      await widget(two).locator(".m.visitor", { hasText: "Written in tab one" }).waitFor();
      await writes(two, "And this in tab two");
      await widget(one).locator(".m.visitor", { hasText: "And this in tab two" }).waitFor();
      await minimise(two);

      // Tab one has the chat open: a reply is seen there, so tab two shows no badge for it.
      await operatorSays(conversationId, "Reply one");
      await widget(one).locator(".m.operator", { hasText: "Reply one" }).waitFor();
      await widget(two).locator(".m.operator", { hasText: "Reply one" }).waitFor({ state: "attached" });
      await badge(two)
        .waitFor({ state: "hidden", timeout: 5000 })
        .catch(async () => {
          const probe = () => [document.visibilityState, localStorage.getItem("microchat:seen:demo")];
          assert.fail(
            `tab two shows a badge: tab one ${JSON.stringify(await chatFrame(one).evaluate(probe))}, tab two ${JSON.stringify(await chatFrame(two).evaluate(probe))}`,
          );
        });
      // Both minimised: the next reply is unread in both.
      await minimise(one);
      await operatorSays(conversationId, "Reply two");
      await badge(one).filter({ hasText: "1" }).waitFor();
      await badge(two).filter({ hasText: "1" }).waitFor();
      // Read in tab two: tab one's badge clears too.
      await open(two);
      await badge(two).waitFor({ state: "hidden" });
      await badge(one).waitFor({ state: "hidden" });
      assert.deepEqual(said, [], "console errors or warnings in tab two");
    });
  });

  it("included twice, and once more in <head> without async: one launcher, no errors", async () => {
    await visit("/twice", async (page) => {
      await launcher(page).waitFor();
      await page.waitForLoadState("load");
      assert.equal(await page.locator("[data-microchat]").count(), 1, "hosts on the page");
      assert.equal(await launcher(page).count(), 1, "launchers");
      await open(page);
      await writes(page, "Only one of me");
      assert.equal(await page.locator('[data-microchat] iframe[title="Chat"]').count(), 1, "chat frames");
    });
  });
});
