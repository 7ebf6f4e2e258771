/**
 * Settings > Audit log (admins): pages of the workspace's audit log, newest
 * first, with "Show older" appending the next page.
 */
import { createStore } from "solid-js/store";
import type { AuditEntry } from "../../../worker/protocol";
import { api, errorText } from "../lib/api";

export interface AuditState {
  phase: "loading" | "ready" | "error";
  entries: AuditEntry[];
  hasMore: boolean;
  /** Why the first page failed (phase "error"). */
  error: string | null;
  /** An older page is being fetched. */
  loadingMore: boolean;
  /** Why the last older page failed; the entries shown stay. */
  moreError: string | null;
}

export interface AuditActions {
  /** The newest page again (on open, Refresh, Try again). */
  load(): Promise<void>;
  /** The page before the oldest entry shown. */
  more(): Promise<void>;
}

export function createAudit(): [AuditState, AuditActions] {
  const [state, setState] = createStore<AuditState>({
    phase: "loading",
    entries: [],
    hasMore: false,
    error: null,
    loadingMore: false,
    moreError: null,
  });
  const actions: AuditActions = {
    async load() {
      setState({ phase: state.entries.length ? "ready" : "loading", error: null, moreError: null });
      try {
        const page = await api.audit(null);
        setState({ phase: "ready", entries: page.entries, hasMore: page.hasMore, error: null });
      } catch (e) {
        // A failed refresh keeps what is shown and says so; a failed first load is the error state.
        if (state.entries.length) setState({ moreError: errorText(e) });
        else setState({ phase: "error", error: errorText(e) });
      }
    },
    async more() {
      const oldest = state.entries[state.entries.length - 1];
      if (!oldest || state.loadingMore) return;
      setState({ loadingMore: true, moreError: null });
      try {
        const page = await api.audit(oldest.id);
        setState({ entries: [...state.entries, ...page.entries], hasMore: page.hasMore });
      } catch (e) {
        setState({ moreError: errorText(e) });
      } finally {
        setState({ loadingMore: false });
      }
    },
  };
  return [state, actions];
}
