/**
 * `npm run deploy` without a Cloudflare account: its dry run (what CI can
 * run) and the configuration it writes. The dry run resolves the production
 * configuration with wrangler itself and refuses demo values; the block it
 * writes keeps its site key and workspace id when run again, and staging gets
 * its own name, bucket and rate-limit namespaces next to production.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
// @ts-expect-error plain JavaScript module of the deploy script, no types
import { envBlock, readBlock, writeBlock } from "../../scripts/deploy-config.mjs";

const root = join(import.meta.dirname, "../..");
const ANSWERS = [
  "--domain",
  "chat.example.com",
  "--site",
  "https://www.example.com,https://shop.example.com",
  "--email",
  "support@example.com",
  "--name",
  "Example Support",
];

/** Runs the deploy script (no build: the suite built dist/ already) on a copy of wrangler.toml. */
function deploy(args: string[]) {
  const dir = mkdtempSync(join(tmpdir(), "microchat-deploy-"));
  const config = join(dir, "wrangler.toml");
  copyFileSync(join(root, "wrangler.toml"), config);
  const res = spawnSync(process.execPath, ["scripts/deploy.mjs", "--skip-build", "--config", config, ...args], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    stdin: "ignore",
  } as Parameters<typeof spawnSync>[2] & { encoding: "utf8" });
  return { status: res.status, out: `${res.stdout}${res.stderr}`, config };
}

type Block = { text: string; values: Record<string, string> };
const answers = (env: string) => ({
  env,
  domain: `${env === "production" ? "chat" : "chat-staging"}.example.com`,
  sites: "https://www.example.com",
  email: "support@example.com",
  name: "Example Support",
});

describe("npm run deploy", () => {
  it("--dry-run resolves a production configuration with no demo value, and leaves wrangler.toml alone", () => {
    const run = deploy(["--dry-run", ...ANSWERS]);
    assert.equal(run.status, 0, run.out);
    assert.equal(readFileSync(run.config, "utf8"), readFileSync(join(root, "wrangler.toml"), "utf8"));
    const written = readFileSync(join(root, "dist/deploy/wrangler.toml"), "utf8");
    const block = readBlock(written, "production") as Block;
    assert.ok(block, `no [env.production] block in:\n${written}`);
    assert.match(block.values.SITE_KEY!, /^pk_[0-9a-f]{24}$/);
    assert.match(block.values.WORKSPACE_ID!, /^ws_[0-9a-f]{24}$/);
    assert.equal(block.values.PUBLIC_URL, "https://chat.example.com");
    assert.equal(block.values.EMAIL_ADDRESS, "support@example.com");
    assert.equal(block.values.SITE_ORIGINS, "https://www.example.com,https://shop.example.com");
    for (const demo of ['"demo"', "microchat.example", "127.0.0.1"]) {
      assert.ok(!block.text.includes(demo), `the production block carries ${demo}`);
    }
    // What wrangler would ship, as it printed it.
    assert.match(run.out, /✔ production: SITE_KEY=pk_/);
    assert.match(run.out, /data-site-key="pk_[0-9a-f]{24}"/);
    assert.match(run.out, /Subaddressing/);
  });

  it("refuses demo values and missing answers with a reason, before anything is built", () => {
    const demo = deploy(["--dry-run", ...ANSWERS.slice(0, 4), "--email", "support@microchat.example", "--name", "X"]);
    assert.equal(demo.status, 2, demo.out);
    assert.match(demo.out, /--email is the local demo's value/);
    const local = deploy(["--dry-run", "--domain", "127.0.0.1", ...ANSWERS.slice(2)]);
    assert.equal(local.status, 2, local.out);
    assert.match(local.out, /--domain must be a host name/);
    const http = deploy(["--dry-run", ...ANSWERS.slice(0, 2), "--site", "http://www.example.com", ...ANSWERS.slice(4)]);
    assert.equal(http.status, 2, http.out);
    assert.match(http.out, /--site must be https origins/);
    const missing = deploy(["--dry-run", "--domain", "chat.example.com"]);
    assert.equal(missing.status, 2, missing.out);
    assert.match(missing.out, /missing --site, --email, --name/);
    assert.match(readFileSync(missing.config, "utf8"), /^SITE_KEY = "demo"$/m, "the local config is untouched");
  });

  it("the written block is stable: run again, it keeps its site key and workspace id and changes nothing", () => {
    const base = readFileSync(join(root, "wrangler.toml"), "utf8");
    const once = writeBlock(base, "production", envBlock(answers("production")));
    const kept = (readBlock(once, "production") as Block).values;
    const twice = writeBlock(once, "production", envBlock(answers("production"), kept));
    assert.equal(twice, once);
    // A changed answer changes only its own line; the identity stays.
    const renamed = writeBlock(once, "production", envBlock({ ...answers("production"), name: "Renamed" }, kept));
    const after = (readBlock(renamed, "production") as Block).values;
    assert.equal(after.WORKSPACE_ID, kept.WORKSPACE_ID);
    assert.equal(after.SITE_KEY, kept.SITE_KEY);
    assert.equal(after.WORKSPACE_NAME, "Renamed");
    assert.equal(renamed.split("\n").length, once.split("\n").length);
  });

  it("staging sits next to production with its own name, state, bucket, identity and rate-limit namespaces", () => {
    const base = readFileSync(join(root, "wrangler.toml"), "utf8");
    const both = writeBlock(
      writeBlock(base, "production", envBlock(answers("production"))),
      "staging",
      envBlock(answers("staging")),
    );
    const prod = readBlock(both, "production") as Block;
    const staging = readBlock(both, "staging") as Block;
    assert.notEqual(prod.values.WORKSPACE_ID, staging.values.WORKSPACE_ID);
    assert.match(staging.text, /^name = "microchat-staging"$/m);
    assert.match(staging.text, /bucket_name = "microchat-attachments-staging"/);
    const namespaces = (text: string) => [...text.matchAll(/namespace_id = "(\d+)"/g)].map((m) => m[1]);
    const top = namespaces(base.slice(0, base.indexOf("# >>>") >= 0 ? base.indexOf("# >>>") : undefined));
    const all = [...top, ...namespaces(prod.text), ...namespaces(staging.text)];
    assert.equal(new Set(all).size, all.length, `namespace ids shared between environments: ${all.join(", ")}`);
    // Both resolve with wrangler (the dry run of each environment).
    const run = deploy(["--dry-run", "--env", "staging", ...ANSWERS]);
    assert.equal(run.status, 0, run.out);
    assert.match(run.out, /✔ staging: SITE_KEY=pk_/);
  });
});
