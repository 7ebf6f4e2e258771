/**
 * The email channel in a real browser: a mail posted to the Worker's local
 * email endpoint becomes a conversation in Unassigned with the blue envelope,
 * the operator joins, the reply channel is already Email (nobody has the
 * widget open), Enter sends the reply and it shows "Sent". Mail HTML only
 * ever renders inside a sandboxed frame, so a hostile mail runs nothing.
 * Admins set the mailbox on the Settings page. Screenshots go to
 * test-results/screenshots.
 */
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { startApp, type AppServer } from "./app-server.ts";
import { launch } from "./browser.ts";
import { imagesSettled } from "./waits.ts";

const shots = join(import.meta.dirname, "../../test-results/screenshots");
mkdirSync(shots, { recursive: true });

const MAILBOX = "support@microchat.example";

let app: AppServer;
let browser: Browser;
let operator: Page;

/** A raw RFC 822 message, multipart/alternative (text + HTML), CRLF line endings. */
function rawMail(opts: { from: string; fromName: string; subject: string; text: string; html: string }): string {
  const boundary = `b-${Math.random().toString(36).slice(2)}`;
  const id = `<${Math.random().toString(36).slice(2)}@example.org>`;
  return [
    `From: ${opts.fromName} <${opts.from}>`,
    `To: ${MAILBOX}`,
    `Subject: ${opts.subject}`,
    `Message-ID: ${id}`,
    `Date: ${new Date().toUTCString()}`,
    "MIME-Version: 1.0",
    `Content-Type: multipart/alternative; boundary="${boundary}"`,
    "",
    `--${boundary}`,
    "Content-Type: text/plain; charset=utf-8",
    "",
    opts.text,
    `--${boundary}`,
    "Content-Type: text/html; charset=utf-8",
    "",
    opts.html,
    `--${boundary}--`,
    "",
  ].join("\r\n");
}

/** Delivers a mail the way Cloudflare Email Routing would, through wrangler's local handler. */
async function postMail(from: string, raw: string): Promise<void> {
  const url = `${app.base}/cdn-cgi/handler/email?from=${encodeURIComponent(from)}&to=${encodeURIComponent(MAILBOX)}`;
  const res = await fetch(url, { method: "POST", body: raw });
  assert.ok(res.ok, `email handler answered ${res.status}: ${await res.text()}`);
}

function unassignedRow(text: string) {
  return operator.getByTestId("unassigned-list").getByTestId("conversation-row").filter({ hasText: text });
}

/** Delivers a mail (envelope sender `envelope`) and opens its conversation from Unassigned; the message with `snippet`. */
async function openDelivered(envelope: string, mail: Parameters<typeof rawMail>[0], snippet: string) {
  await postMail(envelope, rawMail(mail));
  const row = unassignedRow(snippet);
  await row.waitFor({ timeout: 10_000 });
  await row.locator(".row-link").click();
  const message = operator.getByTestId("message").filter({ hasText: snippet });
  await message.waitFor();
  return message;
}

