/**
 * The visitor's session in a real browser, on a customer's site of its own
 * origin embedding the widget from ours:
 * - the token reaches the chat by postMessage, never in its URL, and the
 *   loader hands it to nobody but its own chat frame;
 * - Microchat.logout(): the token is revoked, the chat's socket closes, the
 *   browser forgets the visitor and the chat starts afresh and empty;
 * - an expired token is refused with a clear error and the chat starts afresh;
 * - a token due for rotation is replaced, and the loader keeps the new one.
 * Screenshots go to test-results/screenshots.
 */
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { APIRequestContext, Browser, FrameLocator, Page } from "playwright-core";
import type { Message, VisitorSession } from "../../worker/protocol/index.ts";
import { freePort, startApp, type AppServer } from "./app-server.ts";
import { launch } from "./browser.ts";
import { until } from "./waits.ts";

const shots = join(import.meta.dirname, "../../test-results/screenshots");
mkdirSync(shots, { recursive: true });
const DAY = 24 * 3600 * 1000;

let app: AppServer;
let browser: Browser;
let operator: APIRequestContext;
let site: Server;
/** The customer's site: another origin than the app's. */
let shop: string;

const widget = (page: Page): FrameLocator => page.frameLocator('iframe[title="Chat"]');

/** The session the loader keeps in the customer's site's storage. */
async function held(page: Page): Promise<VisitorSession | null> {
  const raw = await page.evaluate(() => localStorage.getItem("microchat:session:demo"));
  return raw ? (JSON.parse(raw) as VisitorSession) : null;
}

async function storedTexts(conversationId: string): Promise<string[] | string> {
  const res = await operator.get(`${app.base}/api/conversations/${conversationId}/messages?limit=100`);
  if (!res.ok()) return `HTTP ${res.status()}`;
  return ((await res.json()) as { messages: Message[] }).messages.map((m) => m.text);
}

/** A token as the server signs one (the secret `npm start` wrote to .dev.vars), from `token`'s claims with `life`. */
function resigned(token: string, life: Record<string, number>): string {
  const secret = /^SESSION_SECRET=(.+)$/m.exec(readFileSync(join(import.meta.dirname, "../../.dev.vars"), "utf8"))![1]!;
  const claims = JSON.parse(Buffer.from(token.split(".")[0]!, "base64url").toString()) as object;
  const body = Buffer.from(JSON.stringify({ ...claims, ...life })).toString("base64url");
  return `${body}.${createHmac("sha256", secret.trim()).update(body).digest("base64url")}`;
}

/** A visitor on the shop page with the chat open, having written `text`. */
async function chatting(page: Page, text: string): Promise<VisitorSession> {
  await page.goto(shop);
  await page.locator("[data-microchat]").locator('button[aria-label="Open chat"]').click();
  const frame = widget(page);
  await frame.locator("#input:enabled").fill(text);
  await frame.locator("#input").press("Enter");
  await frame.locator(".m.visitor:not(.pending)", { hasText: text }).waitFor();
  const session = await held(page);
  assert.ok(session, "the loader keeps a session");
  return session;
}

async function inFreshBrowser<T>(fn: (page: Page) => Promise<T>): Promise<T> {
  const ctx = await browser.newContext({ viewport: { width: 1000, height: 760 } });
  try {
    return await fn(await ctx.newPage());
  } finally {
    await ctx.close();
  }
}

