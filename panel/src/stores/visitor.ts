/**
 * What is known about one conversation's visitor (the panel in the upper
 * right of the conversation): fetched on open, refreshed on demand, edited
 * with `save`. Answers to superseded requests are dropped so a slow refresh
 * cannot overwrite a fresher edit.
 *
 * A visitor with an email address also gets their other conversations (by
 * that address), refreshed with the rest.
 */
import { createStore, reconcile } from "solid-js/store";
import type { ConversationSummary, VisitorInfo } from "../../../worker/protocol";
import { api, errorText } from "../lib/api";

export interface VisitorInfoState {
  phase: "loading" | "ready" | "error";
  info: VisitorInfo | null;
  /** Why the last load failed; the previous info stays on screen. */
  error: string | null;
  /** Other conversations with the visitor's email address; null until known (or without an address). */
  threads: ConversationSummary[] | null;
}

export interface VisitorInfoActions {
  load(): Promise<void>;
  /** Throws `HttpError` with the server's message (e.g. a malformed email). */
  save(input: { name: string | null; email: string | null }): Promise<void>;
}

export function createVisitorInfo(conversationId: string): [VisitorInfoState, VisitorInfoActions] {
  const [state, setState] = createStore<VisitorInfoState>({ phase: "loading", info: null, error: null, threads: null });
  let latest = 0;
  let latestThreads = 0;

  const show = (visitor: VisitorInfo) => {
    setState({ phase: "ready", error: null });
    setState("info", reconcile(visitor));
    if (!visitor.email) setState("threads", null);
    else void loadThreads();
  };

  const loadThreads = async () => {
    const mine = ++latestThreads;
    try {
      const { conversations } = await api.visitorThreads(conversationId);
      if (mine === latestThreads) setState("threads", reconcile(conversations, { key: "id" }));
    } catch {
      // Not worth an error of its own: the list stays as it was, and the next refresh tries again.
    }
  };

  const actions: VisitorInfoActions = {
    async load() {
      const mine = ++latest;
      try {
        const { visitor } = await api.visitor(conversationId);
        if (mine === latest) show(visitor);
      } catch (e) {
        if (mine !== latest) return;
        setState({ phase: state.info ? "ready" : "error", error: errorText(e) });
      }
    },
    async save(input) {
      const mine = ++latest;
      const { visitor } = await api.updateVisitor(conversationId, input);
      if (mine === latest) show(visitor);
    },
  };
  return [state, actions];
}
