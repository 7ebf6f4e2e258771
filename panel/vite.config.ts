// Builds the operator panel into dist/public, which the Worker serves as
// static assets (with index.html as the SPA fallback).
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import solid from "vite-plugin-solid";

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: here("."),
  base: "/",
  plugins: [
    solid(),
    {
      // The panel's first, classic script (built by build-early.mjs): it opens the panel socket while
      // the page is still parsed. First in the <head>, ahead of the stylesheet a classic script would wait
      // for; added as a tag rather than written in index.html, which Vite would try to bundle.
      name: "microchat-early-script",
      transformIndexHtml: () => [{ tag: "script", attrs: { src: "/early.js" }, injectTo: "head-prepend" }],
    },
  ],
  build: {
    outDir: here("../dist/public"),
    emptyOutDir: true,
    target: "es2022",
    // Keep the CSP strict: no inline module preload polyfill script.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
  },
});
