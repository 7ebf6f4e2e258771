/**
 * Mutation testing (StrykerJS): small deliberate breakages in the Worker's
 * domain modules, each run against the workerd tests that reach it. A
 * mutant no test notices is a behaviour no test pins down.
 *
 * Run it by area with `npm run test:mutation -- <area>` (scripts/mutation.mjs
 * sets `mutate` and the area's incremental report); `npm test` checks the
 * committed reports (scripts/mutation-gate.mjs). See README "Mutation testing".
 */
export default {
  testRunner: "vitest",
  plugins: ["@stryker-mutator/vitest-runner", "./scripts/stryker-workerd.mjs"],
  // The project's vitest.config.ts: the tests run in workerd, with the real
  // Durable Objects, R2 and email bindings (the plugin module keeps that pool).
  vitest: { configFile: "vitest.config.ts", related: false },
  coverageAnalysis: "perTest",
  // Static mutants (code run once, when a module loads: schemas, constants)
  // cannot be traced to the tests that reach them, so each would run the
  // whole suite (about 4 minutes here): 631 of them in validate alone, some
  // 40 hours. They are reported as ignored, never counted as killed; see
  // README "Mutation testing" for what covers them instead.
  ignoreStatic: true,
  concurrency: 2,
  timeoutMS: 60_000,
  // The first run of every test file an area lists, to learn which tests reach
  // which mutant: about 4 minutes idle, more with the machine busy (Stryker's
  // default limit of 5 minutes failed a run beside another one).
  dryRunTimeoutMinutes: 20,
  tempDirName: ".stryker-tmp",
  cleanTempDir: "always",
  ignorePatterns: [
    "dist",
    "test-results",
    "reports",
    "bench/results",
    ".wrangler",
    "panel",
    "widget",
    "demo",
    "docs",
    "test/e2e",
  ],
  reporters: ["clear-text", "progress-append-only", "html"],
  htmlReporter: { fileName: "reports/mutation/html/index.html" },
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true },
  thresholds: { high: 90, low: 85, break: null },
};
