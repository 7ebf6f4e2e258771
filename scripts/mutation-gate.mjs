#!/usr/bin/env node
// Part of `npm test`: the committed mutation reports (reports/mutation/<area>.json,
// or one per file in reports/mutation/<area>/, made by
// `npm run test:mutation -- <area>[:<file>]`) must describe the code as it is
// now, and each area's score must stay at or above its floor
// (scripts/mutation-areas.mjs). Running the mutants takes hours, so CI reads
// the report instead of remaking it; a report whose sources differ from the
// files is stale and fails, so the score can never describe older code.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { AREAS, FLOORS, filesOf, NOT_MEASURED_YET, reportPath, TARGET } from "./mutation-areas.mjs";

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

/** An area's reports: the whole area's, or one per file measured so far (reports/mutation/<area>/*.json). */
function reportsOf(area) {
  const whole = join(root, reportPath(area));
  if (existsSync(whole)) return { whole: true, reports: [JSON.parse(readFileSync(whole, "utf8"))] };
  const dir = join(root, "reports/mutation", area);
  const paths = existsSync(dir) ? readdirSync(dir, { recursive: true }).filter((f) => f.endsWith(".json")) : [];
  return { whole: false, reports: paths.map((f) => JSON.parse(readFileSync(join(dir, f), "utf8"))) };
}

const failures = [];
const rows = [];
for (const [area, glob] of Object.entries(AREAS)) {
  const { whole, reports } = reportsOf(area);
  if (reports.length === 0) {
    rows.push(`${area.padEnd(13)} not measured yet (npm run test:mutation -- ${area})`);
    continue;
  }
  const files = Object.assign({}, ...reports.map((r) => r.files));
  const stale = [];
  const unmeasured = [];
  for (const file of filesOf(glob)) {
    const measured = files[file];
    if (!measured) {
      if (!whole && (FLOORS[area] === 0 || NOT_MEASURED_YET[area]?.includes(file))) unmeasured.push(file);
      else stale.push(`${file} (new)`);
    } else if (digest(measured.source) !== digest(readFileSync(join(root, file), "utf8"))) stale.push(file);
  }
  for (const file of Object.keys(files)) if (!existsSync(join(root, file))) stale.push(`${file} (gone)`);
  const s = score({ files });
  rows.push(
    `${area.padEnd(13)} ${s.score.toFixed(1).padStart(5)}%  floor ${FLOORS[area]}%, target ${TARGET}%  ` +
      `(${s.Killed} killed, ${s.Timeout} timed out, ${s.Survived} survived, ${s.NoCoverage} not reached; ${s.Ignored} static, ignored)` +
      (unmeasured.length ? `\n${" ".repeat(14)}files not measured yet: ${unmeasured.join(", ")}` : ""),
  );
  if (stale.length) {
    const how = whole ? area : `${area}:<file>`;
    failures.push(
      `${area}: the report is stale for ${stale.join(", ")}; run \`npm run test:mutation -- ${how}\` (incremental) and commit reports/mutation/`,
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
