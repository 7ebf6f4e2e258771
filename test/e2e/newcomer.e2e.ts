/**
 * What a newcomer meets on `npm start`, on a machine without internet: a clean
 * start (no stack traces, the panel and demo URLs printed), a visitor location
 * from the local `cf` object, and survey links that point at the host and port
 * the app is really served on (PUBLIC_URL unset).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import PostalMime from "postal-mime";
import type { ConversationSummary, VisitorInfo } from "../../worker/protocol/index.ts";
import { startApp, type AppServer } from "./app-server.ts";
import { launch } from "./browser.ts";

let app: AppServer;
let browser: Browser;
let operator: Page;

/** Waits until `npm start` has printed a line matching `pattern` (it prints as things happen). */
async function printed(pattern: RegExp, what: string): Promise<RegExpExecArray> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const m = pattern.exec(app.output());
    if (m) return m;
    if (Date.now() > deadline) throw new Error(`npm start never printed ${what}; it printed:\n${app.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("npm start, as a newcomer sees it", () => {
  before(async () => {
    app = await startApp();
    browser = await launch();
    operator = await (await browser.newContext()).newPage();
  });
  after(async () => {
    await browser?.close();
    await app?.stop();
  });

  it("starts cleanly: the panel and demo URLs, and no error or stack trace", async () => {
    await printed(/Operator panel:\s+http:\/\/127\.0\.0\.1:\d+\//, "the panel URL");
    const out = app.output();
    assert.match(out, /Demo page:\s+http:\/\/127\.0\.0\.1:\d+\/demo\//);
    assert.doesNotMatch(out, /ENOTFOUND|getaddrinfo|Unable to fetch the `Request\.cf`/, `wrangler printed:\n${out}`);
    assert.doesNotMatch(out, /^\s+at .+:\d+:\d+\)?$/m, `a stack trace was printed:\n${out}`);
  });

  it("a visitor's location comes from the local cf object (Oslo) and shows in visitor info", async () => {
    const setup = await operator.request.post(app.base + "/api/setup", {
      data: { name: "Nina Newcomer", email: "nina@example.com", password: "a long enough password" },
    });
    assert.equal(setup.status(), 201, await setup.text());
    const visitor = await (await browser.newContext()).newPage();
    await visitor.goto(app.base + "/demo/");
    await visitor.locator("[data-microchat]").locator('button[aria-label="Open chat"]').click();
    const frame = visitor.frameLocator('iframe[title="Chat"]');
    await frame.locator("#input:not([disabled])").fill("Hello from Oslo?");
    await frame.locator("#input").press("Enter");
    await frame.locator(".m.visitor:not(.pending)", { hasText: "Hello from Oslo?" }).waitFor();
    const list = (await (await operator.request.get(app.base + "/api/conversations?view=unassigned")).json()) as {
      conversations: ConversationSummary[];
    };
    const row = list.conversations.find((c) => c.preview.includes("Hello from Oslo?"));
    assert.ok(row, `the message is in Unassigned; saw ${JSON.stringify(list.conversations.map((c) => c.preview))}`);
    const info = (await (await operator.request.get(`${app.base}/api/conversations/${row.id}/visitor`)).json()) as {
      visitor: VisitorInfo;
    };
    assert.deepEqual(
      { city: info.visitor.location?.city, country: info.visitor.location?.country },
      { city: "Oslo", country: "NO" },
      `visitor location: ${JSON.stringify(info.visitor.location)}`,
    );
  });

  it("with PUBLIC_URL unset, the survey email links to the origin the app is served on", async () => {
    const put = await operator.request.put(app.base + "/api/settings", { data: { surveyByEmail: true } });
    assert.equal(put.status(), 200, await put.text());
    const mail = [
      "From: Peter <peter@example.org>",
      "To: support@microchat.example",
      "Subject: Opening hours",
      "Message-ID: <newcomer-1@example.org>",
      "",
      "When are you open?",
      "",
    ].join("\r\n");
    const res = await fetch(`${app.base}/cdn-cgi/handler/email?from=peter@example.org&to=support@microchat.example`, {
      method: "POST",
      body: mail,
    });
    assert.equal(res.status, 200, await res.text());
    let id: string | undefined;
    for (const deadline = Date.now() + 10_000; !id && Date.now() < deadline;) {
      const list = (await (await operator.request.get(app.base + "/api/conversations?view=unassigned")).json()) as {
        conversations: ConversationSummary[];
      };
      id = list.conversations.find((c) => c.visitor.email === "peter@example.org")?.id;
      if (!id) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(id, "the mail made a conversation");
    const sentBefore = (app.output().match(/^Email: .+\.eml$/gm) ?? []).length;
    assert.equal((await operator.request.post(`${app.base}/api/conversations/${id}/join`)).status(), 200);
    assert.equal((await operator.request.post(`${app.base}/api/conversations/${id}/leave`)).status(), 200);
    // wrangler dev writes each sent mail to a file and prints its path.
    const paths = () => (app.output().match(/^Email: (.+\.eml)$/gm) ?? []).map((l) => l.slice(7));
    let files: string[] = [];
    for (const deadline = Date.now() + 15_000; files.length <= sentBefore && Date.now() < deadline;) {
      files = paths();
      if (files.length <= sentBefore) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(files.length > sentBefore, `no survey mail was sent; npm start printed:\n${app.output()}`);
    const sent = await PostalMime.parse(readFileSync(files.at(-1)!));
    assert.match(sent.subject ?? "", /How was your conversation with Nina Newcomer\?/);
    const link = /(https?:\/\/\S+\/rate\/[A-Za-z0-9._-]+)/.exec(sent.text ?? "")?.[1];
    assert.ok(link, `the survey mail has a rating link:\n${sent.text}`);
    assert.equal(new URL(link).origin, app.base, `the link points at ${link}`);
    const page = await fetch(link);
    assert.equal(page.status, 200, `${link} answered ${page.status}`);
    assert.match(await page.text(), /name="rating"/);
  });
});
