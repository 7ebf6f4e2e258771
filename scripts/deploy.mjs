#!/usr/bin/env node
// `npm run deploy`: a guided, repeatable deploy to your Cloudflare account.
//
//   npm run deploy -- --domain chat.example.com --site https://www.example.com \
//     --email support@example.com --name "Example Support" [--env staging] [--dry-run] \
//     [--max-upload-mb 25]
//
// It asks for what is missing (when run in a terminal), writes the
// `[env.<env>]` block of wrangler.toml (its own bucket, state, rate-limit
// namespaces, a random site key and workspace id made once and kept), builds,
// checks with `wrangler deploy --dry-run` that no local demo value would ship,
// then creates the R2 bucket if missing, sets SESSION_SECRET if missing, and
// deploys. Running it again with the same answers changes nothing: the block
// is the same, the bucket and secret exist, and an unchanged build is not
// uploaded again (--force uploads anyway). It ends with what a person must
// still do in the dashboard.
//
// --dry-run does no network call and changes nothing in the repository: the
// configuration goes to dist/deploy/wrangler.toml and is checked the same way
// (npm test runs it so).
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, join, relative } from "node:path";
import { createInterface } from "node:readline/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { bucketName, checkAnswers, envBlock, isDemo, randomKey, readBlock, writeBlock } from "./deploy-config.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
// MICROCHAT_WRANGLER: another wrangler to run (the tests use a stand-in for Cloudflare's API).
const wranglerBin = process.env.MICROCHAT_WRANGLER ?? join(root, "node_modules/.bin/wrangler");
const OPTIONS = {
  env: { type: "string", default: "production" },
  domain: { type: "string" },
  site: { type: "string" },
  email: { type: "string" },
  name: { type: "string" },
  // The largest file a visitor or operator may upload, in MB (default 10, or what an earlier run wrote).
  "max-upload-mb": { type: "string" },
  "dry-run": { type: "boolean", default: false },
  force: { type: "boolean", default: false },
  "skip-build": { type: "boolean", default: false },
  config: { type: "string", default: join(root, "wrangler.toml") },
};
let flags;
try {
  flags = parseArgs({ options: OPTIONS }).values;
} catch (err) {
  // An unknown flag, or one without its value: say so, and what there is, without a stack trace.
  fail(
    `${err.message}\n  flags: ${Object.keys(OPTIONS)
      .map((f) => `--${f}`)
      .join(", ")}`,
  );
}
const dryRun = flags["dry-run"];
const env = flags.env;
const configPath = flags.config;
const procEnv = { ...process.env, WRANGLER_SEND_METRICS: "false" };

function fail(message) {
  console.error(`\n✖ ${message}`);
  process.exit(2);
}

function wrangler(args, { input, capture = true } = {}) {
  const res = spawnSync(wranglerBin, args, {
    cwd: root,
    env: procEnv,
    input,
    encoding: "utf8",
    stdio: capture ? ["pipe", "pipe", "pipe"] : ["pipe", "inherit", "inherit"],
  });
  return { ok: res.status === 0, out: `${res.stdout ?? ""}${res.stderr ?? ""}` };
}

// 1. The answers: flags, else what the block from an earlier run says, else asked.
const toml = readFileSync(configPath, "utf8");
const earlier = readBlock(toml, env)?.values ?? {};
const earlierDomain = /^routes = \[\{ pattern = "([^"]+)"/m.exec(readBlock(toml, env)?.text ?? "")?.[1];
const answers = {
  env,
  domain: flags.domain ?? earlierDomain,
  sites: flags.site ?? earlier.SITE_ORIGINS,
  email: flags.email ?? earlier.EMAIL_ADDRESS,
  name: flags.name ?? earlier.WORKSPACE_NAME,
  maxUploadMb: flags["max-upload-mb"],
};
const questions = {
  domain: "Domain for the panel and API (e.g. chat.example.com): ",
  sites: "Your site's origin(s), comma-separated (e.g. https://www.example.com): ",
  email: "Support address that customers write to (e.g. support@example.com): ",
  name: "Workspace name shown in the widget (e.g. Example Support): ",
};
const missing = Object.keys(questions).filter((k) => !answers[k]);
if (missing.length && process.stdin.isTTY && !dryRun) {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  for (const k of missing) answers[k] = (await rl.question(questions[k])).trim();
  rl.close();
} else if (missing.length) {
  const flag = { domain: "--domain", sites: "--site", email: "--email", name: "--name" };
  fail(`missing ${missing.map((k) => flag[k]).join(", ")} (or run it in a terminal to be asked)`);
}
const problems = checkAnswers(answers);
if (problems.length) fail(problems.join("\n  "));

