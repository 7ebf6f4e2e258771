/**
 * The open conversation's row in the lists, kept current from its own socket.
 *
 * The index (over the panel socket) hears of new messages and reads only when
 * the conversation reports to the workspace, which is coalesced: up to ~12 s
 * apart while busy. The open conversation's socket sees every message and
 * this panel's own reads at once, so the panel lays what it knows over the
 * index's row, and keeps doing so until the index has caught up.
 *
 * Which is newer is decided by `lastAt`, the time of the conversation's
 * newest message on the conversation's own clock, which both sides carry:
 * an index row with an older `lastAt` never undoes a newer local change, and
 * one with a newer `lastAt` (a message the socket has not delivered yet) wins.
 * Unread counts only go down between two messages (reads), so at the same
 * `lastAt` the smaller count is the newer one.
 */
import { unwrap } from "solid-js/store";
import type { ConversationSummary, Message, Role } from "../../../worker/protocol";

/** What the open conversation's socket knows about its row. */
export interface LiveRow {
  /** Time of the newest message held, of any kind (as the index's `lastAt`). */
  lastAt: number;
  /** The newest text or file message held, written as the server writes previews. */
  preview: { text: string; role: Role | "system" } | null;
  /** Visitor messages after the last read this panel knows of; null when it cannot tell. */
  unread: number | null;
  /** Times of the visitor messages held, ascending: the ones an older index row has not counted. */
  visitorAts: number[];
}

/** Mirrors PREVIEW_CHARS in worker/conversation.ts. */
const PREVIEW_CHARS = 140;

/**
 * The row as the held messages tell it. `readSeq` is the last read this
 * panel sent; every operator message also counts as a read (the server
 * marks everything before a reply as answered). `hasMore`: older messages
 * exist that are not held, so unread is known only if a read is among the held.
 */
export function liveRow(messages: readonly Message[], readSeq: number, hasMore: boolean): LiveRow | null {
  const last = messages[messages.length - 1];
  if (!last) return null;
  let read = readSeq;
  let preview: LiveRow["preview"] = null;
  const visitorAts: number[] = [];
  for (const m of messages) {
    if (m.author.role === "operator" && m.kind !== "event") read = Math.max(read, m.seq);
    if (m.author.role === "visitor") visitorAts.push(m.at);
    if (m.kind === "text" || m.kind === "file") {
      const text = m.kind === "file" ? `📎 ${m.text}` : m.text;
      preview = { text: text.slice(0, PREVIEW_CHARS), role: m.author.role };
    }
  }
  const covered = !hasMore || (read > 0 && read >= messages[0]!.seq - 1);
  const unread = covered ? messages.filter((m) => m.seq > read && m.author.role === "visitor").length : null;
  return { lastAt: last.at, preview, unread, visitorAts };
}

/** The index's row with what the open conversation knows laid over it. */
function overlay(index: ConversationSummary, live: LiveRow): ConversationSummary {
  if (index.lastAt > live.lastAt) return index;
  // The index's count plus the visitor messages it has not seen yet is an
  // upper bound; so is the local count. Both only overcount reads not yet known.
  const bound = index.unread + live.visitorAts.filter((at) => at > index.lastAt).length;
  const row: ConversationSummary = {
    ...index,
    lastAt: live.lastAt,
    unread: live.unread === null ? bound : Math.min(bound, live.unread),
  };
  if (live.preview) {
    row.preview = live.preview.text;
    row.previewRole = live.preview.role;
  }
  return row;
}

/** The index row says everything the live row does: the overlay can go once the conversation is closed. */
function caughtUp(index: ConversationSummary, live: LiveRow): boolean {
  if (index.lastAt !== live.lastAt) return index.lastAt > live.lastAt;
  return live.unread === null || index.unread <= live.unread;
}

/**
 * The live rows of conversations open here, or closed but not yet caught up
 * with by the index; beside each, the newest row the index sent for it.
 * `held(id)` is the row the lists hold now, `place(row)` puts a row into them.
 */
export function createLiveRows(
  held: (id: string) => ConversationSummary | undefined,
  place: (row: ConversationSummary) => void,
) {
  const lives = new Map<string, { row: LiveRow; open: boolean; index: ConversationSummary | null }>();

  /** The row to show for an index row: the index's, unless a live row knows more. */
  const shown = (c: ConversationSummary): ConversationSummary => {
    const live = lives.get(c.id);
    if (!live) return c;
    live.index = c;
    if (!live.open && caughtUp(c, live.row)) {
      lives.delete(c.id);
      return c;
    }
    return overlay(c, live.row);
  };

  return {
    shown,
    shownAll: (list: ConversationSummary[]) => (lives.size ? list.map(shown) : list),
    /** The conversation was deleted: nothing to overlay any more. */
    forget: (id: string) => lives.delete(id),
    /** What the open conversation's socket knows now; null when it was closed. */
    show(id: string, row: LiveRow | null) {
      const known = lives.get(id);
      if (!row) {
        if (!known) return;
        known.open = false;
        if (known.index && caughtUp(known.index, known.row)) lives.delete(id);
        return;
      }
      const now = held(id);
      const index = known?.index ?? (now ? { ...unwrap(now) } : null);
      lives.set(id, { row, open: true, index });
      if (!index) return;
      const next = overlay(index, row);
      if (!now || next.lastAt !== now.lastAt || next.unread !== now.unread || next.preview !== now.preview) place(next);
    },
  };
}
