/**
 * Where things are in the panel: the paths the router matches (see app.tsx)
 * and the helpers that build and read them. The Worker answers unknown
 * paths with index.html, so `/conversations/abc` can be bookmarked.
 */

/** Tabs of Report; only Operator so far, the path leaves room for more (`/reports/<tab>`). */
export type ReportTab = "operator";
export const REPORT_TABS: readonly ReportTab[] = ["operator"];

/** The sections of the nav rail, each the first segment of its paths. */
export type Section = "conversations" | "reports" | "operators" | "integrations" | "settings";
const SECTIONS: readonly Section[] = ["conversations", "reports", "operators", "integrations", "settings"];

export const conversationPath = (id: string): string => `/conversations/${encodeURIComponent(id)}`;

/** The conversation id of a path's `:id` segment; null when there is none, undefined when it is malformed. */
export function conversationId(segment: string | undefined): string | null | undefined {
  if (!segment) return null;
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** The nav rail's section a path belongs to (`/` is Conversations). */
export function sectionOf(pathname: string): Section | null {
  const first = pathname.split("/")[1] || "conversations";
  return SECTIONS.find((s) => s === first) ?? null;
}