// 2. The configuration: the [env.<env>] block, in wrangler.toml (or, dry, in a copy).
const block = envBlock(answers, earlier);
const updated = writeBlock(toml, env, block);
let config = configPath;
if (dryRun) {
  const dir = join(root, "dist/deploy");
  mkdirSync(dir, { recursive: true });
  config = join(dir, "wrangler.toml");
  // The copy lives two levels down: its paths are made relative to it.
  const up = relative(dir, root);
  writeFileSync(
    config,
    updated
      .replace(/^main = "([^"]+)"/m, (_m, p) => `main = "${isAbsolute(p) ? p : join(up, p)}"`)
      .replace(/^directory = "([^"]+)"/m, (_m, p) => `directory = "${isAbsolute(p) ? p : join(up, p)}"`),
  );
  console.log(`▶ [env.${env}] written to ${relative(root, config)} (dry run: wrangler.toml untouched)`);
} else if (updated !== toml) {
  writeFileSync(configPath, updated);
  console.log(`▶ wrangler.toml: [env.${env}] ${Object.keys(earlier).length ? "updated" : "written"}`);
} else {
  console.log(`▶ wrangler.toml: [env.${env}] unchanged`);
}

// 3. Build, and let wrangler resolve what would ship: no demo value may be in it.
if (!flags["skip-build"]) {
  const built = spawnSync("npm", ["run", "build"], { cwd: root, env: procEnv, stdio: "inherit" });
  if (built.status !== 0) fail("the build failed");
}
const outdir = join(root, "dist/deploy", env);
rmSync(outdir, { recursive: true, force: true });
const dry = wrangler(["deploy", "--dry-run", "--env", env, "--config", config, "--outdir", outdir]);
if (!dry.ok) fail(`wrangler deploy --dry-run failed:\n${dry.out}`);
const shipped = Object.fromEntries([...dry.out.matchAll(/^env\.([A-Z_]+) \("([^"]*)"\)/gm)].map((m) => [m[1], m[2]]));
const wrong = [];
for (const name of ["SITE_KEY", "WORKSPACE_ID", "WORKSPACE_NAME", "EMAIL_ADDRESS", "PUBLIC_URL", "SITE_ORIGINS"]) {
  if (!(name in shipped)) wrong.push(`${name} is not set`);
  else if (isDemo(shipped[name])) wrong.push(`${name} is the local demo's "${shipped[name]}"`);
}
if (!/^https:\/\//.test(shipped.PUBLIC_URL ?? "")) wrong.push("PUBLIC_URL is not an https origin");
// prettier-ignore
const BINDINGS = [
  "CONVERSATION", "WORKSPACE", "ATTACHMENTS", "SEND_EMAIL", "LOGIN_LIMIT", "SESSION_LIMIT", "UPLOAD_LIMIT", "MESSAGE_LIMIT",
];
for (const binding of BINDINGS) {
  if (!new RegExp(`^env\\.${binding}\\b`, "m").test(dry.out)) wrong.push(`binding ${binding} is missing`);
}
if (!dry.out.includes(bucketName(env))) wrong.push(`the R2 bucket is not ${bucketName(env)}`);
if (wrong.length) fail(`the ${env} configuration is not ready:\n  ${wrong.join("\n  ")}`);
console.log(
  `✔ ${env}: ${Object.entries(shipped)
    .map(([k, v]) => `${k}=${k === "SITE_KEY" || k === "WORKSPACE_ID" ? v.slice(0, 6) + "…" : v}`)
    .join(", ")}`,
);

// 4. For real: bucket, secret, upload (only when something changed).
if (!dryRun) {
  const who = wrangler(["whoami"]).out;
  if (!/logged in/i.test(who) || /not (logged in|authenticated)/i.test(who)) {
    fail("not signed in to Cloudflare: run `npx wrangler login` (or set CLOUDFLARE_API_TOKEN) and try again");
  }
  if (/More than one account/i.test(wrangler(["r2", "bucket", "list"]).out)) {
    fail("your login has more than one Cloudflare account: set CLOUDFLARE_ACCOUNT_ID to the one to deploy to");
  }
  const bucket = bucketName(env);
  if (wrangler(["r2", "bucket", "info", bucket]).ok) console.log(`▶ R2 bucket ${bucket}: exists`);
  else {
    const made = wrangler(["r2", "bucket", "create", bucket]);
    if (!made.ok) {
      fail(
        `could not create the R2 bucket ${bucket}. If R2 is not enabled on this account yet, enable it once in the ` +
          `dashboard (R2 Object Storage → Overview), then run this again.\n${made.out}`,
      );
    }
    console.log(`▶ R2 bucket ${bucket}: created`);
  }
  // The secrets the Worker has. Only a Worker that does not exist yet has none; any other failure stops here,
  // since setting SESSION_SECRET again would sign every visitor out.
  const listed = wrangler(["secret", "list", "--env", env, "--config", config, "--format", "json"]);
  let have = [];
  if (listed.ok) {
    try {
      have = JSON.parse(listed.out.slice(listed.out.indexOf("[{"), listed.out.lastIndexOf("}]") + 2) || "[]").map(
        (x) => x.name,
      );
    } catch {
      fail(`could not read the Worker's secrets:\n${listed.out}`);
    }
  } else if (!/does not exist|not found|10007/i.test(listed.out)) {
    fail(`could not list the Worker's secrets:\n${listed.out}`);
  }
  const secrets = {};
  if (!have.includes("SESSION_SECRET")) secrets.SESSION_SECRET = randomKey("") + randomKey("");

  const stateFile = join(dirname(configPath), ".wrangler/deploy", `${env}.json`);
  const fingerprint = hashTree([outdir, join(root, "dist/public")], block);
  const last = existsSync(stateFile) ? JSON.parse(readFileSync(stateFile, "utf8")).fingerprint : null;
  if (last === fingerprint && !Object.keys(secrets).length && !flags.force) {
    console.log(`▶ ${env}: nothing changed since the last deploy; not uploading (--force to upload anyway)`);
  } else {
    const args = ["deploy", "--env", env, "--config", config];
    let secretsFile = null;
    if (Object.keys(secrets).length) {
      secretsFile = join(dirname(configPath), ".wrangler/deploy", `${env}.secrets.json`);
      mkdirSync(dirname(secretsFile), { recursive: true });
      writeFileSync(secretsFile, JSON.stringify(secrets), { mode: 0o600 });
      args.push("--secrets-file", secretsFile);
      console.log(
        `▶ ${Object.keys(secrets).join(", ")}: generated, uploaded with this deploy (never written to the repo)`,
      );
    }
    const deployed = wrangler(args, { capture: false });
    if (secretsFile) rmSync(secretsFile, { force: true });
    if (!deployed.ok) fail("wrangler deploy failed (see above)");
    mkdirSync(dirname(stateFile), { recursive: true });
    writeFileSync(stateFile, JSON.stringify({ fingerprint, at: new Date().toISOString() }, null, 2));
  }
}

// 5. What is left to a person.
const domainOfMail = answers.email.slice(answers.email.indexOf("@") + 1);
const local = answers.email.slice(0, answers.email.indexOf("@"));
console.log(`
${dryRun ? "Dry run done: nothing was uploaded." : `Deployed ${env}: https://${answers.domain}/`}

Still to do by hand (once per environment; the dashboard has both mail services under Compute → Email Service):
 1. Open https://${answers.domain}/ and create the admin account right away: until someone does, the setup
    screen is open to whoever reaches it first.
 2. Email Routing → Onboard Domain: ${domainOfMail}. Cloudflare then manages its MX records: if ${domainOfMail}
    already receives mail elsewhere, add a subdomain instead (Email Routing → the root domain → Settings →
    Subdomains, e.g. help.${domainOfMail}) and run this again with --email ${local}@help.${domainOfMail}.
    https://developers.cloudflare.com/email-service/configuration/subdomains/
 3. Routing rules → custom address "${local}" → Send to a Worker → microchat-${env}. Then Settings →
    Subaddressing → on, so replies to ${local}+<token>@${domainOfMail} reach the same rule.
    https://developers.cloudflare.com/email-service/configuration/email-routing-addresses/
 4. Email Sending → Onboard Domain: ${domainOfMail} (adds bounce MX, SPF, DKIM, DMARC). Until then replies reach
    only verified destination addresses; new accounts start with a daily quota.
    https://developers.cloudflare.com/email-service/platform/limits/
 5. If your site identifies signed-in customers (Microchat.setUser with a hash):
    npx wrangler secret put IDENTITY_SECRET --env ${env}   (and give the same value to your site's server)
 6. Put the widget on ${answers.sites.split(",")[0]}:
    <script src="https://${answers.domain}/widget.js" data-site-key="${readBlock(updated, env).values.SITE_KEY}" async></script>
`);

/** A fingerprint of the files under `dirs` plus `extra`. */
function hashTree(dirs, extra) {
  const hash = createHash("sha256").update(extra);
  const walk = (dir) => {
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (!name.endsWith(".map") && name !== "README.md") hash.update(name).update(readFileSync(path));
    }
  };
  for (const dir of dirs) walk(dir);
  return hash.digest("hex");
}
