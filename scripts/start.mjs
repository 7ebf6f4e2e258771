#!/usr/bin/env node
// `npm start`: builds the panel and widget, then runs `wrangler dev` with
// local persistence and prints where to go.
//
//   MICROCHAT_PORT=8787       port to listen on (127.0.0.1)
//   MICROCHAT_STATE=DIR       where local Durable Object / R2 state lives (default .wrangler/state)
//   MICROCHAT_SKIP_BUILD=1    reuse the existing dist/ (used by the browser tests)
//   MICROCHAT_WRANGLER_ARGS   extra `wrangler dev` arguments (the benchmark passes --var RATE_LIMITS:off)
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { appendFileSync, copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const port = Number(process.env.MICROCHAT_PORT ?? 8787);
const state = process.env.MICROCHAT_STATE ?? join(root, ".wrangler/state");
// wrangler dev normally downloads a sample `request.cf` object from
// workers.cloudflare.com and prints a stack trace when it cannot (no
// internet). We hand it a fixed local one instead: a visitor on this machine
// appears to be in Oslo. The copy is made fresh each start because wrangler
// ignores a cf file older than 30 days. On Cloudflare, `cf` is the real one.
mkdirSync(state, { recursive: true });
const localCf = join(state, "local-cf.json");
copyFileSync(join(root, "scripts/local-cf.json"), localCf);
const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_PATH: localCf };

// Local secrets live in .dev.vars (git-ignored). Make one on first run so a
// newcomer never needs to invent a secret; production uses `wrangler secret put`.
const devVars = join(root, ".dev.vars");
const existing = existsSync(devVars) ? readFileSync(devVars, "utf8") : "";
for (const name of ["SESSION_SECRET", "IDENTITY_SECRET"]) {
  if (!new RegExp(`^${name}=`, "m").test(existing)) {
    appendFileSync(devVars, `${name}=${randomBytes(32).toString("hex")}\n`, { mode: 0o600 });
    console.log(`Added a random ${name} to .dev.vars`);
  }
}

if (!process.env.MICROCHAT_SKIP_BUILD) {
  const built = spawnSync("npm", ["run", "build"], { cwd: root, stdio: "inherit", env });
  if (built.status !== 0) process.exit(built.status ?? 1);
}

const wrangler = spawn(
  join(root, "node_modules/.bin/wrangler"),
  [
    "dev",
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--persist-to",
    state,
    "--show-interactive-dev-session=false",
    ...(process.env.MICROCHAT_WRANGLER_ARGS ?? "").split(" ").filter(Boolean),
  ],
  { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] },
);
wrangler.stdout.pipe(process.stdout);
wrangler.stderr.pipe(process.stderr);

const base = `http://127.0.0.1:${port}`;
const deadline = Date.now() + 120_000;
let announced = false;
async function waitReady() {
  while (!announced && Date.now() < deadline && wrangler.exitCode === null) {
    try {
      const res = await fetch(`${base}/healthz`);
      if (res.ok) {
        announced = true;
        console.log(
          `\n  Microchat is running.\n\n  Operator panel:  ${base}/\n  Demo page:       ${base}/demo/\n  Local state:     ${state}\n`,
        );
        return;
      }
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  if (!announced) console.error("Microchat did not answer /healthz in time; see the output above.");
}
void waitReady();

for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => {
    wrangler.kill(sig);
  });
}
wrangler.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
