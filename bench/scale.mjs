#!/usr/bin/env node
// `npm run bench:scale`: the index and history at scale, loopback only, bounded.
//   --conversations N   conversations in the workspace (default 10000)
//   --messages M        messages in the long conversation (default 100000)
// Measures: listing Unassigned and a page of All with N conversations, the
// panel's time to show its lists in Chromium (virtualised: rows in the DOM stay
// bounded while All holds every conversation), and the time to the first page
// of a conversation with M messages against one with 10.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import * as client from "./client.mjs";
import { launchChromium, next, open } from "./client.mjs";
import { provenance, writeResults } from "./results.mjs";
import { freePort, spawnMicrochat, stopMicrochat, waitReady } from "./server.mjs";

const { values: args } = parseArgs({
  options: { conversations: { type: "string", default: "10000" }, messages: { type: "string", default: "100000" } },
});
const N = Math.min(20000, Number(args.conversations));
const M = Math.min(200000, Number(args.messages));
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const wsBase = base.replace("http", "ws");
const state = mkdtempSync(join(process.env.BENCH_STATE_DIR ?? tmpdir(), "microchat-scale-"));
const startServer = () => spawnMicrochat({ port, state });
let child = startServer();

const ready = () => waitReady(`${base}/healthz`, child);

/** Stops `wrangler dev` and starts it again on the same state: every object starts cold. */
async function restart() {
  const exited = new Promise((r) => child.once("exit", r));
  process.kill(-child.pid, "SIGTERM");
  await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
  child = startServer();
  await ready();
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x) => Math.round(x * 10) / 10;
const post = (path, body, headers) => client.post(base, path, body, headers);
const visitorConversation = (text) => client.visitorConversation(base, text);

async function timed(fn, runs = 7) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return round(median(times));
}

