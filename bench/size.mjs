#!/usr/bin/env node
// Weight against budget (gzipped): the loader every page loads up front, the
// rest of it (embed.js) fetched when the page is idle, the full chat (JS + CSS
// + HTML) loaded when the visitor opens it, the panel's
// JavaScript at start, and the Worker as
// uploaded (minified: dist/worker/index.js from `wrangler deploy --dry-run
// --outdir dist/worker`, which `npm test` runs first). Part of `npm test`:
// exceeding a budget fails the run.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { provenance, writeResults } from "./results.mjs";

const dist = join(dirname(fileURLToPath(import.meta.url)), "../dist");
const out = join(dist, "public");
const gz = (files, dir = out) =>
  files.reduce((n, f) => n + gzipSync(readFileSync(join(dir, f)), { level: 9 }).length, 0);
/** The scripts `index.html` loads or preloads, relative to dist/public. */
function panelStartScripts() {
  const html = readFileSync(join(out, "index.html"), "utf8");
  const srcs = [...html.matchAll(/<(?:script[^>]*\ssrc|link[^>]*rel="modulepreload"[^>]*\shref)="\/([^"]+\.js)"/g)];
  return srcs.map((m) => m[1]);
}
const worker = join(dist, "worker/index.js");
if (!existsSync(worker)) {
  console.error("✖ dist/worker/index.js is missing: run `npx wrangler deploy --dry-run --outdir dist/worker` first");
  process.exit(1);
}
const rows = [
  { name: "loader (widget.js)", bytes: gz(["widget.js"]), budget: 2 * 1024 },
  // The rest of the loader, fetched when the browser is idle on every page (it sends the page views) or at once
  // when the chat is opened or the API called.
  { name: "after the page (widget/embed.js)", bytes: gz(["widget/embed.js"]), budget: 2 * 1024 },
  {
    name: "full widget (embed.js + app.js + frame.css + frame.html)",
    bytes: gz(["widget/embed.js", "widget/app.js", "widget/frame.css", "widget/frame.html"]),
    budget: 30 * 1024,
  },
  // The panel's JavaScript loaded before anything is opened: what index.html loads and preloads (the map and
  // Integrations are lazy chunks, not counted).
  { name: "panel JS at start (index.html's scripts)", bytes: gz(panelStartScripts()), budget: 60 * 1024 },
  // Issue 17's budget: 150 KB (it was 341 KB with sanitize-html and all of zod; see README, Performance).
  { name: "Worker (minified upload)", bytes: gz(["index.js"], join(dist, "worker")), budget: 150 * 1024 },
];
let ok = true;
for (const r of rows) {
  const pass = r.bytes <= r.budget;
  ok &&= pass;
  console.log(
    `${pass ? "✓" : "✖"} ${r.name}: ${(r.bytes / 1024).toFixed(2)} KB gzipped (budget ${r.budget / 1024} KB)`,
  );
}
writeResults("size-latest", {
  ...provenance(),
  files: rows.map((r) => ({
    name: r.name,
    gzippedBytes: r.bytes,
    budgetBytes: r.budget,
    withinBudget: r.bytes <= r.budget,
  })),
});
process.exit(ok ? 0 : 1);
