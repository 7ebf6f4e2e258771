// Builds the operator panel into dist/public, which the Worker serves as
// static assets (with index.html as the SPA fallback).
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import solid from "vite-plugin-solid";

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: here("."),
  base: "/",
  plugins: [solid()],
  build: {
    outDir: here("../dist/public"),
    emptyOutDir: true,
    target: "es2022",
    // Keep the CSP strict: no inline module preload polyfill script.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
  },
});
