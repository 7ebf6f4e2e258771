/**
 * Stored XSS in a real browser: hostile payloads sent as chat text, visitor
 * name, email subject, email HTML and file names must display as text in the
 * panel and the widget, and nothing may execute (window.__pwned stays unset).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser, FrameLocator, Page } from "playwright-core";
import { startApp, type AppServer } from "./app-server.ts";
import { launch } from "./browser.ts";
import { imagesSettled } from "./waits.ts";

const P = "window.__pwned=1";
export const PAYLOADS = [
  `<script>${P}</script>`,
  `<img src=x onerror="${P}">`,
  `<svg onload="${P}">`,
  `<svg><script>${P}</script></svg>`,
  `"><script>${P}</script>`,
  `'><img src=x onerror=${P}>`,
  `<a href="javascript:${P}">click me</a>`,
  `javascript:${P}`,
  `<iframe src="javascript:${P}"></iframe>`,
  `<body onload=${P}>`,
  `<details open ontoggle=${P}>`,
  `<math><mtext><table><mglyph><style><img src=x onerror=${P}>`,
  `<input autofocus onfocus=${P}>`,
  `<video><source onerror=${P}>`,
  `<object data="javascript:${P}">`,
  `<embed src="javascript:${P}">`,
  `<marquee onstart=${P}>`,
  `<div style="background:url(javascript:${P})">x</div>`,
  `{{constructor.constructor('${P}')()}}`,
  "${" + P + "}",
  `<scr<script>ipt>${P}</scr</script>ipt>`,
  `<img src="x" onerror="&#119;indow.__pwned=1">`,
  `<IMG SRC=x OnErRoR=${P}>`,
  `<svg><animate onbegin=${P} attributeName=x dur=1s>`,
  `<form action="javascript:${P}"><button>go</button></form>`,
  `<base href="javascript:${P}//">`,
  `<meta http-equiv="refresh" content="0;url=javascript:${P}">`,
  `<link rel=import href="data:text/html,<script>${P}</script>">`,
  "\u202Egnp.exe <b>RTL override</b>",
  `<img src=x onerror=${P}`,
  `<style>*{display:none}</style>`,
  `<noscript><p title="</noscript><img src=x onerror=${P}>">`,
  "A".repeat(3000) + `<script>${P}</script>`,
];

let app: AppServer;
let browser: Browser;
let operator: Page;
let visitor: Page;
const pwned = (page: Page) => page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned);
const widget = (page: Page): FrameLocator => page.frameLocator('iframe[title="Chat"]');

describe("stored XSS", () => {
  before(async () => {
    app = await startApp();
    browser = await launch();
    const operatorCtx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    // Count CSP violations in the panel (there must be none).
    await operatorCtx.addInitScript(() => {
      const w = window as unknown as { __cspViolations: number };
      w.__cspViolations = 0;
      document.addEventListener("securitypolicyviolation", () => w.__cspViolations++);
    });
    operator = await operatorCtx.newPage();
    visitor = await (await browser.newContext({ viewport: { width: 1100, height: 900 } })).newPage();
    const dialogs: string[] = [];
    for (const page of [operator, visitor]) page.on("dialog", (d) => (dialogs.push(d.message()), void d.dismiss()));
    await operator.goto(app.base + "/");
    const form = operator.getByTestId("setup-form");
    await form.locator("input[name=name]").fill("Olivia");
    await form.locator("input[name=email]").fill("olivia@example.com");
    await form.locator("input[name=password]").fill("a long enough password");
    await form.locator("input[name=confirm]").fill("a long enough password");
    await form.getByRole("button", { name: /create/i }).click();
    await operator.getByTestId("unassigned-list").waitFor();
  });
  after(async () => {
    await browser?.close();
    await app?.stop();
  });

  it(`${PAYLOADS.length} hostile payloads as chat text and a hostile visitor name show as text; nothing runs`, async () => {
    assert.ok(PAYLOADS.length >= 30);
    await visitor.goto(app.base + "/demo/");
    await visitor.locator("[data-microchat]").locator('button[aria-label="Open chat"]').click();
    const frame = widget(visitor);
    for (const payload of PAYLOADS) {
      await frame.locator("#input").fill(payload);
      await frame.locator("#input").press("Enter");
    }
    // Rate limits may hold some back; the widget resends them until all are stored.
    await frame.locator(".m.visitor.pending").first().waitFor({ state: "detached", timeout: 60_000 });
    await frame.locator("#pname").fill(`<img src=x onerror="${P}">Eve`);
    await frame.locator("#profile button[type=submit]").click();

    const row = operator.getByTestId("unassigned-list").getByTestId("conversation-row").first();
    await row.waitFor({ timeout: 10_000 });
    await row.getByTestId("join-button").click();
    await operator.getByTestId("leave-button").waitFor();
    await operator.getByTestId("message").filter({ hasText: "<script>window.__pwned=1</script>" }).first().waitFor();
    await operator.getByTestId("conversation-header").filter({ hasText: "Eve" }).waitFor();
    assert.ok((await operator.getByTestId("conversation-header").innerText()).includes("<img src=x"));
    await imagesSettled(operator);
    await imagesSettled(visitor);
    assert.equal(await pwned(operator), undefined, "nothing ran in the panel");
    assert.equal(
      await frame.locator("body").evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned),
      undefined,
    );
    assert.equal(
      await operator.locator("#root img[src=x], #root svg[onload], #root iframe[src^=javascript]").count(),
      0,
    );
    assert.equal(await frame.locator("img[src=x]").count(), 0);
    await operator.screenshot({ path: join(import.meta.dirname, "../../test-results/screenshots/xss-panel.png") });
  });

  it("hostile email subjects, HTML bodies and file names stay inert", async () => {
    const boundary = "xss";
    const parts = PAYLOADS.slice(0, 10)
      .map(
        (p, i) =>
          `--${boundary}\r\nContent-Type: text/plain; name="${p.replace(/"/g, "")}.txt"\r\nContent-Disposition: attachment; filename="${i}${p.replace(/"/g, "").replace(/[\r\n]/g, "")}.txt"\r\n\r\nplain text ${i}\r\n`,
      )
      .join("");
    const mail = [
      `From: "<img src=x onerror=${P}>" <mallory@example.org>`,
      "To: support@microchat.example",
      `Subject: <script>${P}</script> <svg onload=${P}>`,
      "Message-ID: <xss-1@example.org>",
      "MIME-Version: 1.0",
      `Content-Type: multipart/mixed; boundary="${boundary}"`,
      "",
      `--${boundary}`,
      "Content-Type: text/html; charset=utf-8",
      "",
      PAYLOADS.join("<br>"),
      parts + `--${boundary}--`,
      "",
    ].join("\r\n");
    const res = await fetch(`${app.base}/cdn-cgi/handler/email?from=mallory@example.org&to=support@microchat.example`, {
      method: "POST",
      body: mail,
    });
    assert.equal(res.status, 200);
    const row = operator
      .getByTestId("unassigned-list")
      .getByTestId("conversation-row")
      .filter({ hasText: "<img src=x onerror" });
    await row.waitFor({ timeout: 10_000 });
    await row.click();
    await operator.getByTestId("email-badge").first().waitFor();
    await operator.getByText("<script>window.__pwned=1</script>", { exact: false }).first().waitFor();
    // The mail has an HTML part, so its formatted view must be offered; open it.
    await operator
      .getByRole("button", { name: /formatted/i })
      .first()
      .click();
    await operator.frameLocator('[data-testid="email-frame"]').locator("body").waitFor();
    await imagesSettled(operator);
    assert.equal(await pwned(operator), undefined, "nothing ran in the panel");
    const frames = operator.frames().filter((f) => f !== operator.mainFrame());
    assert.ok(frames.length > 0, "the formatted mail is in a frame");
    for (const f of frames) {
      assert.equal(
        await f.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned),
        undefined,
        `nothing ran in the frame ${f.url()}`,
      );
    }
    await operator.screenshot({ path: join(import.meta.dirname, "../../test-results/screenshots/xss-email.png") });
  });

  it("security headers: the panel has a CSP without inline scripts and cannot be framed; the chat iframe can", async () => {
    const panel = await fetch(app.base + "/");
    const csp = panel.headers.get("content-security-policy") ?? "";
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /script-src[^;]*unsafe-inline/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(panel.headers.get("x-frame-options"), "DENY");
    assert.equal(panel.headers.get("x-content-type-options"), "nosniff");
    const frame = await fetch(app.base + "/widget/frame.html");
    assert.match(frame.headers.get("content-security-policy") ?? "", /frame-ancestors \*/);
    assert.doesNotMatch(frame.headers.get("content-security-policy") ?? "", /script-src[^;]*unsafe-inline/);
    assert.equal(frame.headers.get("x-frame-options"), null);
    const api = await fetch(app.base + "/api/setup");
    assert.equal(api.headers.get("cache-control"), "no-store");
    // The panel really runs under its CSP: no violations were reported while it was used above.
    const violations = await operator.evaluate(
      () => (window as unknown as { __cspViolations?: number }).__cspViolations ?? 0,
    );
    assert.equal(violations, 0);
  });
});
