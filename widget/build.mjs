// Builds the widget into dist/public: the tiny loader (widget.js), the rest
// of it loaded on demand into the page (widget/embed.js), the lazy chat app
// (widget/app.js + frame.html + frame.css) and the demo pages.
import { build } from "esbuild";
import { cpSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "dist/public");
mkdirSync(join(out, "widget"), { recursive: true });

const common = { bundle: true, minify: true, target: "es2020", legalComments: "none", logLevel: "warning" };
await build({
  ...common,
  entryPoints: [join(root, "widget/src/loader.ts")],
  outfile: join(out, "widget.js"),
  format: "iife",
});
await build({
  ...common,
  entryPoints: [join(root, "widget/src/embed.ts")],
  outfile: join(out, "widget/embed.js"),
  format: "iife",
});
await build({
  ...common,
  entryPoints: [join(root, "widget/src/app.ts")],
  outfile: join(out, "widget/app.js"),
  format: "esm",
});
cpSync(join(root, "widget/static"), join(out, "widget"), { recursive: true });
cpSync(join(root, "demo"), join(out, "demo"), { recursive: true });
console.log("widget built into dist/public");