describe("the email channel in the browser", () => {
  before(async () => {
    app = await startApp(process.env.E2E_PORT ? Number(process.env.E2E_PORT) : undefined);
    browser = await launch();
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    operator = await ctx.newPage();
    operator.on("pageerror", (err) => console.error("page error:", err.message));
  });

  after(async () => {
    await browser?.close();
    await app?.stop();
  });

  it("the admin sets up the workspace", async () => {
    await operator.goto(app.base + "/");
    const form = operator.getByTestId("setup-form");
    await form.waitFor();
    await form.locator("input[name=name]").fill("Olivia Operator");
    await form.locator("input[name=email]").fill("olivia@example.com");
    await form.locator("input[name=password]").fill("a long enough password");
    await form.locator("input[name=confirm]").fill("a long enough password");
    await form.getByRole("button", { name: /create/i }).click();
    await operator.getByTestId("unassigned-list").waitFor();
  });

  it("an inbound mail appears in Unassigned and opens with the blue envelope and its subject", async () => {
    const mail = await openDelivered(
      "alice@example.org",
      {
        from: "alice@example.org",
        fromName: "Alice Example",
        subject: "Order 4521 arrived damaged",
        text: "Hello,\r\nthe vase in order 4521 arrived broken. Can you send a new one?\r\n\r\nAlice",
        html: "<p>Hello,</p><p>the vase in order <b>4521</b> arrived broken. Can you send a new one?</p><p>Alice</p>",
      },
      "arrived broken",
    );
    const badge = mail.getByTestId("email-badge");
    await badge.waitFor();
    assert.equal(await badge.getAttribute("aria-label"), "Email");
    assert.equal(await badge.evaluate((el) => getComputedStyle(el).color), "rgb(37, 99, 235)");
    assert.equal((await mail.getByTestId("email-subject").innerText()).trim(), "Order 4521 arrived damaged");
    assert.match(await mail.getByTestId("email-from").innerText(), /Alice Example <alice@example\.org>/);
    await operator.screenshot({ path: join(shots, "email-unassigned.png") });
  });

  it("after JOIN the reply channel defaults to Email, and an Enter reply is delivered", async () => {
    await operator.getByTestId("conversation-header").getByTestId("join-button").click();
    await operator.getByTestId("leave-button").waitFor();

    const select = operator.getByTestId("channel-select");
    await select.waitFor();
    assert.equal(await select.getAttribute("role"), "radiogroup");
    await operator.waitForFunction(
      () => document.querySelector('[data-testid="channel-email"]')?.getAttribute("aria-checked") === "true",
    );
    assert.equal(await operator.getByTestId("channel-chat").getAttribute("aria-checked"), "false");
    assert.match(await operator.getByTestId("channel-hint").innerText(), /Replying by email to alice@example\.org/);

    const composer = operator.getByTestId("composer");
    await composer.fill("Sorry about that, Alice. A new vase is on its way.");
    await composer.press("Enter");

    const reply = operator
      .getByTestId("message")
      .filter({ hasText: "A new vase is on its way." })
      .and(operator.locator('[data-role="operator"]'));
    await reply.waitFor();
    await reply.getByTestId("email-badge").waitFor();
    await reply
      .getByTestId("delivery-state")
      .filter({ hasText: /^Sent$/ })
      .waitFor({ timeout: 15_000 });
    assert.equal((await reply.getByTestId("email-subject").innerText()).trim(), "Re: Order 4521 arrived damaged");

    for (const note of await operator.getByTestId("email-address-note").all()) {
      assert.match(await note.innerText(), /support@microchat\.example/);
    }
    assert.equal(await operator.getByTestId("email-address-note").count(), 2);
    await operator.screenshot({ path: join(shots, "conversation-email.png") });
  });

  it("an email-only contact's info shows their address, the mailbox and their other threads, not web details", async () => {
    const first = operator.url();
    await openDelivered(
      "alice@example.org",
      {
        from: "alice@example.org",
        fromName: "Alice Example",
        subject: "Also: a missing saucer",
        text: "The saucer was missing too.",
        html: "<p>The saucer was missing too.</p>",
      },
      "The saucer was missing too.",
    );

    const info = operator.getByTestId("visitor-info");
    await info.getByTestId("visitor-mail").waitFor();
    for (const web of ["visitor-place", "visitor-pages", "visitor-tech"]) {
      assert.equal(await info.getByTestId(web).count(), 0, `no ${web} for someone who only wrote by email`);
    }
    assert.equal(await info.locator(".map-box").count(), 0, "no map");
    assert.match(await info.getByTestId("visitor-identity").innerText(), /alice@example\.org/);
    assert.match(await info.getByTestId("visitor-presence").innerText(), /Writes by email/);
    assert.equal((await info.getByTestId("visitor-mailbox").innerText()).trim(), MAILBOX);
    assert.equal((await info.getByTestId("visitor-mail-count").innerText()).trim(), "1");
    // The earlier thread, found by its link (its preview may already be our reply, depending on when the
    // index's coalesced report of that reply arrives).
    const thread = info
      .getByTestId("visitor-thread")
      .filter({ has: operator.locator(`a[href="${new URL(first).pathname}"]`) });
    await thread.waitFor();
    assert.equal(await info.getByTestId("visitor-thread").count(), 1);
    await operator.screenshot({ path: join(shots, "visitor-info-email.png") });

    // The other thread opens; its info lists this one.
    await thread.locator("a").click();
    await operator.waitForURL(first);
    await info.getByTestId("visitor-thread").filter({ hasText: "The saucer was missing too." }).waitFor();
    await operator.getByTestId("message").filter({ hasText: "arrived broken" }).waitFor();
  });

  it("the channel can be switched with the keyboard, and back", async () => {
    await operator.getByTestId("channel-email").focus();
    await operator.keyboard.press("ArrowLeft");
    assert.equal(await operator.getByTestId("channel-chat").getAttribute("aria-checked"), "true");
    await operator.getByTestId("channel-hint").waitFor({ state: "detached" });
    await operator.keyboard.press("ArrowRight");
    assert.equal(await operator.getByTestId("channel-email").getAttribute("aria-checked"), "true");
  });

  it("a file sent on the Email channel goes out by email; one too large for a mail is refused with a clear error", async () => {
    assert.equal(await operator.getByTestId("channel-email").getAttribute("aria-checked"), "true");
    await operator.getByTestId("file-input").setInputFiles(join(import.meta.dirname, "fixtures/invoice.pdf"));
    const sent = operator.locator(
      '[data-testid="message"][data-kind="file"][data-channel="email"][data-status="sent"]',
      {
        hasText: "invoice.pdf",
      },
    );
    await sent.getByTestId("email-badge").waitFor({ timeout: 10_000 });
    await sent
      .getByTestId("delivery-state")
      .filter({ hasText: /^Sent$/ })
      .waitFor({ timeout: 15_000 });
    assert.equal((await sent.getByTestId("email-subject").innerText()).trim(), "Re: Order 4521 arrived damaged");

    // Over what a mail carries: the panel says so before uploading a byte.
    const uploads: string[] = [];
    const watch = (r: { url(): string; method(): string }) => {
      if (r.method() === "POST" && r.url().endsWith("/files")) uploads.push(r.url());
    };
    operator.on("request", watch);
    const big = Buffer.alloc(4 * 1024 * 1024, 0x20);
    big.write("%PDF-1.4\n");
    await operator
      .getByTestId("file-input")
      .setInputFiles({ name: "scan.pdf", mimeType: "application/pdf", buffer: big });
    const error = operator.getByTestId("conversation-error");
    await error.waitFor();
    operator.off("request", watch);
    assert.match(await error.innerText(), /scan\.pdf: Too large to send by email: a mail carries at most 3\.6 MB/);
    assert.match(await error.innerText(), /Switch to Chat/);
    assert.deepEqual(uploads, [], "the panel uploaded a file too large to mail");
    await operator.screenshot({ path: join(shots, "email-file-too-large.png") });
    assert.equal(await operator.getByTestId("message").filter({ hasText: "scan.pdf" }).count(), 0);
    await error.getByRole("button", { name: "Dismiss error" }).click();
  });

  it("a mail with a forged From opens a conversation of its own, marked 'Sender not verified' in the message and the visitor info", async () => {
    // Alice's address in From, but sent from someone else's server: the envelope sender is theirs.
    const mail = await openDelivered(
      "bounce@evil.example",
      {
        from: "alice@example.org",
        fromName: "Alice Example",
        subject: "Re: Order 4521 arrived damaged",
        text: "Please refund it to my new card instead: 4000 0000 0000 0002.",
        html: "<p>Please refund it to my new card instead: 4000 0000 0000 0002.</p>",
      },
      "refund it to my new card",
    );
    const note = mail.getByTestId("email-unverified");
    await note.waitFor();
    const words = await note.innerText();
    assert.match(words, /Sender not verified/);
    assert.match(
      words,
      /The envelope sender bounce@evil\.example does not match the From address alice@example\.org\./,
    );
    assert.equal(await note.getAttribute("role"), "note");
    const info = operator.getByTestId("visitor-info");
    const flag = info.getByTestId("visitor-mail-unverified");
    await flag.waitFor();
    assert.match(await flag.innerText(), /Not verified/);
    await operator.screenshot({ path: join(shots, "email-unverified.png") });
    await operator.setViewportSize({ width: 390, height: 844 });
    await note.scrollIntoViewIfNeeded();
    await operator.screenshot({ path: join(shots, "email-unverified-mobile.png") });
    await operator.setViewportSize({ width: 1280, height: 800 });
  });

  it("a mail too long to show in full says what is left out, and the original mail downloads", async () => {
    const log = "2026-11-30 10:00:01 import row 1234: price missing, row skipped\r\n".repeat(1600);
    const mail = await openDelivered(
      "imports@example.org",
      {
        from: "imports@example.org",
        fromName: "Shop Imports",
        subject: "Import failed",
        text: `The nightly import failed, log below.\r\n\r\n${log}`,
        html: "<p>The nightly import failed.</p>",
      },
      "The nightly import failed",
    );
    const cut = mail.getByTestId("email-cut");
    await cut.waitFor();
    assert.match(await cut.innerText(), /Part of this mail is not shown here:/);
    assert.match(await cut.innerText(), /The text is [\d,]+ characters long; the first 65,536 are shown\./);
    const link = cut.getByTestId("email-original");
    assert.match(await link.innerText(), /^Download the original mail \(\d+ KB\)$/);
    const original = await operator.evaluate(
      async (href) => {
        const res = await fetch(href);
        return { status: res.status, disposition: res.headers.get("Content-Disposition"), text: await res.text() };
      },
      (await link.getAttribute("href"))!,
    );
    assert.equal(original.status, 200);
    assert.match(original.disposition ?? "", /^attachment; filename="original-message.eml"/);
    assert.match(original.text, /Subject: Import failed/);
    assert.equal(original.text.split("price missing").length - 1, 1600, "the whole log is in the original");
    await cut.scrollIntoViewIfNeeded();
    await operator.screenshot({ path: join(shots, "email-cut.png") });
  });

  it("a hostile HTML mail runs nothing in the panel when shown formatted", async () => {
    await postMail(
      "mallory@example.org",
      rawMail({
        from: "mallory@example.org",
        fromName: "Mallory",
        subject: "Invoice attached",
        text: "Please see the invoice.",
        html:
          `<p>Please see the invoice.</p><script>window.__pwned=1;parent.__pwned=1</script>` +
          `<img src=x onerror="window.__pwned=1;parent.__pwned=1">` +
          `<a href="javascript:parent.__pwned=1">open</a><iframe src="javascript:parent.__pwned=1"></iframe>`,
      }),
    );
    const row = unassignedRow("Please see the invoice.");
    await row.waitFor({ timeout: 10_000 });
    await row.locator(".row-link").click();
    const byText = operator.getByTestId("message").filter({ hasText: "Please see the invoice." });
    await byText.waitFor();
    // Shown formatted, the text lives in the frame: keep hold of the message by its seq.
    const mail = operator.locator(`[data-testid="message"][data-seq="${await byText.getAttribute("data-seq")}"]`);
    await mail.getByTestId("email-formatted-toggle").click();

    const frame = mail.getByTestId("email-frame");
    await frame.waitFor();
    // Same origin, so the panel can measure it; never scripts, so nothing in it runs.
    assert.equal(await frame.getAttribute("sandbox"), "allow-same-origin");
    const srcdoc = (await frame.getAttribute("srcdoc")) ?? "";
    assert.ok(
      srcdoc.startsWith(
        `<!doctype html><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
      ),
      "the frame's document starts with the CSP",
    );
    await operator.frameLocator('[data-testid="email-frame"]').locator("text=Please see the invoice.").waitFor();
    await imagesSettled(operator);
    assert.equal(await operator.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
    assert.equal(await operator.locator("img[src=x]").count(), 0, "no mail HTML in the panel's own document");
    await operator.screenshot({ path: join(shots, "email-formatted.png") });
  });

  it("a formatted mail's frame is as tall as the mail, up to a maximum, then scrolls inside", async () => {
    const paragraphs = Array.from({ length: 120 }, (_, i) => `<p>Line ${i + 1} of a very long newsletter.</p>`);
    for (const [who, html] of [
      ["shorty", "<p>Just <b>one</b> short line.</p>"],
      ["longo", `<h1>Spring newsletter</h1>${paragraphs.join("")}<p>The end.</p>`],
    ] as const) {
      await postMail(
        `${who}@example.org`,
        rawMail({
          from: `${who}@example.org`,
          fromName: who,
          subject: `Formatted ${who}`,
          text: `Formatted mail from ${who}`,
          html,
        }),
      );
    }
    /** Opens `who`'s mail formatted; returns the frame's height and its page's height and viewport. */
    const open = async (who: string) => {
      const row = unassignedRow(`Formatted mail from ${who}`);
      await row.waitFor({ timeout: 10_000 });
      await row.locator(".row-link").click();
      const byText = operator.getByTestId("message").filter({ hasText: `Formatted mail from ${who}` });
      await byText.waitFor();
      const mail = operator.locator(`[data-testid="message"][data-seq="${await byText.getAttribute("data-seq")}"]`);
      await mail.getByTestId("email-formatted-toggle").click();
      const frame = mail.getByTestId("email-frame");
      await operator.frameLocator('[data-testid="email-frame"]').locator("body").filter({ hasText: "line" }).waitFor();
      // The panel sizes the frame when it has loaded: wait for that (the frame gets an inline height).
      await operator
        .waitForFunction((el) => (el as HTMLIFrameElement).style.height !== "", await frame.elementHandle(), {
          timeout: 10_000,
        })
        .catch(() => assert.fail(`the frame of ${who}'s mail was never sized to its content`));
      const inner = (await frame.contentFrame()).locator("html");
      const size = {
        frame: (await frame.boundingBox())!.height,
        content: await inner.evaluate((el) => el.scrollHeight),
        view: await inner.evaluate((el) => el.clientHeight),
      };
      return { size, mail };
    };
    const { size: short } = await open("shorty");
    assert.ok(short.frame < 120, `a short mail gets a short frame: ${JSON.stringify(short)}`);
    assert.ok(short.content <= short.view, `a short mail does not scroll inside: ${JSON.stringify(short)}`);
    await operator.screenshot({ path: join(shots, "email-formatted-short.png") });

    const { size: long, mail } = await open("longo");
    assert.ok(
      long.frame >= 600 && long.frame <= 660,
      `a long mail's frame stops at the maximum: ${JSON.stringify(long)}`,
    );
    assert.ok(long.content > long.view, `the rest of a long mail scrolls inside its frame: ${JSON.stringify(long)}`);
    await mail.scrollIntoViewIfNeeded();
    await operator.screenshot({ path: join(shots, "email-formatted-long.png") });
    assert.equal(await operator.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
  });

  it("an admin changes the mailbox on the Settings page; bad input shows the server's error", async () => {
    await operator.getByTestId("nav-settings").click();
    const page = operator.getByTestId("settings-page");
    await page.waitFor();
    await page.getByText("Inbound mail: route this address to the Worker with Cloudflare Email Routing.").waitFor();
    const address = page.locator("input[name=emailAddress]");
    await operator.waitForFunction(
      () => (document.querySelector("input[name=emailAddress]") as HTMLInputElement | null)?.value !== "",
    );
    assert.equal(await address.inputValue(), MAILBOX);

    await address.fill("not an address");
    await page.getByTestId("settings-save").click();
    await page
      .getByRole("alert")
      .filter({ hasText: /plain email address/ })
      .waitFor();

    await address.fill(MAILBOX);
    await page.locator("input[name=emailName]").fill("Microchat Support");
    await page.getByTestId("settings-save").click();
    await page.getByRole("status").filter({ hasText: /Saved/ }).waitFor();
    await operator.screenshot({ path: join(shots, "settings.png") });
  });

  it("each email shows the address it was received at or sent from, even after Settings change", async () => {
    const page = operator.getByTestId("settings-page");
    await page.locator("input[name=emailAddress]").fill("help@microchat.example");
    await page.getByTestId("settings-save").click();
    await page.getByRole("status").filter({ hasText: /Saved/ }).waitFor();

    await operator.getByTestId("nav-conversations").click();
    await operator
      .getByTestId("mine-list")
      .getByTestId("conversation-row")
      .filter({ hasText: "Alice" })
      .locator(".row-link")
      .click();
    const note = (text: string) =>
      operator.getByTestId("message").filter({ hasText: text }).getByTestId("email-address-note");
    await note("arrived broken").waitFor();
    assert.equal((await note("arrived broken").innerText()).trim(), "Received at support@microchat.example");
    assert.equal((await note("A new vase is on its way.").innerText()).trim(), "Sent from support@microchat.example");

    await operator.getByTestId("composer").fill("One more thing: the courier comes on Monday.");
    await operator.getByTestId("composer").press("Enter");
    const reply = operator.locator('[data-testid="message"][data-status="sent"]', {
      hasText: "courier comes on Monday",
    });
    await reply
      .getByTestId("delivery-state")
      .filter({ hasText: /^Sent$/ })
      .waitFor({ timeout: 15_000 });
    await reply.getByTestId("email-address-note").filter({ hasText: "help@microchat.example" }).waitFor();
    assert.equal(
      (await reply.getByTestId("email-address-note").innerText()).trim(),
      "Sent from help@microchat.example",
    );
    assert.equal((await note("A new vase is on its way.").innerText()).trim(), "Sent from support@microchat.example");
    await operator.screenshot({ path: join(shots, "email-addresses.png") });
  });

  it("a long Unassigned list draws only the rows in view, a screenful from the start; scrolling reaches every row; past 200 it pages", async () => {
    await operator.getByTestId("nav-conversations").click();
    // More than the 200 rows a panel gets when it connects, so the reload below has to page.
    const total = 220;
    for (let i = 0; i < total; i += 10) {
      await Promise.all(
        Array.from({ length: 10 }, (_, k) =>
          postMail(
            `bulk-${i + k}@example.net`,
            [
              `From: Bulk ${i + k} <bulk-${i + k}@example.net>`,
              `To: ${MAILBOX}`,
              `Subject: Bulk question ${i + k}`,
              `Message-ID: <bulk-${i + k}@example.net>`,
              "Content-Type: text/plain; charset=utf-8",
              "",
              `Question number ${i + k}`,
            ].join("\r\n"),
          ),
        ),
      );
    }
    const list = operator.getByTestId("unassigned-list");
    const slots = list.locator("li[aria-setsize]");
    await operator.waitForFunction(
      (n) =>
        Number(
          document.querySelector('[data-testid="unassigned-list"] li[aria-setsize]')?.getAttribute("aria-setsize"),
        ) >= n,
      total,
      { timeout: 30_000 },
    );
    const size = Number(await slots.first().getAttribute("aria-setsize"));
    const drawn = await list.getByTestId("conversation-row").count();
    assert.ok(drawn < 50, `only the rows near the view are drawn (${drawn} of ${size})`);
    assert.equal(await slots.first().getAttribute("aria-posinset"), "1");
    assert.equal(await list.locator(`li[aria-posinset="${size}"]`).count(), 0, "the last row is not drawn yet");

    // Scroll to the end of Unassigned: its last rows are drawn in place, the first ones are gone.
    await list.locator("ul").evaluate((ul) => ul.scrollIntoView({ block: "end" }));
    const last = list.locator(`li[aria-posinset="${size}"]`);
    await last.waitFor();
    assert.ok(await last.getByTestId("conversation-row").isVisible());
    assert.equal(await list.locator('li[aria-posinset="1"]').count(), 0);
    assert.ok((await list.getByTestId("conversation-row").count()) < 50);
    await operator.screenshot({ path: join(shots, "long-list-end.png") });

    // A row reached by scrolling is a real row: it opens its conversation.
    const name = (await last.locator(".row-name").textContent())!;
    await last.locator(".row-link").click();
    await operator.getByTestId("conversation-header").getByText(name).first().waitFor();

    // A panel that connects now gets the newest 200 and the true count; the rest come a page at a time.
    // The most rows the list ever holds while the panel starts, counted by the page itself as they are inserted.
    await operator.addInitScript(() => {
      if (!sessionStorage.getItem("countRows")) return;
      const w = window as unknown as { __maxRows: number };
      w.__maxRows = 0;
      new MutationObserver(() => {
        const n = document.querySelectorAll('[data-testid="unassigned-list"] [data-testid="conversation-row"]').length;
        w.__maxRows = Math.max(w.__maxRows, n);
      }).observe(document, { childList: true, subtree: true });
    });
    await operator.evaluate(() => sessionStorage.setItem("countRows", "1"));
    await operator.reload();
    await slots.first().waitFor();
    // From the first frame, before the list was measured, it drew one screenful, not a fixed number of rows.
    const most = await operator.evaluate(() => (window as unknown as { __maxRows: number }).__maxRows);
    await operator.evaluate(() => sessionStorage.removeItem("countRows"));
    assert.ok(most > 0 && most < 30, `at most a screenful of rows is drawn while the panel starts (${most})`);
    const waiting = Number(await operator.getByTestId("waiting-count").textContent());
    assert.ok(waiting >= total, `the count is every waiting conversation (${waiting})`);
    assert.equal(Number(await slots.first().getAttribute("aria-setsize")), 200);
    const more = operator.getByTestId("load-more-unassigned");
    await more.scrollIntoViewIfNeeded();
    assert.equal((await more.textContent())?.trim(), `Show ${waiting - 200} more waiting`);
    await operator.screenshot({ path: join(shots, "long-list-more.png") });
    while (await more.isVisible()) {
      const before = Number(await slots.first().getAttribute("aria-setsize"));
      await more.click();
      await operator.waitForFunction(
        (n) =>
          Number(
            document.querySelector('[data-testid="unassigned-list"] li[aria-setsize]')?.getAttribute("aria-setsize"),
          ) > n,
        before,
      );
    }
    assert.equal(Number(await slots.first().getAttribute("aria-setsize")), waiting);
    assert.equal(Number(await operator.getByTestId("waiting-count").textContent()), waiting);
  });
});
