/**
 * The conversation index, kept live over `/ws/panel`.
 *
 * The server sends a full `index` on every (re)connect and then `upsert` /
 * `remove` frames. An upsert is re-placed into the lists by the same rules
 * the server uses: unassigned → Unassigned, joined by me → Mine, all → All.
 */
import { batch, untrack } from "solid-js";
import { createStore, produce, reconcile, unwrap } from "solid-js/store";
import type {
  ConversationSummary,
  OperatorPresence,
  PagedView,
  PanelClientFrame,
  PanelServerFrame,
} from "../../../worker/protocol";
import { liveSocket, type LiveSocket, type SocketStatus } from "../../../widget/src/lib/live-socket";
import { caughtUp, overlay, type LiveRow } from "./live-row";

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

const PAGE = 50;
/** The server's order: newest first, ties by id descending (the paging cursor relies on it). */
const byLastAtDesc = (a: ConversationSummary, b: ConversationSummary) =>
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
function insertSorted(list: ConversationSummary[], c: ConversationSummary, hasMore = false): void {
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

export function createInbox(
  meId: string,
  opts: {
    onRepeatedFailure?: () => void;
    /** A visitor wrote in Unassigned (sent only while this operator is online and not away). */
    onNotify?: (c: ConversationSummary, reason: "new" | "requeued" | "message") => void;
    /** A conversation changed; `before` is the row held until now, if any. */
    onUpsert?: (before: ConversationSummary | undefined, after: ConversationSummary) => void;
  } = {},
): [InboxState, InboxActions] {
  const [state, setState] = createStore<InboxState>({
    phase: "loading",
    connection: "connecting",
    unassigned: [],
    mine: [],
    all: [],
    hasMore: { unassigned: false, mine: false, all: false },
    loadingMore: null,
    waiting: 0,
    operators: [],
    error: null,
  });

  const place = (c: ConversationSummary) => {
    setState(
      produce((s) => {
        removeFrom(s.unassigned, c.id);
        removeFrom(s.mine, c.id);
        removeFrom(s.all, c.id);
        if (c.status === "unassigned") insertSorted(s.unassigned, c, s.hasMore.unassigned);
        if (c.operators.some((o) => o.id === meId)) insertSorted(s.mine, c, s.hasMore.mine);
        insertSorted(s.all, c, s.hasMore.all);
      }),
    );
  };

  /**
   * Live rows of conversations open here, or closed but not yet caught up
   * with by the index; beside each, the newest row the index sent for it.
   */
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
  const shownAll = (list: ConversationSummary[]) => (lives.size ? list.map(shown) : list);

  const onFrame = (f: PanelServerFrame) => {
    switch (f.type) {
      case "index":
        batch(() => {
          setState("unassigned", reconcile(shownAll(f.unassigned).sort(byLastAtDesc), { key: "id" }));
          setState("mine", reconcile(shownAll(f.mine).sort(byLastAtDesc), { key: "id" }));
          setState("all", reconcile(shownAll(f.all).sort(byLastAtDesc), { key: "id" }));
          setState("operators", reconcile(f.operators, { key: "id" }));
          setState({
            phase: "ready",
            hasMore: { unassigned: f.unassignedHasMore, mine: f.mineHasMore, all: f.allHasMore },
            loadingMore: null,
            waiting: f.waiting,
          });
        });
        break;
      case "upsert": {
        const before = actions.find(f.conversation.id);
        const copy = before ? { ...before } : undefined;
        const row = shown(f.conversation);
        place(row);
        opts.onUpsert?.(copy, row);
        break;
      }
      case "notify":
        opts.onNotify?.(f.conversation, f.reason);
        break;
      case "page":
        batch(() => {
          const view = f.view;
          const known = new Set(unwrap(state[view]).map((c) => c.id));
          setState(
            produce((s) => {
              for (const c of f.conversations) if (!known.has(c.id)) insertSorted(s[view], shown(c));
            }),
          );
          setState("hasMore", view, f.hasMore);
          setState("loadingMore", null);
        });
        break;
      case "waiting":
        setState("waiting", f.waiting);
        break;
      case "remove":
        lives.delete(f.id);
        setState(
          produce((s) => {
            removeFrom(s.unassigned, f.id);
            removeFrom(s.mine, f.id);
            removeFrom(s.all, f.id);
          }),
        );
        break;
      case "presence":
        setState("operators", reconcile(f.operators, { key: "id" }));
        break;
      case "error":
        setState({ error: f.message, loadingMore: null });
        break;
    }
  };

  const showLive = (id: string, row: LiveRow | null) => {
    const known = lives.get(id);
    if (!row) {
      if (!known) return;
      known.open = false;
      if (known.index && caughtUp(known.index, known.row)) lives.delete(id);
      return;
    }
    const held = actions.find(id);
    const index = known?.index ?? (held ? { ...unwrap(held) } : null);
    lives.set(id, { row, open: true, index });
    if (!index) return;
    const next = overlay(index, row);
    if (!held || next.lastAt !== held.lastAt || next.unread !== held.unread || next.preview !== held.preview)
      place(next);
  };

  let socket: LiveSocket<PanelClientFrame> | null = null;

  const actions: InboxActions = {
    connect() {
      if (socket) return;
      socket = liveSocket<PanelServerFrame, PanelClientFrame>({
        path: "/ws/panel",
        onFrame,
        onStatus: (connection) => {
          setState("connection", connection);
          if (connection !== "open") setState("loadingMore", null);
        },
        onRepeatedFailure: opts.onRepeatedFailure,
      });
      socket.start();
    },
    disconnect() {
      socket?.stop();
      socket = null;
    },
    loadMore(view = "all") {
      if (!socket || !state.hasMore[view] || state.loadingMore) return;
      const list = state[view];
      const last = list[list.length - 1];
      const frame: PanelClientFrame = { type: "more", view, beforeLastAt: last?.lastAt ?? Date.now(), limit: PAGE };
      if (last) frame.beforeId = last.id;
      if (!socket.send(frame)) return;
      setState("loadingMore", view);
    },
    upsert: place,
    live(id, row) {
      // Called from effects: reading the lists here must not make the caller depend on them.
      untrack(() => showLive(id, row));
    },
    find(id) {
      return (
        state.all.find((c) => c.id === id) ??
        state.unassigned.find((c) => c.id === id) ??
        state.mine.find((c) => c.id === id)
      );
    },
    dismissError() {
      setState("error", null);
    },
  };
  return [state, actions];
}
