#!/usr/bin/env node
// Part of `npm test`: the committed mutation reports (reports/mutation/<area>.json,
// made by `npm run test:mutation -- <area>`) must describe the code as it is
// now, and each area's score must stay at or above its floor
// (scripts/mutation-areas.mjs). Running the mutants takes hours, so CI reads
// the report instead of remaking it; a report whose sources differ from the
// files is stale and fails, so the score can never describe older code.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { AREAS, FLOORS, filesOf, TARGET } from "./mutation-areas.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const digest = (text) => createHash("sha256").update(text).digest("hex");

/** Stryker's mutation score: detected / (detected + undetected); ignored and invalid mutants do not count. */
export function score(report) {
  const n = { Killed: 0, Timeout: 0, Survived: 0, NoCoverage: 0, Ignored: 0 };
  for (const file of Object.values(report.files)) {
    for (const m of file.mutants) if (m.status in n) n[m.status]++;
  }
  const detected = n.Killed + n.Timeout;
  const valid = detected + n.Survived + n.NoCoverage;
  return { ...n, valid, score: valid === 0 ? 100 : (100 * detected) / valid };
}

const failures = [];
const rows = [];
for (const [area, glob] of Object.entries(AREAS)) {
  const path = join(root, "reports/mutation", `${area}.json`);
  if (!existsSync(path)) {
    rows.push(`${area.padEnd(13)} not measured yet (npm run test:mutation -- ${area})`);
    continue;
  }
  const report = JSON.parse(readFileSync(path, "utf8"));
  const stale = [];
  for (const file of filesOf(glob)) {
    const measured = report.files[file];
    if (!measured) stale.push(`${file} (new)`);
    else if (digest(measured.source) !== digest(readFileSync(join(root, file), "utf8"))) stale.push(file);
  }
  for (const file of Object.keys(report.files)) if (!existsSync(join(root, file))) stale.push(`${file} (gone)`);
  const s = score(report);
  rows.push(
    `${area.padEnd(13)} ${s.score.toFixed(1).padStart(5)}%  floor ${FLOORS[area]}%, target ${TARGET}%  ` +
      `(${s.Killed} killed, ${s.Timeout} timed out, ${s.Survived} survived, ${s.NoCoverage} not reached; ${s.Ignored} static, ignored)`,
  );
  if (stale.length) {
    failures.push(
      `${area}: the report is stale for ${stale.join(", ")}; run \`npm run test:mutation -- ${area}\` (incremental) and commit reports/mutation/${area}.json`,
    );
  }
  if (s.score < FLOORS[area])
    failures.push(`${area}: mutation score ${s.score.toFixed(1)}% is below its floor of ${FLOORS[area]}%`);
}
console.log(rows.join("\n"));
if (failures.length) {
  console.error(`\n✖ ${failures.join("\n✖ ")}`);
  process.exit(1);
}
