// The panel's hand-written router as it was before @solidjs/router replaced it (commit aa2cc8b), kept to measure against.
/**
 * A path router small enough to read in one go. The Worker answers unknown
 * paths with index.html, so `/conversations/abc` can be bookmarked.
 */
import { createSignal } from "solid-js";

/** Tabs of Report; only Operator so far, the path leaves room for more (`/reports/<tab>`). */
export type ReportTab = "operator";
export const REPORT_TABS: readonly ReportTab[] = ["operator"];

export type Route =
  | { name: "conversations"; id: string | null }
  | { name: "reports"; tab: ReportTab }
  | { name: "operators" }
  | { name: "integrations" }
  | { name: "settings" }
  | { name: "unknown" };

const [path, setPath] = createSignal(location.pathname);
window.addEventListener("popstate", () => setPath(location.pathname));

/** The current path, reactive. */
export { path };

export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  if (to === location.pathname) return;
  if (opts.replace) history.replaceState(null, "", to);
  else history.pushState(null, "", to);
  setPath(to);
}

export function parseRoute(p: string): Route {
  const parts = p.split("/").filter(Boolean);
  if (parts.length === 0 || (parts[0] === "conversations" && parts.length === 1))
    return { name: "conversations", id: null };
  if (parts[0] === "conversations" && parts.length === 2) {
    try {
      return { name: "conversations", id: decodeURIComponent(parts[1]!) };
    } catch {
      return { name: "unknown" };
    }
  }
  if (parts[0] === "reports" && parts.length === 1) return { name: "reports", tab: "operator" };
  if (parts[0] === "reports" && parts.length === 2) {
    const tab = REPORT_TABS.find((t) => t === parts[1]);
    return tab ? { name: "reports", tab } : { name: "unknown" };
  }
  if (parts[0] === "operators" && parts.length === 1) return { name: "operators" };
  if (parts[0] === "integrations" && parts.length === 1) return { name: "integrations" };
  if (parts[0] === "settings" && parts.length === 1) return { name: "settings" };
  return { name: "unknown" };
}

export const conversationPath = (id: string): string => `/conversations/${encodeURIComponent(id)}`;

/** onClick for same-origin <a>: navigate without a reload, keep ctrl/cmd-click. */
export function linkClick(e: MouseEvent & { currentTarget: HTMLAnchorElement }): void {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  navigate(e.currentTarget.pathname);
}