const results = { ...provenance(), conversations: N, messages: M };
try {
  await ready();
  const { cookie } = await post("/api/setup", {
    name: "Scale",
    email: "scale@example.com",
    password: "scale password 1",
  });

  // --- 1. N conversations in the index -------------------------------------
  let t0 = performance.now();
  for (let i = 0; i < N; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, N - i) }, (_, k) => visitorConversation(`Conversation ${i + k}`)),
    );
  }
  results.seedConversationsSeconds = round((performance.now() - t0) / 1000);
  // Let the coalesced index reports land.
  for (let i = 0; i < 60; i++) {
    const res = await fetch(`${base}/api/conversations?view=all&limit=1`, { headers: { Cookie: cookie } });
    const page = await res.json();
    if (page.conversations.length && (await countAll(cookie)) >= N) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  const get = (path) => fetch(base + path, { headers: { Cookie: cookie } }).then((r) => r.json());
  results.listUnassigned200Ms = await timed(() => get("/api/conversations?view=unassigned&limit=200"));
  results.listAllPage50Ms = await timed(() => get("/api/conversations?view=all&limit=50"));
  const deep = await get("/api/conversations?view=all&limit=200");
  const lastRow = deep.conversations.at(-1);
  results.listAllDeepPageMs = await timed(() =>
    get(`/api/conversations?view=all&limit=50&before=${lastRow.lastAt}&beforeId=${lastRow.id}`),
  );

  // The panel in Chromium: from navigation to the lists drawn.
  const browser = await launchChromium();
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const [name, value] = cookie.split("=");
  await ctx.addCookies([{ name, value, url: base }]);
  const page = await ctx.newPage();
  const renders = [];
  const unassignedRows = page.getByTestId("unassigned-list").locator("li[aria-setsize]");
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    await page.goto(`${base}/`);
    await unassignedRows.first().waitFor({ state: "attached" });
    renders.push(performance.now() - t);
  }
  results.panelListRenderMs = round(median(renders));
  results.panelUnassignedRows = Number(await unassignedRows.first().getAttribute("aria-setsize"));
  results.panelUnassignedRowsInDom = await page.getByTestId("unassigned-list").getByTestId("conversation-row").count();
  // The count beside Unassigned is every waiting conversation, not the 200 rows a panel gets first.
  results.panelWaitingCount = Number(await page.getByTestId("waiting-count").textContent());

  // All: every conversation, loaded page by page as the list is scrolled to its end.
  await page.getByTestId("tab-all").click();
  const allRows = page.getByTestId("all-list").locator("li[aria-setsize]");
  await allRows.first().waitFor({ state: "attached" });
  t0 = performance.now();
  const SIZE = '[data-testid="all-list"] li[aria-setsize]';
  const pageTimes = [];
  let loaded = 0;
  while (performance.now() - t0 < 300_000) {
    const t = performance.now();
    loaded = await page.evaluate((selector) => {
      const scroller = document.querySelector("[data-scroll-container]");
      scroller.scrollTop = scroller.scrollHeight;
      return Number(document.querySelector(selector)?.getAttribute("aria-setsize"));
    }, SIZE);
    if (loaded >= N) break;
    // Scrolled to the end: the next page is asked for, arrives and is drawn.
    await page.waitForFunction(
      ([selector, before]) => Number(document.querySelector(selector)?.getAttribute("aria-setsize")) > before,
      [SIZE, loaded],
      { timeout: 10_000 },
    );
    pageTimes.push(performance.now() - t);
  }
  results.panelAllLoadSeconds = round((performance.now() - t0) / 1000);
  results.panelPageAppendMs = round(median(pageTimes));
  results.panelAllRows = loaded;
  // Jumps to places in the whole list: scroll, then two frames (the rows are swapped and painted).
  const jumps = [];
  for (const at of [0.5, 0.1, 0.9, 0.3, 0.7, 0.2, 0.8]) {
    jumps.push(
      await page.evaluate(async (fraction) => {
        const scroller = document.querySelector("[data-scroll-container]");
        const t = performance.now();
        scroller.scrollTop = fraction * scroller.scrollHeight;
        await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
        return performance.now() - t;
      }, at),
    );
  }
  results.panelScrollJumpMs = round(median(jumps));
  results.panelScrollJumpMaxMs = round(Math.max(...jumps));
  results.panelAllRowsInDom = await page.getByTestId("all-list").getByTestId("conversation-row").count();
  if (process.env.BENCH_SCREENSHOT) await page.screenshot({ path: process.env.BENCH_SCREENSHOT });
  const shownAt = Number(await allRows.first().getAttribute("aria-posinset"));
  if (!(shownAt > N * 0.5)) throw new Error(`after the jumps the list shows row ${shownAt}, not the end of ${N}`);
  await browser.close();

  // --- 2. A conversation with M messages ------------------------------------
  const small = await visitorConversation("small");
  const big = await visitorConversation("big");
  for (const s of [small, big]) await post(`/api/conversations/${s.conversationId}/join`, {}, { Cookie: cookie });
  const operator = await open(`${wsBase}/ws/conversations/${big.conversationId}`, { Origin: base, Cookie: cookie });
  operator.send(JSON.stringify({ type: "hello", lastSeq: 0 }));
  await next(operator, "welcome");
  t0 = performance.now();
  let sent = 0;
  let acked = 0;
  operator.on("message", (d) => JSON.parse(String(d)).type === "ack" && acked++);
  const seedDeadline = performance.now() + 15 * 60_000;
  while (acked < M - 3) {
    if (performance.now() > seedDeadline) throw new Error(`seeding stalled at ${acked} of ${M} messages`);
    while (sent - acked < 128 && sent < M - 3)
      operator.send(JSON.stringify({ type: "send", clientId: `m${sent++}`, text: `history ${sent}` }));
    await new Promise((r) => setTimeout(r, 2));
  }
  results.seedMessagesPerSecond = Math.round(M / ((performance.now() - t0) / 1000));
  operator.close();
  const smallOp = await open(`${wsBase}/ws/conversations/${small.conversationId}`, { Origin: base, Cookie: cookie });
  smallOp.send(JSON.stringify({ type: "hello", lastSeq: 0 }));
  await next(smallOp, "welcome");
  for (let i = 0; i < 7; i++) {
    smallOp.send(JSON.stringify({ type: "send", clientId: `s${i}`, text: `small ${i}` }));
    await next(smallOp, "ack");
  }
  smallOp.close();
  const firstPage = async (conversationId) =>
    timed(async () => {
      const ws = await open(`${wsBase}/ws/conversations/${conversationId}`, { Origin: base, Cookie: cookie });
      ws.send(JSON.stringify({ type: "hello", lastSeq: 0 }));
      await next(ws, "welcome");
      ws.close();
    });
  results.firstPageSocket10Ms = await firstPage(small.conversationId);
  results.firstPageSocketBigMs = await firstPage(big.conversationId);
  results.firstPageHttp10Ms = await timed(() => get(`/api/conversations/${small.conversationId}/messages`));
  results.firstPageHttpBigMs = await timed(() => get(`/api/conversations/${big.conversationId}/messages`));

  // Cold: after a restart on the same state, the conversation object starts from its SQLite file.
  // (The Worker is warmed first with /healthz, so the time is the object's, not the bundle's.)
  const coldFirstPage = async (conversationId) => {
    await restart();
    const t = performance.now();
    const ws = await open(`${wsBase}/ws/conversations/${conversationId}`, { Origin: base, Cookie: cookie });
    ws.send(JSON.stringify({ type: "hello", lastSeq: 0 }));
    await next(ws, "welcome");
    const ms = round(performance.now() - t);
    ws.close();
    return ms;
  };
  results.coldFirstPageSocket10Ms = await coldFirstPage(small.conversationId);
  results.coldFirstPageSocketBigMs = await coldFirstPage(big.conversationId);
} finally {
  await stopMicrochat(child, state);
}

async function countAll(cookie) {
  let count = 0;
  let before = "";
  for (;;) {
    const res = await fetch(`${base}/api/conversations?view=all&limit=200${before}`, { headers: { Cookie: cookie } });
    const page = await res.json();
    count += page.conversations.length;
    if (!page.hasMore) return count;
    const last = page.conversations.at(-1);
    before = `&before=${last.lastAt}&beforeId=${last.id}`;
  }
}

console.log(JSON.stringify(results, null, 2));
writeResults("scale-latest", results);
process.exit(0);
