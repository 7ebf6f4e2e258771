#!/usr/bin/env node
// `npm run bench:mail`: what one inbound mail costs, per MB, for ordinary
// mail and for mail built to be expensive (issue 16, "one email can freeze
// the instance"). Each mail goes through the real `email()` handler inside
// `wrangler dev` (bench/mail/worker.ts hands it the request body as Email
// Routing would), into real Durable Objects and R2. While a mail is being
// taken in, /healthz is asked again and again: its slowest answer is how long
// the instance stood still for everyone else.
//
//   npm run bench:mail                         sizes 1, 4 and 9 MiB
//   npm run bench:mail -- --sizes 0.05,0.1     other sizes (MiB)
//   npm run bench:mail -- --kinds quoted,br    only some kinds (by key)
//   npm run bench:mail -- --timeout 120        give up on one mail after N s
//   npm run bench:mail -- --repeat 3           each mail N times, the median counts
//
// Ingest is linear when what one more MB costs (msPerExtraMb: the slope from
// the smallest size to the largest, the fixed cost of a mail taken out) stays
// about what it is for ordinary mail, and a refused mail costs less still.
// Figures: bench/results/mail-latest.json (BENCH_SAVE=name keeps a dated copy).
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { provenance, writeResults } from "./results.mjs";
import { freePort, spawnMicrochat, stopMicrochat, waitReady } from "./server.mjs";

const { values: opts } = parseArgs({
  options: {
    sizes: { type: "string", default: "1,4,9" },
    kinds: { type: "string" },
    timeout: { type: "string", default: "300" },
    repeat: { type: "string", default: "1" },
  },
});
const MiB = 1024 * 1024;
const sizes = opts.sizes.split(",").map(Number);
const timeoutMs = Number(opts.timeout) * 1000;
const repeat = Math.max(1, Number(opts.repeat));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** `unit` repeated to about `bytes` bytes. */
const fill = (unit, bytes) => unit.repeat(Math.max(1, Math.floor(bytes / unit.length)));
let serial = 0;
/** A whole mail: headers, then `body` as one part of `type`. */
function mail(from, type, body, extra = "") {
  return (
    `From: Bench Sender <${from}>\r\nTo: support@microchat.example\r\nSubject: bench ${serial}\r\n` +
    `Message-ID: <bench.${Date.now()}.${serial}@example.org>\r\nMIME-Version: 1.0\r\n` +
    `Content-Type: ${type}\r\n${extra}\r\n${body}`
  );
}
const PROSE = "Hello, my order #12345 has not arrived yet; could you tell me where it is? Thanks, Alice\r\n";
const NEWSLETTER =
  '<table role="presentation" width="100%" style="border-collapse:collapse"><tr><td style="padding:12px;font-family:Arial">\r\n' +
  '<p style="margin:0 0 8px">Hello <b>Alice</b>, your order <a href="https://shop.example/o/123">#123</a> has shipped.</p>\r\n' +
  '<img src="https://cdn.example/pixel.png" alt="" width="1" height="1"><br>\r\n</td></tr></table>\r\n';

/** The kinds of mail, each at a given body size in bytes: ordinary first, then the attacks. */
const KINDS = {
  text: ["ordinary text", (b, f) => mail(f, "text/plain; charset=utf-8", fill(PROSE, b))],
  html: ["ordinary HTML (newsletter tables)", (b, f) => mail(f, "text/html; charset=utf-8", fill(NEWSLETTER, b))],
  quoted: ["quoted flood: >\\r\\n, then one new line", (b, f) => mail(f, "text/plain", `${fill(">\r\n", b)}new\r\n`)],
  br: ["tag flood: <br without >", (b, f) => mail(f, "text/html", fill("<br", b))],
  line: ["one huge line", (b, f) => mail(f, "text/plain", fill("a", b))],
  spaces: ["one huge run of spaces in HTML", (b, f) => mail(f, "text/html", `<p>${fill(" ", b)}x</p>`)],
  deep: ["deep nesting: <div> never closed", (b, f) => mail(f, "text/html", fill("<div>", b))],
  tables: ["deep tables: <table><tr><td>", (b, f) => mail(f, "text/html", fill("<table><tr><td>", b))],
  stray: ["open tags, then stray closes", (b, f) => mail(f, "text/html", fill("<b>", b / 2) + fill("</i>", b / 2))],
  lf: ["empty lines: bare \\n", (b, f) => mail(f, "text/plain", `${fill("\n", b)}x`)],
  parts: [
    "MIME parts without headers",
    (b, f) => mail(f, "multipart/mixed; boundary=b", `${fill("--b\r\n\r\nx\r\n", b)}--b--\r\n`),
  ],
  headers: [
    "many tiny headers (250 KB of them)",
    (b, f) => mail(f, "text/plain", fill(PROSE, b), fill("X-A: b\r\n", 250 * 1024)),
  ],
  from: [
    "one huge From address (200 KB)",
    (b, f) =>
      mail(f, "text/plain", fill(PROSE, b)).replace(`<${f}>`, `<${f.replace("@", `@${"a.".repeat(100_000)}`)} x>`),
  ],
  qp: [
    "quoted-printable soft breaks",
    (b, f) => mail(f, "text/plain", `${fill("=\r\n", b)}x`, "Content-Transfer-Encoding: quoted-printable\r\n"),
  ],
};
const kinds = opts.kinds ? opts.kinds.split(",") : Object.keys(KINDS);
for (const k of kinds) if (!KINDS[k]) throw new Error(`unknown kind ${k}; known: ${Object.keys(KINDS).join(", ")}`);

