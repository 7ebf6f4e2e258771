// Where every benchmark writes its figures: bench/results/<kind>.json (the
// latest run, not committed), plus a dated copy to keep when BENCH_SAVE names
// one (BENCH_SAVE=state-on-disk npm run bench → 2026-11-26-state-on-disk.json).
// Each file says what produced it: the commit, Node, wrangler and the machine.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

function commit() {
  try {
    const sha = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root, encoding: "utf8" }).trim();
    // The code a result comes from: result files written since (bench/results) are not a change to it.
    const paths = ["worker", "panel", "widget", "bench", ":(exclude)bench/results"];
    const dirty = execFileSync("git", ["status", "--porcelain", "--", ...paths], {
      cwd: root,
      encoding: "utf8",
    }).trim();
    return dirty ? `${sha}+changes` : sha;
  } catch {
    return null; // not a git checkout
  }
}

/** What produced a result: when, from which commit, with which tools, on what machine. */
export function provenance() {
  const wrangler = JSON.parse(readFileSync(join(root, "node_modules/wrangler/package.json"), "utf8")).version;
  return {
    date: new Date().toISOString(),
    commit: commit(),
    node: process.version,
    wrangler,
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGb: Math.round(totalmem() / 2 ** 30) },
  };
}

/** Writes bench/results/<kind>.json, and the dated copy BENCH_SAVE asks for; returns the paths written. */
export function writeResults(kind, results) {
  const dir = join(root, "bench/results");
  mkdirSync(dir, { recursive: true });
  const text = JSON.stringify(results, null, 2) + "\n";
  const paths = [join(dir, `${kind}.json`)];
  const save = process.env.BENCH_SAVE;
  if (save) {
    if (!/^[a-z0-9-]{1,60}$/.test(save)) throw new Error("BENCH_SAVE: lowercase letters, digits and dashes only");
    paths.push(join(dir, `${new Date().toISOString().slice(0, 10)}-${save}.json`));
  }
  for (const p of paths) writeFileSync(p, text);
  for (const p of paths) console.log(`wrote ${p.slice(root.length + 1)}`);
  return paths;
}
