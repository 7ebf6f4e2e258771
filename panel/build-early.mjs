// Builds the panel's first, classic script into dist/public/early.js, after
// Vite has built the rest of the panel there (vite.config.ts adds its tag to
// the page's <head>). A classic script runs as soon as the <head> reaches it,
// while the page is still parsed and before the module script has arrived: if
// this browser was signed in before, it opens the panel socket and leaves it
// for the module to take (panel/src/lib/early-open.ts, early-socket.ts). The
// socket's handshake and its first frame, the conversation index, were what
// the first row waited for once the session answers came with the page
// (bench/panel.mjs).
import { build } from "esbuild";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(fileURLToPath(new URL(".", import.meta.url)), "..");
await build({
  stdin: {
    contents: `import { openPanelSocket, PARKED } from "./lib/early-open";
const opened = openPanelSocket();
if (opened) window[PARKED] = opened;`,
    resolveDir: join(root, "panel/src"),
    loader: "ts",
  },
  outfile: join(root, "dist/public/early.js"),
  bundle: true,
  minify: true,
  format: "iife",
  target: "es2020",
  legalComments: "none",
  logLevel: "warning",
});
