/**
 * Keyboard-only walks for the browser tests: what has focus (through open
 * shadow roots, where the widget's launcher lives), Tab / Shift+Tab until a
 * given element has it, and whether each stop showed a focus ring.
 */
import type { Frame, Page } from "playwright-core";

/** One stop of a Tab walk. */
export interface Stop {
  /** The focused element in words: its landmark, tag, test id or id, and name. */
  what: string;
  /** The landmarks, dialogs and forms it sits in, outermost first, each by its label or else its tag. */
  regions: string[];
  /** It matches `:focus-visible` and draws an outline or a box shadow. */
  ring: boolean;
  /**
   * Contrast of the outline against the colour behind it (WCAG 1.4.11 asks
   * 3:1); null for the browser's own two-tone ring (style auto) or no outline.
   */
  ringContrast: number | null;
}

/** Describes the focused element of `target`'s document (inside open shadow roots too). */
export function focused(target: Page | Frame): Promise<Stop> {
  return target.evaluate(() => {
    let el: Element | null = document.activeElement;
    while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
    if (!el || el === document.body || !document.hasFocus())
      return { what: "nothing", regions: [], ring: false, ringContrast: null };
    const regions: string[] = [];
    for (let at: Element | null = el; at; at = at.parentElement) {
      const landmark: Element | null = at.closest(
        "nav, main, aside, header, section[aria-label], [role=region], dialog, form",
      );
      if (!landmark) break;
      const labelledBy = landmark.getAttribute("aria-labelledby");
      regions.unshift(
        landmark.getAttribute("aria-label") ??
          (labelledBy && document.getElementById(labelledBy)?.textContent?.trim()) ??
          landmark.tagName.toLowerCase(),
      );
      at = landmark;
    }
    const testid = el.getAttribute("data-testid");
    const key = testid ? `[data-testid=${testid}]` : el.id ? `#${el.id}` : el.classList[0] ? `.${el.classList[0]}` : "";
    const name = (el.getAttribute("aria-label") ?? (el as HTMLElement).innerText ?? "").trim().replace(/\s+/g, " ");
    const style = getComputedStyle(el);
    const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
    const ring = el.matches(":focus-visible") && (outline || style.boxShadow !== "none");

    // The outline is drawn over the first opaque background behind it: the element's own when
    // the outline is inset (negative offset), else its ancestors' (through shadow roots), else white.
    const rgb = (c: string) => (c.match(/[\d.]+/g) ?? []).map(Number);
    const luminance = ([r, g, b]: number[]) =>
      [r!, g!, b!]
        .map((v) => v / 255)
        .map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4))
        .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i]!, 0);
    const up = (e: Element): Element | null =>
      e.parentElement ?? (e.getRootNode() instanceof ShadowRoot ? (e.getRootNode() as ShadowRoot).host : null);
    let behind = [255, 255, 255];
    for (let at = parseFloat(style.outlineOffset) < 0 ? el : up(el); at; at = up(at)) {
      const bg = rgb(getComputedStyle(at).backgroundColor);
      if (bg.length === 3 || bg[3] === 1) {
        behind = bg.slice(0, 3);
        break;
      }
    }
    const [hi, lo] = [luminance(rgb(style.outlineColor)), luminance(behind)].sort((a, b) => b - a);
    const ringContrast = outline && style.outlineStyle !== "auto" ? (hi! + 0.05) / (lo! + 0.05) : null;
    const what = `${regions.map((r) => `${r} › `).join("")}${el.tagName.toLowerCase()}${key}${name ? ` "${name.slice(0, 40)}"` : ""}`;
    return { what, regions, ring, ringContrast };
  });
}

/** Whether the focused element of `target` (through open shadow roots) matches `selector`. */
export function hasFocus(target: Page | Frame, selector: string): Promise<boolean> {
  return target.evaluate((sel) => {
    let el: Element | null = document.activeElement;
    while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
    return document.hasFocus() && !!el?.matches(sel);
  }, selector);
}

/** Waits until the element matching `selector` has focus; fails saying where the focus is instead. */
export async function waitForFocus(target: Page | Frame, selector: string, timeout = 5000): Promise<void> {
  try {
    await target.waitForFunction(
      (sel) => {
        let el: Element | null = document.activeElement;
        while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
        return document.hasFocus() && !!el?.matches(sel);
      },
      selector,
      { timeout },
    );
  } catch {
    throw new Error(`focus never reached ${selector}; it is on ${(await focused(target)).what}`);
  }
}

/**
 * Presses Tab (Shift+Tab with `back`) until the element matching `selector`
 * in `target` (the page, or a frame of it) has focus; returns every stop on
 * the way, the last one being that element. Fails with the walk so far.
 */
export async function tabTo(
  page: Page,
  selector: string,
  opts: { back?: boolean; max?: number; target?: Page | Frame } = {},
): Promise<Stop[]> {
  const target = opts.target ?? page;
  const stops: Stop[] = [];
  for (let i = 0; i < (opts.max ?? 40); i++) {
    await page.keyboard.press(opts.back ? "Shift+Tab" : "Tab");
    stops.push(await focused(target));
    if (await hasFocus(target, selector)) return stops;
  }
  throw new Error(
    `${opts.back ? "Shift+Tab" : "Tab"} never reached ${selector}; focus went: ${stops.map((s) => s.what).join(" → ")}`,
  );
}

/** The stops that showed no focus ring, or one under 3:1 against what is behind it, in words ("" when none). */
export function withoutRing(stops: Stop[]): string {
  return stops
    .filter((s) => s.what !== "nothing" && (!s.ring || (s.ringContrast !== null && s.ringContrast < 3)))
    .map((s) => (s.ring ? `${s.what} (ring ${s.ringContrast!.toFixed(2)}:1)` : s.what))
    .join(", ");
}
