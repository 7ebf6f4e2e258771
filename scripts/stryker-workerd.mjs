/**
 * A StrykerJS plugin module that lets @stryker-mutator/vitest-runner run our
 * tests where they belong: inside workerd, through @cloudflare/vitest-plugin.
 *
 * The runner starts Vitest with `pool: "threads"` (its option allows only
 * Node's pools), which would replace the workerd pool that vitest.config.ts
 * sets. This module is loaded by every Stryker process before the runner
 * starts Vitest; it drops the pool override so the project's config decides.
 * It registers no plugins of its own.
 */
import { fileURLToPath } from "node:url";

const wrapperUrl = new URL(
  "../node_modules/@stryker-mutator/vitest-runner/dist/src/vitest-wrapper.js",
  import.meta.url,
);
const { vitestWrapper } = await import(wrapperUrl.href);
const createVitest = vitestWrapper.createVitest;
vitestWrapper.createVitest = (mode, options, ...rest) => {
  const { pool: _pool, maxWorkers: _workers, ...keep } = options;
  return createVitest(mode, keep, ...rest);
};
void fileURLToPath;

export const strykerPlugins = [];
