/**
 * The shape of the conversation index store (see inbox.ts), and how rows move
 * in its lists: newest first, ties by id descending, which is the server's
 * order (its paging cursor relies on it). The list functions work on the
 * store's draft inside a `produce`.
 */
import { unwrap } from "solid-js/store";
import type { SocketStatus } from "../../../widget/src/lib/live-socket";
import type { ConversationSummary, OperatorPresence, PagedView } from "../../../worker/protocol";
import type { LiveRow } from "./live-row";

export interface InboxState {
  /** "loading" until the first index arrives. */
  phase: "loading" | "ready";
  connection: SocketStatus;
  unassigned: ConversationSummary[];
  mine: ConversationSummary[];
  all: ConversationSummary[];
  /** Whether the server holds older rows of a list than the panel has (they come a page at a time). */
  hasMore: Record<PagedView, boolean>;
  /** The list whose next page is on its way, if any (one at a time). */
  loadingMore: PagedView | null;
  /** How many conversations wait in Unassigned in all (the list may hold only the newest of them). */
  waiting: number;
  operators: OperatorPresence[];
  error: string | null;
}

export interface InboxActions {
  connect(): void;
  disconnect(): void;
  /** Fetch the next page of a list (All unless told). */
  loadMore(view?: PagedView): void;
  /** Apply a summary we learned about outside the socket. */
  upsert(c: ConversationSummary): void;
  /**
   * What the open conversation's socket knows about its row (null: it was
   * closed). Shown over the index's row until the index has caught up.
   */
  live(id: string, row: LiveRow | null): void;
  find(id: string): ConversationSummary | undefined;
  dismissError(): void;
}

/** The server's order: newest first, ties by id descending. */
export const byLastAtDesc = (a: ConversationSummary, b: ConversationSummary): number =>
  b.lastAt - a.lastAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

function removeFrom(list: ConversationSummary[], id: string): void {
  const i = unwrap(list).findIndex((c) => c.id === id); // the plain array: no proxy per row
  if (i >= 0) list.splice(i, 1);
}

/**
 * Inserts `c` into a list sorted newest first: a binary search, so 10,000
 * rows cost ~14 looks, not 10,000. In a list with older rows still on the
 * server (`hasMore`), a row older than every row held is left for its page:
 * placed at the end it would become the paging cursor and skip the rows
 * between.
 */
export function insertSorted(list: ConversationSummary[], c: ConversationSummary, hasMore = false): void {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (byLastAtDesc(c, list[mid]!) < 0) hi = mid;
    else lo = mid + 1;
  }
  if (lo === list.length) {
    if (!hasMore) list.push(c);
  } else list.splice(lo, 0, c);
}

/** Takes conversation `id` out of every list. */
export function removeRow(s: InboxState, id: string): void {
  removeFrom(s.unassigned, id);
  removeFrom(s.mine, id);
  removeFrom(s.all, id);
}

/** Puts a row where the server's rules put it: Unassigned if unassigned, Mine if `meId` joined, All always. */
export function placeRow(s: InboxState, c: ConversationSummary, meId: string): void {
  removeRow(s, c.id);
  if (c.status === "unassigned") insertSorted(s.unassigned, c, s.hasMore.unassigned);
  if (c.operators.some((o) => o.id === meId)) insertSorted(s.mine, c, s.hasMore.mine);
  insertSorted(s.all, c, s.hasMore.all);
}
