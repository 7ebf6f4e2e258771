/**
 * The launcher's unread badge: operator messages newer than the newest one
 * the visitor has seen. Seen means shown in an open chat in a visible tab,
 * in this tab or another: the mark goes to the site's other tabs over a
 * BroadcastChannel (it works where a third-party frame is denied storage,
 * as in Chromium with third-party cookies blocked), so reading in one tab
 * clears the badge in every tab. A chat that starts counts from what it
 * finds (it starts open, so what it finds is seen).
 */
import type { Message } from "../../worker/protocol";
import { toHost } from "./host";
import { siteKey } from "./session";

const KEY = `microchat:seen:${siteKey}`;
type Seen = { conversationId: string; seq: number };

let conversation: string | null = null;
/** Whether the chat is open on the host page (it starts open: the loader creates it when opened). */
let open = true;
/** The newest operator message seen (-1: not known yet for this conversation). */
let seen = -1;
let operatorSeqs: number[] = [];
/** The count the launcher shows now. */
let shown = 0;

function update(): void {
  const newest = Math.max(seen, ...operatorSeqs);
  if (open && document.visibilityState === "visible" && newest > seen && conversation) {
    seen = newest;
    channel?.postMessage({ conversationId: conversation, seq: seen } satisfies Seen);
  }
  operatorSeqs = operatorSeqs.filter((s) => s > seen);
  if (operatorSeqs.length !== shown) toHost("unread", { count: (shown = operatorSeqs.length) });
}

/** Messages of the visitor's conversation arrived: history, a resume, or live. */
export function arrived(conversationId: string, list: readonly Message[]): void {
  if (conversation !== conversationId) {
    conversation = conversationId;
    operatorSeqs = [];
    seen = -1;
  }
  const fromOperators = list.filter((m) => m.author.role === "operator").map((m) => m.seq);
  // First sight of this conversation here: what is already there is not news.
  if (seen < 0) seen = Math.max(0, ...fromOperators);
  operatorSeqs.push(...fromOperators.filter((s) => s > seen && !operatorSeqs.includes(s)));
  update();
}

/** The chat was opened or minimised on the host page. */
export function setOpen(isOpen: boolean): void {
  open = isOpen;
  update();
}

/** The conversation is gone (deleted, or the visitor logged out): nothing is unread. */
export function forget(): void {
  conversation = null;
  seen = -1;
  operatorSeqs = [];
  update();
}

/** Seen in another tab. */
function seenElsewhere(mark: Seen | null): void {
  if (mark && mark.conversationId === conversation && mark.seq > seen) {
    seen = mark.seq;
    update();
  }
}

const channel = (() => {
  try {
    return new BroadcastChannel(KEY);
  } catch {
    return null;
  }
})();
if (channel) channel.onmessage = (e: MessageEvent<Seen>) => seenElsewhere(e.data);
// Back in view with the chat open: what is shown is seen.
document.addEventListener("visibilitychange", update);
