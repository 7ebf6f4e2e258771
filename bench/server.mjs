// Starting Microchat for a benchmark or fault test: `scripts/start.mjs` (as
// `npm start` runs it, without the build) on a free loopback port and a state
// directory of the caller's, in its own process group so the whole
// `wrangler dev` tree can be stopped or killed at once.
import { spawn } from "node:child_process";
import { openSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** A TCP port free on 127.0.0.1 right now. */
export const freePort = () =>
  new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

/**
 * Spawns Microchat on `port` with its local state in `state`; rate limits off
 * unless asked for. `entry` runs another Worker entry with the same
 * wrangler.toml (bench/mail/worker.ts wraps the real one). `log` takes the
 * server's output (else BENCH_SERVER_LOG, else none); `env` replaces
 * process.env.
 */
export function spawnMicrochat({ port, state, rateLimits = false, entry, inspectorPort, log, env: extraEnv }) {
  // The entry goes first: `--var` takes every word after it. An inspector (bench/profile.mjs) wants names: unminified.
  // BENCH_SERVER_LOG=<file> (or `log`): wrangler's own lines (each request with its time) for looking into a run.
  const out = log ?? process.env.BENCH_SERVER_LOG;
  const args = [
    entry ?? "",
    inspectorPort ? `--inspector-port ${inspectorPort} --no-minify` : "",
    rateLimits ? "" : "--var RATE_LIMITS:off",
  ]
    .filter(Boolean)
    .join(" ");
  return spawn(process.execPath, [join(root, "scripts/start.mjs")], {
    cwd: root,
    env: {
      ...(extraEnv ?? process.env),
      WRANGLER_SEND_METRICS: "false",
      MICROCHAT_PORT: String(port),
      MICROCHAT_STATE: state,
      MICROCHAT_SKIP_BUILD: "1",
      ...(args ? { MICROCHAT_WRANGLER_ARGS: args } : {}),
    },
    stdio: out ? ["ignore", openSync(out, "a"), "inherit"] : "ignore",
    detached: true,
  });
}

/** Waits until `url` answers 2xx; fails if `child` exits first or 90 s pass. */
export async function waitReady(url, child) {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited early: ${url}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`server did not start: ${url}`);
}

/** Stops the whole `wrangler dev` tree of `child` and removes its state directory. */
export async function stopMicrochat(child, state) {
  try {
    process.kill(-child.pid, "SIGTERM");
  } catch {
    // gone
  }
  await new Promise((r) => setTimeout(r, 500));
  rmSync(state, { recursive: true, force: true });
}

/** `pid` and every process under it (the whole `wrangler dev` tree), from /proc. */
export function processTree(pid) {
  const children = new Map();
  for (const p of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const ppid = Number(/PPid:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, "utf8"))[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(p)]);
    } catch {
      // gone
    }
  }
  const tree = [];
  const walk = (p) => {
    tree.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(pid);
  return tree;
}

/**
 * CPU clock ticks (user + system, 100 a second) a process has used so far: /proc/<pid>/stat fields 14 and 15, read
 * after the last ") " (a process's name may hold one); 0 once it is gone.
 */
export function cpuTicks(pid) {
  const stat = procFile(pid, "stat");
  const fields = stat.slice(stat.lastIndexOf(") ") + 2).split(" ");
  return fields.length > 12 ? Number(fields[11]) + Number(fields[12]) : 0;
}

/** CPU seconds (user + system) a process tree has used so far. */
export function treeCpuSeconds(pid) {
  return processTree(pid).reduce((n, p) => n + cpuTicks(p) / 100, 0);
}

/** The contents of /proc/<pid>/<file>, or "" once the process is gone. */
export function procFile(pid, file) {
  try {
    return readFileSync(`/proc/${pid}/${file}`, "utf8");
  } catch {
    return "";
  }
}
