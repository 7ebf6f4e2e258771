/**
 * `npm run deploy` without a Cloudflare account: its dry run (what CI can
 * run) and the configuration it writes. The dry run resolves the production
 * configuration with wrangler itself and refuses demo values; the block it
 * writes keeps its site key and workspace id when run again, and staging gets
 * its own name, bucket and rate-limit namespaces next to production.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
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

/**
 * Runs the deploy script (no build: the suite built dist/ already) on a copy
 * of wrangler.toml, or on `config` when given; `env` adds variables (the
 * stand-in for Cloudflare's API: MICROCHAT_WRANGLER, FAKE_CF_STATE).
 */
function deploy(args: string[], { config, env = {} }: { config?: string; env?: Record<string, string> } = {}) {
  let original = config ? readFileSync(config, "utf8") : "";
  if (!config) {
    // A copy elsewhere, its paths made absolute so it builds the same Worker.
    config = join(mkdtempSync(join(tmpdir(), "microchat-deploy-")), "wrangler.toml");
    writeFileSync(
      config,
      readFileSync(join(root, "wrangler.toml"), "utf8")
        .replace(/^main = "([^"]+)"/m, (_m, p: string) => `main = "${join(root, p)}"`)
        .replace(/^directory = "([^"]+)"/m, (_m, p: string) => `directory = "${join(root, p)}"`),
    );
    original = readFileSync(config, "utf8");
  }
  const res = spawnSync(process.execPath, ["scripts/deploy.mjs", "--skip-build", "--config", config, ...args], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", ...env },
    stdin: "ignore",
  } as Parameters<typeof spawnSync>[2] & { encoding: "utf8" });
  return { status: res.status, out: `${res.stdout}${res.stderr}`, config, original };
}

