/**
 * The conversation as the widget holds it: the stored messages by seq, the
 * newest seq (what a reconnect resumes from) and paging of older history.
 */
import type { Message } from "../../worker/protocol";
import * as outbox from "./outbox";

const bySeq = new Map<number, Message>();
let newest = 0;
let more = false;
let fetching = false;

/** The newest seq held: a reconnect's `hello` asks for what came after it. */
export const lastSeq = (): number => newest;
/** Whether older messages exist than the ones held. */
export const hasMore = (): boolean => more;
/** Whether a page of older messages is on its way. */
export const loadingOlder = (): boolean => fetching;

export function setPaging(hasMoreNow: boolean, loading = false): void {
  more = hasMoreNow;
  fetching = loading;
}

/** The messages held, oldest first. */
export const sorted = (): Message[] => [...bySeq.values()].sort((a, b) => a.seq - b.seq);

/** The oldest seq held (Infinity when none): where a history request starts. */
export const firstSeq = (): number => Math.min(...bySeq.keys());

/** Whether the visitor has written anything yet (held or waiting to be sent). */
export const visitorWrote = (): boolean =>
  outbox.pending().length > 0 || [...bySeq.values()].some((m) => m.author.role === "visitor");

/** Keeps messages from the server; our own coming back settles their pending copies. */
export function add(list: readonly Message[]): void {
  for (const m of list) {
    bySeq.set(m.seq, m);
    if (m.seq > newest) newest = m.seq;
  }
  // Our own message came back (e.g. acked on another tab): drop its pending copy.
  outbox.settle(list.map((m) => m.clientId));
}

/** Forgets everything: the conversation is gone and the next one starts empty. */
export function clear(): void {
  bySeq.clear();
  newest = 0;
  more = fetching = false;
}
