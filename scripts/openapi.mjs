#!/usr/bin/env node
// The OpenAPI 3.1 document of /api/v1, made at build time from the one
// declaration of its operations (worker/validate/operations.ts) and committed
// as worker/validate/openapi.json, which the Worker serves as it is. Made here
// rather than in the Worker so that neither the generator
// (@asteasolutions/zod-to-openapi) nor the zod API it needs is uploaded.
//
//   npm run openapi                          writes the document
//   node scripts/openapi.mjs --check         (npm test) fails when the committed
//                                            document is not what the declarations make
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { OpenAPIRegistry, OpenApiGeneratorV31 } from "@asteasolutions/zod-to-openapi";
import { build } from "esbuild";
import * as prettier from "prettier";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const target = join(root, "worker/validate/openapi.json");
const check = process.argv.includes("--check");

// The operations module is TypeScript: bundle it for Node, its packages left
// to Node's resolution so that it and the generator share one zod.
const tmp = join(root, "node_modules/.cache/microchat-openapi");
mkdirSync(tmp, { recursive: true });
const bundled = join(tmp, `operations-${process.pid}.mjs`);
await build({
  entryPoints: [join(root, "worker/validate/operations.ts")],
  outfile: bundled,
  bundle: true,
  platform: "node",
  format: "esm",
  packages: "external",
  logLevel: "error",
});
let operations;
try {
  ({ operations } = await import(pathToFileURL(bundled).href));
} finally {
  rmSync(bundled, { force: true });
}

const registry = new OpenAPIRegistry();
// The two credentials every operation's `security` names.
registry.registerComponent("securitySchemes", "bearer", { type: "http", scheme: "bearer" });
registry.registerComponent("securitySchemes", "cookie", { type: "apiKey", in: "cookie", name: "mc_session" });
for (const operation of Object.values(operations)) registry.registerPath(operation);

const document = new OpenApiGeneratorV31(registry.definitions).generateDocument({
  openapi: "3.1.0",
  info: {
    title: "Microchat API",
    version: "1.0.0",
    description:
      "Live chat and support inbox. Authenticate with an API token (created by an admin in the panel) as `Authorization: Bearer mct_…`. A token has a scope: `read` (GET only), `write` (also join, leave, send and delete, without admin rights) or `admin` (everything, tokens and webhooks included), and may expire. Errors are `{ error: { code, message } }`.",
  },
  servers: [{ url: "/api/v1" }],
});

// Formatted as `prettier --check .` wants it, so the committed file passes the format check too.
const text = await prettier.format(JSON.stringify(document, null, 2), {
  ...(await prettier.resolveConfig(target)),
  filepath: target,
});

const name = relative(root, target);
if (check) {
  let committed = "";
  try {
    committed = readFileSync(target, "utf8");
  } catch {
    // Missing: reported as stale below.
  }
  if (committed !== text) {
    console.error(
      `✖ ${name} is not the document worker/validate/operations.ts makes: run \`npm run openapi\` and commit it`,
    );
    process.exit(1);
  }
  console.log(`${name} is current (${Object.keys(document.paths).length} paths)`);
} else {
  writeFileSync(target, text);
  console.log(`wrote ${name} (${Object.keys(document.paths).length} paths)`);
}
