#!/usr/bin/env node
// `npm run bench:mainthread`: what the widget loader costs a customer's page,
// measured in Chromium: main-thread script and task time of the demo page
// with the loader, against the same page with the loader blocked, over the
// load event and the 500 ms after it. Median of 15 loads each, alternating,
// after one warm-up load of each; loopback only.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { launchChromium } from "./client.mjs";
import { provenance, writeResults } from "./results.mjs";
import { freePort, spawnMicrochat, stopMicrochat, waitReady } from "./server.mjs";

const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const state = mkdtempSync(join(tmpdir(), "microchat-mainthread-"));
const child = spawnMicrochat({ port, state, rateLimits: true });
const LOADS = 15;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

try {
  await waitReady(`${base}/healthz`, child);
  const browser = await launchChromium();
  /** One load of the demo page: main-thread script and task time over the load and the 500 ms after it. */
  async function load(withLoader) {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    if (!withLoader) await page.route("**/widget.js", (route) => route.fulfill({ status: 204, body: "" }));
    const cdp = await ctx.newCDPSession(page);
    await cdp.send("Performance.enable");
    await page.goto(`${base}/demo/`, { waitUntil: "load", timeout: 30_000 });
    // Let the loader mount and send its first page-view beacon.
    await page.waitForTimeout(500);
    const { metrics } = await cdp.send("Performance.getMetrics");
    const m = Object.fromEntries(metrics.map((x) => [x.name, x.value]));
    await ctx.close();
    return { script: m.ScriptDuration * 1000, task: m.TaskDuration * 1000 };
  }
  // One warm-up load of each, not counted; then the two alternate, so neither gets the warmer machine.
  await load(false);
  await load(true);
  const runs = { without: { script: [], task: [] }, with: { script: [], task: [] } };
  for (let i = 0; i < LOADS; i++) {
    for (const withLoader of [false, true]) {
      const r = await load(withLoader);
      const into = withLoader ? runs.with : runs.without;
      into.script.push(r.script);
      into.task.push(r.task);
    }
  }
  await browser.close();
  const summary = (r) => ({
    scriptMs: Math.round(median(r.script) * 10) / 10,
    taskMs: Math.round(median(r.task) * 10) / 10,
  });
  const without = summary(runs.without);
  const withLoader = summary(runs.with);
  const result = {
    ...provenance(),
    loads: LOADS,
    withoutLoader: without,
    withLoader,
    loaderScriptMs: Math.round((withLoader.scriptMs - without.scriptMs) * 10) / 10,
    loaderTaskMs: Math.round((withLoader.taskMs - without.taskMs) * 10) / 10,
  };
  console.log(JSON.stringify(result, null, 2));
  writeResults("mainthread-latest", result);
} finally {
  await stopMicrochat(child, state);
}
process.exit(0);
