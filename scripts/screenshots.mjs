#!/usr/bin/env node
// The committed screenshots in docs/screenshots/ are copies of what the
// browser tests wrote to test-results/screenshots/, never pictures made by
// hand, so they cannot drift from the product.
//
//   node scripts/screenshots.mjs --check SINCE_MS   (npm test, after the browser tests)
//       fails when a committed screenshot was not written again by this run
//       (a test stopped taking it, or it was never taken by a test at all)
//   npm run screenshots
//       copies this run's versions over the committed ones; look at each
//       before committing
import { copyFileSync, existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const docs = join(root, "docs/screenshots");
const results = join(root, "test-results/screenshots");
const committed = readdirSync(docs).filter((f) => f.endsWith(".png"));

const at = process.argv.indexOf("--check");
if (at > 0) {
  const since = Number(process.argv[at + 1] ?? 0);
  const stale = committed.filter((f) => {
    const fresh = join(results, f);
    return !existsSync(fresh) || statSync(fresh).mtimeMs < since;
  });
  if (stale.length > 0) {
    console.error(
      `✖ ${stale.length} committed screenshot(s) in docs/screenshots/ were not taken by this test run:\n` +
        stale.map((f) => `  - ${f}`).join("\n") +
        "\n  Make a browser test take each one (test-results/screenshots/<name>), or delete it.",
    );
    process.exit(1);
  }
  console.log(`screenshots: all ${committed.length} committed screenshots were taken by this run`);
} else {
  let copied = 0;
  for (const f of committed) {
    const fresh = join(results, f);
    if (!existsSync(fresh)) {
      console.error(`not taken by the last run: ${f}`);
      continue;
    }
    copyFileSync(fresh, join(docs, f));
    copied++;
  }
  console.log(
    `copied ${copied} of ${committed.length} screenshots into docs/screenshots/; look at each before committing`,
  );
}
