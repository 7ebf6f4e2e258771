/**
 * Worker tests run inside workerd through @cloudflare/vitest-plugin, with the
 * real Durable Objects, storage and sockets from wrangler.toml.
 */
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

/**
 * The only outside world the tests reach: a stand-in webhook receiver at
 * https://hooks.test. It records what it receives (read back at /_received)
 * and answers 500 under /fail so retries can be observed. Anything else
 * outbound is refused, so no test can touch the network.
 */
const received: { url: string; headers: Record<string, string>; body: string }[] = [];
async function outbound(request: Request): Promise<Response> {
  const url = new URL(request.url);
  if (url.hostname !== "hooks.test") return new Response(`unexpected outbound request: ${url}`, { status: 599 });
  if (url.pathname === "/_received") return Response.json(received);
  received.push({ url: request.url, headers: Object.fromEntries(request.headers), body: await request.text() });
  return new Response(url.pathname.startsWith("/fail") ? "nope" : "ok", {
    status: url.pathname.startsWith("/fail") ? 500 : 200,
  });
}

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: { SESSION_SECRET: "test-secret-0123456789abcdef", IDENTITY_SECRET: "test-identity-secret" },
        outboundService: outbound,
      },
    }),
  ],
  test: {
    // CommonJS-heavy dependencies are pre-bundled for workerd, as wrangler
    // bundles them for `dev`/`deploy` (the test runtime loads modules one by one).
    deps: { optimizer: { ssr: { enabled: true, include: ["sanitize-html", "mimetext/browser", "fast-check"] } } },
    include: ["test/**/*.test.ts"],
    exclude: ["test/e2e/**", "node_modules/**"],
    testTimeout: 20_000,
  },
});
