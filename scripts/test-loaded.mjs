#!/usr/bin/env node
// `npm run test:loaded [-- --runs N]`: the whole `npm test`, N times in a row
// (default 3), while `stress-ng --cpu 2` keeps both cores busy beside it. This
// is the steadiness bar: a test that only passes on an idle machine is a bug.
// Stops at the first failed run and says which one.
import { spawn, spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const at = process.argv.indexOf("--runs");
const runs = at > 0 ? Number(process.argv[at + 1]) : 3;
if (!Number.isInteger(runs) || runs < 1) {
  console.error("--runs takes a whole number of runs, e.g. --runs 3");
  process.exit(2);
}
if (spawnSync("stress-ng", ["--version"]).status !== 0) {
  console.error("stress-ng is not installed. On Debian: sudo apt-get install -y stress-ng");
  process.exit(2);
}

const hog = spawn("stress-ng", ["--cpu", "2", "--quiet"], { stdio: "ignore" });
const stopHog = () => hog.exitCode === null && hog.kill("SIGTERM");
process.on("exit", stopHog);
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => process.exit(130));

const results = [];
for (let i = 1; i <= runs; i++) {
  console.log(`\n=== npm test, run ${i} of ${runs}, beside stress-ng --cpu 2 ===`);
  const started = Date.now();
  const res = spawnSync("npm", ["test"], { cwd: root, stdio: "inherit" });
  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  results.push(`run ${i}: ${res.status === 0 ? "passed" : "FAILED"} in ${minutes} min`);
  if (res.status !== 0) break;
}
stopHog();
console.log(`\n${results.join("\n")}`);
process.exit(results.length === runs && results.every((r) => r.includes("passed")) ? 0 : 1);
