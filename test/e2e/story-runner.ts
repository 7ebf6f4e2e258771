/**
 * A small runner for long browser stories (node:test), so that one failure
 * neither hides the rest nor explains itself badly:
 *
 * - each step says which facts it needs and which it makes ("joined",
 *   "emailed", …); a step whose facts are missing is skipped and names the
 *   step that failed to make them, instead of timing out on a cascade;
 * - `soft` checks a behaviour and, when it fails, records what was seen and
 *   lets the step go on by another way (e.g. Enter did not send: click Send),
 *   so later steps still run; the step fails at its end with every finding;
 * - every failure carries what the pages showed at that moment and a
 *   screenshot in test-results/failures/.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { TestContext } from "node:test";
import type { Locator, Page } from "playwright-core";

const failures = join(import.meta.dirname, "../../test-results/failures");

/** Text of a region as a person would read it, trimmed to what fits in an error message. */
export async function textOf(locator: Locator, max = 600): Promise<string> {
  try {
    if ((await locator.count()) === 0) return "(not on the page)";
    const text = (await locator.first().innerText({ timeout: 1000 })).replace(/\s+\n/g, "\n").trim();
    return text.length > max ? `${text.slice(0, max)}…` : text || "(empty)";
  } catch (e) {
    return `(unreadable: ${(e as Error).message.split("\n")[0]})`;
  }
}

/**
 * Waits for `locator` (default: visible) and, if it never comes, fails with
 * `what` it was waiting for and what `saw()` reports was there instead.
 */
export async function expectSoon(
  locator: Locator,
  what: string,
  saw: () => Promise<string>,
  opts: { state?: "visible" | "attached" | "detached" | "hidden"; timeout?: number } = {},
): Promise<void> {
  try {
    await locator.waitFor({ state: opts.state ?? "visible", timeout: opts.timeout ?? 15_000 });
  } catch {
    throw new Error(`expected ${what}; saw:\n${await saw()}`);
  }
}

export interface Step {
  /** Checks a behaviour; on failure records `what` + what was seen, runs `otherwise` (if any) and goes on. */
  soft(what: string, check: () => Promise<void>, otherwise?: () => Promise<void>): Promise<void>;
}

export class Story {
  private readonly made = new Map<string, string>();
  private readonly failed = new Map<string, string>();

  private readonly describe: () => Promise<string>;
  private readonly pages: () => Page[];

  /** `describe` returns what the story's pages show now, for failure messages. */
  constructor(describe: () => Promise<string>, pages: () => Page[]) {
    this.describe = describe;
    this.pages = pages;
  }

  /** Wraps a step body for `it(name, story.step(name, …))`. */
  step(
    name: string,
    { needs = [], makes = [] }: { needs?: string[]; makes?: string[] },
    body: (step: Step) => Promise<void>,
  ): (t: TestContext) => Promise<void> {
    return async (t) => {
      const missing = needs.filter((f) => !this.made.has(f));
      if (missing.length > 0) {
        const why = missing.map((f) => `"${f}" (${this.failed.get(f) ?? "never made"})`).join(", ");
        t.skip(`needs ${why}`);
        return;
      }
      const findings: string[] = [];
      const step: Step = {
        soft: async (what, check, otherwise) => {
          try {
            await check();
          } catch (e) {
            findings.push(`${what}: ${(e as Error).message}`);
            await this.snap(`${name}-${findings.length}`);
            if (otherwise) await otherwise();
          }
        },
      };
      try {
        await body(step);
      } catch (e) {
        for (const f of makes) this.failed.set(f, `step "${name}" failed`);
        await this.snap(name);
        const err = e as Error;
        err.message = `${err.message}\n--- the pages showed ---\n${await this.describe()}`;
        throw err;
      }
      for (const f of makes) this.made.set(f, name);
      if (findings.length > 0) {
        throw new Error(
          `step "${name}" went on by another way after ${findings.length} failed check(s):\n- ${findings.join("\n- ")}`,
        );
      }
    };
  }

  private async snap(name: string): Promise<void> {
    mkdirSync(failures, { recursive: true });
    const slug = name.replace(/[^a-z0-9]+/gi, "-").slice(0, 60);
    await Promise.all(
      this.pages().map((p, i) =>
        p.isClosed() ? undefined : p.screenshot({ path: join(failures, `${slug}-${i}.png`) }).catch(() => undefined),
      ),
    );
  }
}
