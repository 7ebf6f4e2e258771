#!/usr/bin/env node
// `npm test`: every check and every test, in the order a failure is cheapest
// to see. Generated files current (binding types, OpenAPI document) → type checks → format → layering →
// unused code → build → workerd tests (vitest) → browser tests (Playwright + Debian's Chromium). Ends with
// one summary line.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const env = { ...process.env, WRANGLER_SEND_METRICS: "false" };
const bin = (name) => join(root, "node_modules/.bin", name);
let passed = 0;
let failed = 0;

function run(label, cmd, args, { capture = false } = {}) {
  console.log(`\n▶ ${label}`);
  const res = spawnSync(cmd, args, {
    cwd: root,
    env,
    stdio: capture ? ["ignore", "pipe", "inherit"] : "inherit",
    encoding: "utf8",
  });
  if (capture) process.stdout.write(res.stdout ?? "");
  if (res.status !== 0) {
    console.error(`✖ ${label} failed`);
    return { ok: false, out: res.stdout ?? "" };
  }
  return { ok: true, out: res.stdout ?? "" };
}

function must(result) {
  if (!result.ok) {
    console.log(`\n${passed} passed, ${failed + 1} failed`);
    process.exit(1);
  }
}

// Debian's Chromium for the browser tests; installed here when absent so a
// fresh machine needs nothing else (never a browser download).
const chromium = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
if (!existsSync(chromium)) {
  if (process.getuid?.() === 0 && existsSync("/usr/bin/apt-get")) {
    must(
      run("install chromium (apt)", "sh", [
        "-c",
        "apt-get update -qq && apt-get install -y -qq chromium fonts-noto-color-emoji",
      ]),
    );
  } else {
    console.error(
      `Chromium not found at ${chromium}. Install it (sudo apt-get install -y chromium) or set CHROMIUM_PATH.`,
    );
    process.exit(1);
  }
}

// The binding types are generated from wrangler.toml (`npm run types`): stale ones fail here.
must(
  run("binding types current (wrangler types --check)", bin("wrangler"), [
    "types",
    "--include-runtime=false",
    "--strict-vars=false",
    "--check",
    "worker/worker-configuration.d.ts",
  ]),
);
// The OpenAPI document is generated from worker/validate/operations.ts (`npm run openapi`): a stale one fails here.
must(
  run("OpenAPI document current (npm run openapi -- --check)", process.execPath, ["scripts/openapi.mjs", "--check"]),
);
for (const part of ["worker", "test", "panel", "widget", "scripts", "bench"]) {
  must(run(`typecheck ${part}`, bin("tsc"), ["-p", `${part}/tsconfig.json`]));
}
must(run("format check", bin("prettier"), ["--check", "."]));
// The Worker's layers (scripts/dependency-rules.cjs) and no dead code: an
// unused file, export or dependency fails here, before anything is built.
must(
  run("layering (dependency-cruiser)", bin("depcruise"), [
    "--config",
    "scripts/dependency-rules.cjs",
    "worker",
    "panel/src",
    "widget/src",
  ]),
);
must(run("unused code (knip)", bin("knip"), []));
// The committed mutation reports must describe today's code and keep their scores (README, Mutation testing).
must(run("mutation scores (committed reports)", process.execPath, ["scripts/mutation-gate.mjs"]));
must(run("build", "npm", ["run", "build"]));
must(
  run("deploy dry-run (local config)", bin("wrangler"), ["deploy", "--dry-run", "--outdir", join(root, "dist/worker")]),
);
must(run("size budgets (widget, Worker)", process.execPath, ["bench/size.mjs"]));
// The production configuration `npm run deploy` writes, resolved by wrangler: no demo value may ship.
must(
  run("deploy dry-run (production, npm run deploy)", process.execPath, [
    "scripts/deploy.mjs",
    "--dry-run",
    "--skip-build",
    "--domain",
    "chat.example.com",
    "--site",
    "https://www.example.com",
    "--email",
    "support@example.com",
    "--name",
    "Example Support",
  ]),
);

const vitest = run("workerd tests (vitest)", bin("vitest"), ["run", "--config", "vitest.config.ts"], { capture: true });
const vt = /Tests\s+(?:\x1b\[[0-9;]*m)*\s*(?:(\d+) failed[^|]*\|\s*)?(?:\x1b\[[0-9;]*m)*\s*(\d+) passed/.exec(
  vitest.out.replace(/\x1b\[[0-9;]*m/g, ""),
);
if (vt) {
  failed += Number(vt[1] ?? 0);
  passed += Number(vt[2]);
} else if (!vitest.ok) failed += 1;

const e2eStarted = Date.now();
const e2e = run(
  "browser tests (Playwright + Chromium)",
  process.execPath,
  ["--test", "--test-concurrency=1", "test/e2e/*.e2e.ts"],
  { capture: true },
);
const ep = /# pass (\d+)/.exec(e2e.out);
const ef = /# fail (\d+)/.exec(e2e.out);
passed += Number(ep?.[1] ?? 0);
failed += Number(ef?.[1] ?? (e2e.ok ? 0 : 1));

// Every committed screenshot must have been taken again by this run's browser tests.
const shots = run("committed screenshots come from the tests", process.execPath, [
  "scripts/screenshots.mjs",
  "--check",
  String(e2eStarted),
]);
if (shots.ok) passed += 1;
else failed += 1;

const faults = run("fault tolerance (SIGKILL mid-stream)", process.execPath, ["bench/kill.mjs"], { capture: true });
const fp = /faults: (\d+) passed, (\d+) failed/.exec(faults.out);
passed += Number(fp?.[1] ?? 0);
failed += Number(fp?.[2] ?? (faults.ok ? 0 : 1));

console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 && vitest.ok && e2e.ok && faults.ok ? 0 : 1);