type Account = { buckets: string[]; workers: Record<string, { secrets: string[]; deploys: number }>; calls: string[] };

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
    assert.equal(readFileSync(run.config, "utf8"), run.original, "a dry run changed wrangler.toml");
    const written = readFileSync(join(root, "dist/deploy/wrangler.toml"), "utf8");
    const block = readBlock(written, "production") as Block;
    assert.ok(block, `no [env.production] block in:\n${written}`);
    assert.match(block.values.SITE_KEY!, /^pk_[0-9a-f]{24}$/);
    assert.match(block.values.WORKSPACE_ID!, /^ws_[0-9a-f]{24}$/);
    assert.equal(block.values.PUBLIC_URL, "https://chat.example.com");
    assert.equal(block.values.EMAIL_ADDRESS, "support@example.com");
    assert.equal(block.values.SITE_ORIGINS, "https://www.example.com,https://shop.example.com");
    assert.equal(block.values.MAX_UPLOAD_BYTES, String(10 * 1024 * 1024), "the default upload limit, 10 MB");
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
    // A flag it does not know, or one without its value: named, with the flags it takes, and no stack trace.
    for (const args of [["--max-upload", "25"], ["--max-upload-mb"], ["--max-upload-mb", "-3"]]) {
      const unknown = deploy(["--dry-run", ...ANSWERS, ...args]);
      assert.equal(unknown.status, 2, unknown.out);
      assert.match(unknown.out, /✖ .*'--max-upload[^]*flags: --env, --domain, .*--max-upload-mb/);
      assert.doesNotMatch(unknown.out, /\n\s+at /, "a stack trace");
    }
    assert.match(readFileSync(missing.config, "utf8"), /^SITE_KEY = "demo"$/m, "the local config is untouched");
  });

  it("--max-upload-mb sets the upload limit, is checked, and is kept by a later run that does not name it", () => {
    const run = deploy(["--dry-run", ...ANSWERS, "--max-upload-mb", "25"]);
    assert.equal(run.status, 0, run.out);
    const written = readFileSync(join(root, "dist/deploy/wrangler.toml"), "utf8");
    assert.equal((readBlock(written, "production") as Block).values.MAX_UPLOAD_BYTES, String(25 * 1024 * 1024));
    for (const bad of ["0", "101", "2.5", "10MB", "-3"]) {
      const refused = deploy(["--dry-run", ...ANSWERS, `--max-upload-mb=${bad}`]);
      assert.equal(refused.status, 2, `--max-upload-mb ${bad}: ${refused.out}`);
      assert.match(
        refused.out,
        new RegExp(`--max-upload-mb must be a whole number of megabytes from 1 to 100.*got "${bad}"`),
      );
    }
    // A run that does not name it keeps what the block says (an earlier run's, or a hand edit), and changes nothing.
    const base = readFileSync(join(root, "wrangler.toml"), "utf8");
    const once = writeBlock(base, "production", envBlock({ ...answers("production"), maxUploadMb: "5" }));
    const kept = (readBlock(once, "production") as Block).values;
    assert.equal(kept.MAX_UPLOAD_BYTES, String(5 * 1024 * 1024));
    assert.equal(writeBlock(once, "production", envBlock(answers("production"), kept)), once);
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

  it("for real (against a stand-in for Cloudflare's API): creates the bucket and the secret once; run again, it changes and uploads nothing", () => {
    const dir = mkdtempSync(join(tmpdir(), "microchat-account-"));
    const fake = {
      MICROCHAT_WRANGLER: join(root, "test/e2e/fixtures/fake-wrangler.mjs"),
      FAKE_CF_STATE: join(dir, "account.json"),
    };
    const account = () => JSON.parse(readFileSync(fake.FAKE_CF_STATE, "utf8")) as Account;
    const first = deploy(ANSWERS, { env: fake });
    assert.equal(first.status, 0, first.out);
    let seen = account();
    assert.deepEqual(seen.buckets, ["microchat-attachments-production"]);
    assert.deepEqual(seen.workers["microchat-production"], { secrets: ["SESSION_SECRET"], deploys: 1 }, first.out);
    assert.ok(
      seen.calls.some((c) => /^deploy --env production --config \S+ --secrets-file /.test(c)),
      seen.calls.join("\n"),
    );
    const written = readFileSync(first.config, "utf8");
    assert.ok(readBlock(written, "production"), "wrangler.toml has its [env.production] block");
    assert.equal(
      readdirSync(join(dirname(first.config), ".wrangler/deploy")).filter((f) => f.includes("secrets")).length,
      0,
      "the generated secret is not left on disk",
    );

    // Again, with no answers: they come from the block; nothing is created, set or uploaded.
    const calls = seen.calls.length;
    const again = deploy([], { config: first.config, env: fake });
    assert.equal(again.status, 0, again.out);
    assert.match(again.out, /nothing changed since the last deploy/);
    assert.equal(readFileSync(first.config, "utf8"), written, "wrangler.toml changed on a second run");
    seen = account();
    assert.deepEqual(seen.workers["microchat-production"], { secrets: ["SESSION_SECRET"], deploys: 1 });
    const later = seen.calls.slice(calls);
    assert.ok(
      !later.some((c) => c.startsWith("r2 bucket create") || /^deploy (?!--dry-run)/.test(c)),
      later.join("\n"),
    );

    // A changed answer: one line of the block, one upload, the secret left alone.
    const renamed = deploy(["--name", "Renamed Support"], { config: first.config, env: fake });
    assert.equal(renamed.status, 0, renamed.out);
    seen = account();
    assert.deepEqual(seen.workers["microchat-production"], { secrets: ["SESSION_SECRET"], deploys: 2 });
    assert.ok(!seen.calls.at(-1)!.includes("--secrets-file"), seen.calls.at(-1));

    // The API failing to list secrets stops the deploy: setting SESSION_SECRET again would sign every visitor out.
    const outage = deploy(["--name", "Another Name"], {
      config: first.config,
      env: { ...fake, FAKE_CF_FAIL: "secrets" },
    });
    assert.equal(outage.status, 2, outage.out);
    assert.match(outage.out, /could not list the Worker's secrets/);
    assert.equal(account().workers["microchat-production"]!.deploys, 2);
  });
});
