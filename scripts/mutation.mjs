#!/usr/bin/env node
// `npm run test:mutation -- <area>[:<file>[+<file>...]] [...]`: StrykerJS over
// one area of the Worker's domain modules (conversation, workspace, email,
// validate), or over one file of it (or a few small files together, which
// share one dry run), with the incremental report in
// reports/mutation/<area>.json (the whole area) or
// reports/mutation/<area>/<file>[+<file>].json (files), so a second run tests only
// the mutants whose code or covering tests changed. Commit the reports:
// `npm test` reads them (scripts/mutation-gate.mjs). Hours for a whole area the
// first time, so the larger areas are measured a file at a time; minutes after
// a small change.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { AREAS, areaDir, filesOf, reportPath, TEST_FILES } from "./mutation-areas.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const targets = process.argv.slice(2);
const known = (t) => {
  const [area, file] = t.split(":");
  return (
    area in AREAS && (!file || file.split("+").every((f) => filesOf(AREAS[area]).includes(`${areaDir(area)}/${f}`)))
  );
};
if (targets.length === 0 || !targets.every(known)) {
  console.error(
    `usage: npm run test:mutation -- <area>[:<file>] [...]   (areas: ${Object.keys(AREAS).join(", ")}; ` +
      `a file runs that file alone, e.g. email:html.ts; files joined by + share one run, e.g. conversation:state.ts+meta.ts)`,
  );
  process.exit(2);
}
for (const target of targets) {
  const [area, file] = target.split(":");
  const files = file ? file.split("+").map((f) => `${areaDir(area)}/${f}`) : filesOf(AREAS[area]);
  const mutate = file ? files.join(",") : AREAS[area];
  const path = join(root, reportPath(area, file));
  const other = file ? reportPath(area) : null;
  if (other && existsSync(join(root, other))) {
    console.error(`${other} measures the whole area; run \`npm run test:mutation -- ${area}\` instead`);
    process.exit(2);
  }
  mkdirSync(dirname(path), { recursive: true });
  console.log(`\n▶ mutation testing: ${target} (${mutate})`);
  const res = spawnSync(
    join(root, "node_modules/.bin/stryker"),
    [
      "run",
      "--mutate",
      mutate,
      "--incremental",
      "--incrementalFile",
      relative(root, path),
      ...(TEST_FILES[area].length ? ["--testFiles", TEST_FILES[area].join(",")] : []),
      ...(process.env.MUTATION_FORCE ? ["--force"] : []),
    ],
    { cwd: root, stdio: "inherit", env: { ...process.env, WRANGLER_SEND_METRICS: "false" } },
  );
  if (res.status !== 0) process.exit(res.status ?? 1);
  // A file with no mutant left to test (all of it runs once, at module load, and such mutants are ignored) is left
  // out of Stryker's report; it is recorded as measured, with its source and no mutants, so the gate can tell it
  // from a file added since the run.
  const report = JSON.parse(readFileSync(path, "utf8"));
  for (const f of files) {
    report.files[f] ??= { language: "typescript", source: readFileSync(join(root, f), "utf8"), mutants: [] };
  }
  writeFileSync(path, JSON.stringify(report));
  // The newest measurement of a file is the one that counts: a file measured again on its own (or in another
  // group) is taken out of the area's other reports, so no file is counted twice. A report left with no file
  // is removed.
  if (file) {
    const dir = join(root, "reports/mutation", area);
    for (const other of readdirSync(dir).filter((f) => f.endsWith(".json") && join(dir, f) !== path)) {
      const otherPath = join(dir, other);
      const old = JSON.parse(readFileSync(otherPath, "utf8"));
      const overlap = files.filter((f) => f in old.files);
      if (overlap.length === 0) continue;
      for (const f of overlap) delete old.files[f];
      if (Object.keys(old.files).length === 0) rmSync(otherPath);
      else writeFileSync(otherPath, JSON.stringify(old));
      console.log(`${overlap.join(", ")}: measured again, taken out of reports/mutation/${area}/${other}`);
    }
  }
}
