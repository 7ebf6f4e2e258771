#!/usr/bin/env node
// What each library the panel could use instead of hand-written code would
// cost it, gzipped. Each file in ./candidates is built alone, the way the
// panel is built (Vite + the Solid plugin, minified), with Solid itself left
// out because the panel already pays for it; JS and CSS are counted, gzip
// level 9 as in bench/size.mjs. "hand" files use the panel's own modules.
//
// The libraries that were not adopted are not dependencies; to run this,
// install them without saving first (versions as measured in
// docs/decisions/panel-libraries.md):
//   npm i --no-save @kobalte/core@0.13.14 @tanstack/solid-virtual@3.13.53 uplot@1.6.32 partysocket@1.3.0
//   node panel/scripts/measure-libraries.mjs
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "vite";
import solid from "vite-plugin-solid";

const dir = fileURLToPath(new URL("./candidates/", import.meta.url));
const files = readdirSync(dir)
  .filter((f) => /\.tsx?$/.test(f))
  .sort();

const rows = [];
for (const file of files) {
  let out;
  try {
    out = await build({
      configFile: false,
      logLevel: "silent",
      plugins: [solid()],
      build: {
        write: false,
        minify: true,
        target: "es2022",
        modulePreload: { polyfill: false },
        cssCodeSplit: false,
        rollupOptions: {
          input: dir + file,
          external: [/^solid-js(\/|$)/],
        },
      },
    });
  } catch (e) {
    rows.push({ file, error: String(e.message ?? e).split("\n")[0] });
    continue;
  }
  const outputs = (Array.isArray(out) ? out : [out]).flatMap((o) => o.output);
  const bytes = (kind) =>
    outputs
      .filter((o) => (kind === "css" ? o.fileName.endsWith(".css") : o.type === "chunk"))
      .reduce((n, o) => n + gzipSync(o.type === "chunk" ? o.code : o.source, { level: 9 }).length, 0);
  rows.push({ file, js: bytes("js"), css: bytes("css") });
}

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
for (const r of rows) {
  if (r.error) console.log(`${r.file.padEnd(24)} could not be built: ${r.error}`);
  else console.log(`${r.file.padEnd(24)} ${kb(r.js + r.css).padStart(8)} gzipped${r.css ? ` (CSS ${kb(r.css)})` : ""}`);
}
