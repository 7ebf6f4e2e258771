#!/usr/bin/env node
// `npm run test:mutation -- <area> [...]`: StrykerJS over one area of the
// Worker's domain modules (conversation, workspace, email, validate), with the
// area's incremental report in reports/mutation/<area>.json, so a second run
// tests only the mutants whose code or covering tests changed. Commit the
// report: `npm test` reads it (scripts/mutation-gate.mjs). Hours for a whole
// area the first time; minutes after a small change.
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { AREAS, filesOf, TEST_FILES } from "./mutation-areas.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const areas = process.argv.slice(2);
if (areas.length === 0 || areas.some((a) => !(a in AREAS))) {
  console.error(`usage: npm run test:mutation -- <area> [...]   (areas: ${Object.keys(AREAS).join(", ")})`);
  process.exit(2);
}
for (const area of areas) {
  console.log(`\n▶ mutation testing: ${area} (${AREAS[area]})`);
  const res = spawnSync(
    join(root, "node_modules/.bin/stryker"),
    [
      "run",
      "--mutate",
      AREAS[area],
      "--incremental",
      "--incrementalFile",
      `reports/mutation/${area}.json`,
      ...(TEST_FILES[area].length ? ["--testFiles", TEST_FILES[area].join(",")] : []),
      ...(process.env.MUTATION_FORCE ? ["--force"] : []),
    ],
    { cwd: root, stdio: "inherit", env: { ...process.env, WRANGLER_SEND_METRICS: "false" } },
  );
  if (res.status !== 0) process.exit(res.status ?? 1);
  // A file of the area with no mutant left to test (all of it runs once, at module load, and such mutants are
  // ignored) is left out of Stryker's report; it is recorded as measured, with its source and no mutants, so the
  // gate can tell it from a file added since the run.
  const path = join(root, `reports/mutation/${area}.json`);
  const report = JSON.parse(readFileSync(path, "utf8"));
  for (const file of filesOf(AREAS[area])) {
    report.files[file] ??= { language: "typescript", source: readFileSync(join(root, file), "utf8"), mutants: [] };
  }
  writeFileSync(path, JSON.stringify(report));
}
