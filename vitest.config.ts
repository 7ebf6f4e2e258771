/**
 * Worker tests run inside workerd through @cloudflare/vitest-plugin, with the
 * real Durable Objects, storage and sockets from wrangler.toml.
 */
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: { SESSION_SECRET: "test-secret-0123456789abcdef" },
      },
    }),
  ],
  test: {
    // CommonJS-heavy dependencies are pre-bundled for workerd, as wrangler
    // bundles them for `dev`/`deploy` (the test runtime loads modules one by one).
    deps: { optimizer: { ssr: { enabled: true, include: ["sanitize-html", "mimetext/browser"] } } },
    include: ["test/**/*.test.ts"],
    exclude: ["test/e2e/**", "node_modules/**"],
    testTimeout: 20_000,
  },
});
