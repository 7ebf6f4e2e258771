/**
 * Starts Microchat the way the README does (`npm start`, i.e.
 * scripts/start.mjs → wrangler dev) on its own port with a fresh temporary
 * state directory, for the browser tests.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface AppServer {
  base: string;
  /** Everything `npm start` printed so far (stdout and stderr). */
  output(): string;
  stop(): Promise<void>;
}

const root = join(import.meta.dirname, "../..");

/** A free loopback port, so two test runs on one machine never meet. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

/**
 * `vars` become `wrangler dev --var NAME:value` (e.g. `{ RATE_LIMITS: "off" }`
 * for a test that opens more than the per-IP limit of new conversations).
 */
export async function startApp(port?: number, vars: Record<string, string> = {}): Promise<AppServer> {
  port ??= await freePort();
  const wranglerArgs = Object.entries(vars).map(([name, value]) => `--var ${name}:${value}`);
  const state = mkdtempSync(join(tmpdir(), "microchat-e2e-"));
  const child: ChildProcess = spawn(process.execPath, [join(root, "scripts/start.mjs")], {
    cwd: root,
    env: {
      ...process.env,
      MICROCHAT_PORT: String(port),
      MICROCHAT_STATE: state,
      MICROCHAT_SKIP_BUILD: "1",
      MICROCHAT_WRANGLER_ARGS: [process.env.MICROCHAT_WRANGLER_ARGS ?? "", ...wranglerArgs].join(" ").trim(),
    },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`app exited early:\n${output}`);
    try {
      if ((await fetch(`${base}/healthz`)).ok) break;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`app did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 300));
  }
  return {
    base,
    output: () => output,
    async stop() {
      if (child.pid) {
        try {
          process.kill(-child.pid, "SIGTERM");
        } catch {
          // already gone
        }
      }
      await new Promise((r) => setTimeout(r, 500));
      rmSync(state, { recursive: true, force: true });
    },
  };
}
