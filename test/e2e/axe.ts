/**
 * axe-core in the real browser, for the browser tests.
 *
 * The axe source is evaluated in the page (or one frame of it) over the
 * DevTools protocol rather than added as a <script> tag, so the page's own
 * Content-Security-Policy cannot block it, and it runs with its default rule
 * set (WCAG 2.0/2.1/2.2 A and AA plus best practices). The widget's chat is
 * an iframe inside the loader's shadow root: `widgetFrame` finds that frame,
 * and axe runs inside its document, where the chat's own markup lives.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { Frame, Page } from "playwright-core";

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

export type Impact = "critical" | "serious" | "moderate" | "minor";

export interface AxeNode {
  target: string[];
  html: string;
  failureSummary?: string;
}

export interface AxeViolation {
  id: string;
  impact: Impact | null;
  help: string;
  nodes: AxeNode[];
}

export interface AxeReport {
  screen: string;
  violations: AxeViolation[];
  /** What axe could not decide by itself (e.g. text over a picture): for a person to look at. */
  incomplete: AxeViolation[];
}

/** Every report of this run, in order, for a summary at the end. */
export const reports: AxeReport[] = [];

/** The chat's frame on a host page (it lives inside the loader's shadow root), once its document has loaded. */
export async function widgetFrame(page: Page): Promise<Frame> {
  const iframe = page.locator("[data-microchat]").locator('iframe[title="Chat"]');
  const frame = await (await iframe.elementHandle())?.contentFrame();
  if (!frame) throw new Error("the chat iframe has no frame");
  await frame.waitForLoadState();
  return frame;
}

/**
 * Runs axe with its default rules on `target`'s document (frames inside it
 * are checked on their own, with their own call) and records the result.
 */
export async function axe(target: Page | Frame, screen: string): Promise<AxeReport> {
  if (!(await target.evaluate(() => "axe" in window))) await target.evaluate(AXE_SOURCE);
  const { violations, incomplete } = await target.evaluate(async () => {
    type Result = { violations: AxeViolation[]; incomplete: AxeViolation[] };
    const w = window as unknown as {
      axe: { run(ctx: Document, opts: { iframes: boolean; resultTypes: string[] }): Promise<Result> };
    };
    const result = await w.axe.run(document, { iframes: false, resultTypes: ["violations", "incomplete"] });
    const brief = (list: AxeViolation[]) =>
      list.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.map((n) => ({ target: n.target, html: n.html, failureSummary: n.failureSummary })),
      }));
    return { violations: brief(result.violations), incomplete: brief(result.incomplete) };
  });
  const report = { screen, violations, incomplete };
  reports.push(report);
  return report;
}

/** One violation per block: rule, impact, what it asks, then each element with a short html snippet. */
export function describeViolations(list: AxeViolation[]): string {
  return list
    .map((v) =>
      [
        `- ${v.id} (${v.impact}): ${v.help}`,
        ...v.nodes.slice(0, 8).map((n) => {
          const html = n.html.replace(/\s+/g, " ");
          const why = n.failureSummary?.split("\n").slice(1).join(" ").trim();
          return `    ${n.target.join(" >>> ")}  ${html.length > 120 ? html.slice(0, 117) + "..." : html}${
            why ? `\n      ${why.length > 200 ? why.slice(0, 197) + "..." : why}` : ""
          }`;
        }),
        ...(v.nodes.length > 8 ? [`    ...and ${v.nodes.length - 8} more`] : []),
      ].join("\n"),
    )
    .join("\n");
}

/** A table of every screen checked: counts by impact, and the moderate/minor rules left. */
export function summary(): string {
  return reports
    .map((r) => {
      const count = (i: Impact) => r.violations.filter((v) => v.impact === i).length;
      const rest = r.violations
        .filter((v) => v.impact === "moderate" || v.impact === "minor")
        .map((v) => `${v.id} (${v.impact})`);
      return `${r.screen}: critical ${count("critical")}, serious ${count("serious")}, moderate ${count(
        "moderate",
      )}, minor ${count("minor")}${rest.length ? ` — ${rest.join(", ")}` : ""}`;
    })
    .join("\n");
}