const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const state = mkdtempSync(join(tmpdir(), "microchat-mail-"));
const child = spawnMicrochat({ port, state, entry: "bench/mail/worker.ts" });

/** GET /healthz in a loop until `done`; the slowest answer, in ms. */
async function probe(done) {
  let worst = 0;
  while (!done.value) {
    const t = performance.now();
    await fetch(`${base}/healthz`).then((r) => r.arrayBuffer());
    worst = Math.max(worst, performance.now() - t);
    await new Promise((r) => setTimeout(r, 20));
  }
  return worst;
}

/** Delivers one mail; its wall time, the slowest /healthz meanwhile, and the refusal if any. */
async function deliver(raw, from) {
  const done = { value: false };
  const probing = probe(done);
  const t = performance.now();
  let rejected;
  try {
    const res = await fetch(`${base}/api/bench/email?from=${encodeURIComponent(from)}&to=support@microchat.example`, {
      method: "POST",
      body: raw,
      signal: AbortSignal.timeout(timeoutMs),
    });
    rejected = (await res.json()).rejected;
  } catch (err) {
    rejected = `bench: ${err.name === "TimeoutError" ? `no answer in ${timeoutMs / 1000} s` : err.message}`;
  }
  const ms = performance.now() - t;
  done.value = true;
  return { ms, healthzWorstMs: await probing, rejected };
}

const rows = [];
try {
  await waitReady(`${base}/healthz`, child);
  // One ordinary mail first, not counted: the Durable Objects and the code paths warm up.
  await deliver(new TextEncoder().encode(KINDS.text[1](64 * 1024, "warmup@example.org")), "warmup@example.org");
  for (const key of kinds) {
    const [label, make] = KINDS[key];
    for (const mib of sizes) {
      const runs = [];
      let raw;
      for (let i = 0; i < repeat; i++) {
        const from = `bench.${key}.${serial++}@example.org`;
        raw = new TextEncoder().encode(make(mib * MiB - 1024, from));
        runs.push(await deliver(raw, from));
        if (runs.at(-1).rejected?.startsWith("bench:")) break;
      }
      const r = {
        ms: median(runs.map((x) => x.ms)),
        healthzWorstMs: median(runs.map((x) => x.healthzWorstMs)),
        rejected: runs.at(-1).rejected,
      };
      const mb = raw.byteLength / MiB;
      const row = {
        kind: key,
        label,
        mb: Math.round(mb * 100) / 100,
        ms: Math.round(r.ms),
        msPerMb: Math.round(r.ms / mb),
        healthzWorstMs: Math.round(r.healthzWorstMs),
        rejected: r.rejected,
      };
      rows.push(row);
      console.log(
        `${label.padEnd(42)} ${String(row.mb).padStart(6)} MB ${String(row.ms).padStart(7)} ms ${String(row.msPerMb).padStart(6)} ms/MB  /healthz worst ${row.healthzWorstMs} ms${row.rejected ? `  refused: ${row.rejected}` : ""}`,
      );
      if (r.rejected?.startsWith("bench:")) {
        // The instance may still be busy with it: wait until it answers again, and skip the bigger sizes.
        await fetch(`${base}/healthz`);
        break;
      }
    }
  }
  // Per kind: ms per MB at the largest size, and the slope from the smallest size to the largest (what one
  // more MB costs, the fixed cost of a mail taken out), over the mails that were not given up on.
  const perKind = Object.fromEntries(
    kinds.map((k) => {
      const mine = rows.filter((r) => r.kind === k && !r.rejected?.startsWith("bench:"));
      if (mine.length === 0) return [k, null];
      const [small, large] = [mine[0], mine.at(-1)];
      const slope = large.mb > small.mb ? Math.round((large.ms - small.ms) / (large.mb - small.mb)) : null;
      return [k, { msPerMbAtLargest: large.msPerMb, msPerExtraMb: slope, refused: large.rejected ?? null }];
    }),
  );
  const result = {
    ...provenance(),
    sizesMiB: sizes,
    repeat,
    rows,
    perKind,
    worstHealthzMs: Math.max(...rows.map((r) => r.healthzWorstMs)),
  };
  console.log(JSON.stringify({ perKind, worstHealthzMs: result.worstHealthzMs }, null, 2));
  writeResults("mail-latest", result);
} finally {
  await stopMicrochat(child, state);
}
process.exit(0);