describe("the visitor's session in the browser", { timeout: 300_000 }, () => {
  before(async () => {
    app = await startApp();
    browser = await launch();
    operator = (await browser.newContext()).request;
    const setup = await operator.post(app.base + "/api/setup", {
      data: { name: "Olivia Operator", email: "olivia@example.com", password: "a long enough password" },
    });
    assert.equal(setup.status(), 201, await setup.text());
    site = createServer((_req, res) => {
      res.writeHead(200, { "Content-Type": "text/html" });
      res.end(`<!doctype html><title>Shop</title><h1>Shop</h1>
<iframe id="ad" title="Advert" srcdoc="<p>An advert</p>"></iframe>
<script src="${app.base}/widget.js" data-site-key="demo" async></script>`);
    });
    const port = await freePort();
    await new Promise<void>((r) => site.listen(port, "127.0.0.1", r));
    shop = `http://127.0.0.1:${port}/`;
  });
  after(async () => {
    site?.close();
    await browser?.close();
    await app?.stop();
  });

  it("the token reaches the chat by postMessage, never in its URL, and only the chat frame gets it", async () => {
    await inFreshBrowser(async (page) => {
      const session = await chatting(page, "Hello from the shop");
      const src = await page
        .locator('[data-microchat] iframe[title="Chat"]')
        .evaluate((f) => (f as HTMLIFrameElement).src);
      assert.ok(!src.includes(session.token) && !/[#&]s=/.test(src), `the chat's URL carries no token: ${src}`);
      assert.deepEqual(await storedTexts(session.conversationId), ["Hello from the shop"]);

      // Another frame on the page (an advert, say) asks the loader for the session the way the chat does.
      // It then asks the page for an echo: messages are handled in order, so any answer of the loader's
      // to the advert would arrive before the echo.
      const got = await page.evaluate(
        () =>
          new Promise<string[]>((resolve) => {
            const ad = (document.getElementById("ad") as HTMLIFrameElement).contentWindow!;
            const seen: string[] = [];
            window.addEventListener("message", (e) => {
              if (e.source === ad && (e.data as { echo?: boolean })?.echo) ad.postMessage({ echoed: true }, "*");
            });
            ad.addEventListener("message", (e) => {
              const data = e.data as { echoed?: boolean; microchat?: string };
              if (data?.echoed) resolve(seen);
              else seen.push(JSON.stringify(data));
            });
            (ad as unknown as { eval(s: string): void }).eval(
              'parent.postMessage({ microchat: "getSession" }, "*"); parent.postMessage({ echo: true }, "*");',
            );
          }),
      );
      assert.deepEqual(got, [], "what the advert frame received besides the echo");
    });
  });

  it("Microchat.logout(): the token is revoked, the socket closes, and the chat starts afresh and empty", async () => {
    await inFreshBrowser(async (page) => {
      const before = await chatting(page, "My order number is 4711");
      const confirmed = await page.evaluate(() =>
        (window as unknown as { Microchat: { logout(): Promise<boolean> } }).Microchat.logout(),
      );
      assert.equal(confirmed, true, "the server confirmed the logout");

      const frame = widget(page);
      await frame.locator("#input:enabled").waitFor();
      const next = await until(
        () => held(page),
        (s) => s !== null && s.conversationId !== before.conversationId,
        "a new session in the site's storage",
      );
      assert.equal(await frame.locator(".m").count(), 0, "no message of the logged-out visitor is shown");
      assert.ok(await frame.locator("#empty").isVisible(), "the empty chat greets the next visitor");
      await page.screenshot({ path: join(shots, "widget-after-logout.png") });

      // The old token reads nothing any more.
      const old = await fetch(`${app.base}/api/visitor/messages`, {
        headers: { Authorization: `Bearer ${before.token}` },
      });
      assert.equal(old.status, 401, "the logged-out token is refused");

      await frame.locator("#input").fill("A new visitor here");
      await frame.locator("#input").press("Enter");
      await frame.locator(".m.visitor:not(.pending)", { hasText: "A new visitor here" }).waitFor();
      assert.deepEqual(await storedTexts(before.conversationId), ["My order number is 4711"]);
      assert.deepEqual(await storedTexts(next!.conversationId), ["A new visitor here"]);
    });
  });

  it("an expired token is refused with a clear error, and the chat starts afresh", async () => {
    await inFreshBrowser(async (page) => {
      const first = await chatting(page, "Written a month ago");
      const expired = resigned(first.token, { iat: Date.now() - 31 * DAY, exp: Date.now() - DAY });
      await page.evaluate((s) => localStorage.setItem("microchat:session:demo", JSON.stringify(s)), {
        ...first,
        token: expired,
      });
      const answers: string[] = [];
      page.on("response", (res) => {
        if (res.url().includes("/api/visitor/")) answers.push(`${res.status()} ${new URL(res.url()).pathname}`);
      });
      // The chat was open, so the reloaded page opens it again.
      await page.reload();
      const frame = widget(page);
      await frame.locator("#input:enabled").fill("Back again");
      await frame.locator("#input").press("Enter");
      await frame.locator(".m.visitor:not(.pending)", { hasText: "Back again" }).waitFor();
      // The browser's use of the token was refused (the loader's page views or the chat's ticket, whichever came
      // first; a keepalive request's body cannot be read here), and what the server says to it is plain.
      assert.ok(
        answers.some((a) => a.startsWith("401 ")),
        `a request with the expired token was refused: ${JSON.stringify(answers)}`,
      );
      const said = await fetch(`${app.base}/api/visitor/ticket`, {
        method: "POST",
        headers: { Authorization: `Bearer ${expired}` },
      });
      assert.equal(said.status, 401);
      assert.deepEqual(await said.json(), {
        error: { code: "token_expired", message: "Your chat session has expired; start a new one" },
      });
      const now = await held(page);
      assert.ok(now && now.conversationId !== first.conversationId, "a new conversation");
      assert.equal(await frame.locator(".m", { hasText: "Written a month ago" }).count(), 0);
      assert.deepEqual(await storedTexts(now.conversationId), ["Back again"]);
    });
  });

  it("a token due for rotation is replaced, and the site's storage keeps the new one", async () => {
    await inFreshBrowser(async (page) => {
      const first = await chatting(page, "Written two days ago");
      const old = resigned(first.token, { iat: Date.now() - 2 * DAY, exp: Date.now() + 28 * DAY });
      await page.evaluate((s) => localStorage.setItem("microchat:session:demo", JSON.stringify(s)), {
        ...first,
        token: old,
      });
      // The chat was open, so the reloaded page opens it again.
      await page.reload();
      await widget(page).locator(".m.visitor", { hasText: "Written two days ago" }).waitFor();
      const now = await until(
        () => held(page),
        (s) => s !== null && s.token !== old,
        "the rotated token in the site's storage",
      );
      assert.equal(now!.conversationId, first.conversationId, "the same conversation");
      const claims = JSON.parse(Buffer.from(now!.token.split(".")[0]!, "base64url").toString()) as { iat: number };
      assert.ok(Date.now() - claims.iat < DAY, "the new token was issued now");
    });
  });
});
