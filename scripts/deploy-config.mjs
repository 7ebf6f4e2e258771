// The part of `npm run deploy` that decides what to deploy, with no side
// effects: it checks the answers, and writes (or reads back) the
// `[env.<name>]` block of wrangler.toml between two marker lines. Running it
// again with the same answers gives the same block, keeping the site key and
// workspace id made the first time (see scripts/deploy.mjs).
import { randomBytes } from "node:crypto";

/** The environments `npm run deploy` manages, each with its own rate-limit namespaces (an account-wide number). */
export const ENVIRONMENTS = { production: 1100, staging: 1200 };

/** Whether `value` is (or holds) what the repository's wrangler.toml carries for local use only. */
export function isDemo(value) {
  const v = value.toLowerCase();
  return v === "demo" || ["microchat.example", "127.0.0.1", "localhost", "microchat demo"].some((d) => v.includes(d));
}

const RATE_LIMITS = [
  ["SESSION_LIMIT", 30],
  ["UPLOAD_LIMIT", 30],
  ["MESSAGE_LIMIT", 120],
  ["LOGIN_LIMIT", 30],
];

const begin = (env) => `# >>> microchat deploy: ${env}`;
const end = (env) => `# <<< microchat deploy: ${env}`;

/** A random identifier with `prefix`: lowercase letters and digits. */
export function randomKey(prefix) {
  return prefix + randomBytes(12).toString("hex");
}

/** The upload limit when none is given: 10 MB, as the Worker's own default (worker/lib/files.ts). */
export const DEFAULT_MAX_UPLOAD_MB = 10;
/**
 * The largest upload limit that can be set: Cloudflare refuses request bodies over 100 MB on the Free and Pro
 * plans (more on Business and Enterprise), so a higher limit would only promise what the edge refuses.
 */
export const MAX_UPLOAD_MB = 100;

/** Problems with the answers, in words; empty when they are usable. */
export function checkAnswers({ env, domain, sites, email, name, maxUploadMb }) {
  const problems = [];
  if (!(env in ENVIRONMENTS)) problems.push(`--env must be one of ${Object.keys(ENVIRONMENTS).join(", ")}`);
  if (!/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(domain ?? "")) {
    problems.push("--domain must be a host name such as chat.example.com (where the panel and API will live)");
  }
  const origins = (sites ?? "").split(",").map((s) => s.trim());
  for (const site of origins) {
    let url = null;
    try {
      url = new URL(site);
    } catch {
      // reported below
    }
    if (!url || url.protocol !== "https:" || url.origin !== site) {
      problems.push(
        `--site must be https origins separated by commas, such as https://www.example.com (got "${site}")`,
      );
    }
  }
  if (!/^[^\s@<>"]+@([a-z0-9-]+\.)+[a-z]{2,63}$/i.test(email ?? "")) {
    problems.push("--email must be the support address, such as support@example.com");
  }
  if (!name || name.length > 80 || /["\\\n]/.test(name))
    problems.push('--name must be 1–80 characters, without " or \\');
  const mb = Number(maxUploadMb);
  if (maxUploadMb !== undefined && (!/^\d+$/.test(String(maxUploadMb)) || mb < 1 || mb > MAX_UPLOAD_MB)) {
    problems.push(
      `--max-upload-mb must be a whole number of megabytes from 1 to ${MAX_UPLOAD_MB}, the largest request body Cloudflare takes on the Free and Pro plans (got "${maxUploadMb}")`,
    );
  }
  for (const [flag, value] of [
    ["--domain", domain],
    ["--site", sites],
    ["--email", email],
  ]) {
    if (value && isDemo(value)) problems.push(`${flag} is the local demo's value (${value}): use your own`);
  }
  return problems;
}

/** The managed block of environment `env` in `toml`, or null. */
export function readBlock(toml, env) {
  const from = toml.indexOf(begin(env));
  if (from < 0) return null;
  const to = toml.indexOf(end(env), from);
  if (to < 0) throw new Error(`wrangler.toml: "${begin(env)}" has no "${end(env)}" line; repair it by hand`);
  const text = toml.slice(from, to + end(env).length);
  const values = {};
  for (const m of text.matchAll(/^([A-Z_]+) = "([^"]*)"$/gm)) values[m[1]] = m[2];
  return { text, values };
}

/** `toml` with the block of `env` replaced by (or ended with) `block`. */
export function writeBlock(toml, env, block) {
  const old = readBlock(toml, env);
  if (old) return toml.replace(old.text, block.trimEnd());
  return `${toml.trimEnd()}\n\n${block.trimEnd()}\n`;
}

/**
 * The `[env.<env>]` block for these answers. `kept` holds the values of the
 * block already there: its site key and workspace id are kept, never
 * remade (a new workspace id would be a new, empty workspace).
 */
export function envBlock({ env, domain, sites, email, name, maxUploadMb }, kept = {}) {
  const base = ENVIRONMENTS[env];
  const siteKey = kept.SITE_KEY ?? randomKey("pk_");
  const workspaceId = kept.WORKSPACE_ID ?? randomKey("ws_");
  // A limit given now wins; else the one written before (changed by hand or by an earlier run); else the default.
  const maxUploadBytes =
    maxUploadMb !== undefined
      ? String(Number(maxUploadMb) * 1024 * 1024)
      : (kept.MAX_UPLOAD_BYTES ?? String(DEFAULT_MAX_UPLOAD_MB * 1024 * 1024));
  const q = (s) => JSON.stringify(s);
  const lines = [
    begin(env) + " (written by `npm run deploy`; run it again to change this block)",
    `[env.${env}]`,
    `name = ${q(`microchat-${env}`)}`,
    "workers_dev = false",
    `routes = [{ pattern = ${q(domain)}, custom_domain = true }]`,
    "",
    `[env.${env}.vars]`,
    `SITE_KEY = ${q(siteKey)}`,
    `WORKSPACE_ID = ${q(workspaceId)}`,
    `WORKSPACE_NAME = ${q(name)}`,
    `MAX_UPLOAD_BYTES = ${q(maxUploadBytes)}`,
    `EMAIL_ADDRESS = ${q(email)}`,
    `PUBLIC_URL = ${q(`https://${domain}`)}`,
    `SITE_ORIGINS = ${q(sites)}`,
    "",
    `[env.${env}.secrets]`,
    `required = ["SESSION_SECRET"]`,
    "",
    `[[env.${env}.durable_objects.bindings]]`,
    `name = "CONVERSATION"`,
    `class_name = "Conversation"`,
    "",
    `[[env.${env}.durable_objects.bindings]]`,
    `name = "WORKSPACE"`,
    `class_name = "Workspace"`,
    "",
    `[[env.${env}.r2_buckets]]`,
    `binding = "ATTACHMENTS"`,
    `bucket_name = ${q(bucketName(env))}`,
    "",
    `[[env.${env}.send_email]]`,
    `name = "SEND_EMAIL"`,
  ];
  RATE_LIMITS.forEach(([binding, limit], i) => {
    lines.push(
      "",
      `[[env.${env}.ratelimits]]`,
      `name = ${q(binding)}`,
      `namespace_id = ${q(String(base + i + 1))}`,
      `simple = { limit = ${limit}, period = 60 }`,
    );
  });
  lines.push(end(env));
  return lines.join("\n") + "\n";
}

/** The R2 bucket of environment `env`. */
export function bucketName(env) {
  return `microchat-attachments-${env}`;
}
