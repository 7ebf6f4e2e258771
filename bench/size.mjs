#!/usr/bin/env node
// Widget weight against its budget (gzipped): the loader every page loads,
// and the full chat (JS + CSS + HTML) loaded when the visitor opens it.
// Part of `npm test`: exceeding a budget fails the run.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { provenance, writeResults } from "./results.mjs";

const out = join(dirname(fileURLToPath(import.meta.url)), "../dist/public");
const gz = (files) => files.reduce((n, f) => n + gzipSync(readFileSync(join(out, f)), { level: 9 }).length, 0);
const rows = [
  { name: "loader (widget.js)", bytes: gz(["widget.js"]), budget: 3 * 1024 },
  {
    name: "full widget (app.js + frame.css + frame.html)",
    bytes: gz(["widget/app.js", "widget/frame.css", "widget/frame.html"]),
    budget: 30 * 1024,
  },
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
