/**
 * The conversation index, kept live over `/ws/panel`.
 *
 * The server sends a full `index` on every (re)connect and then `upsert` /
 * `remove` frames. An upsert is re-placed into the lists by the same rules
 * the server uses: unassigned → Unassigned, joined by me → Mine, all → All.
 */
import { batch, untrack } from "solid-js";
import { createStore, produce, reconcile, unwrap } from "solid-js/store";
import type { ConversationSummary, PanelClientFrame, PanelServerFrame } from "../../../worker/protocol";
import { liveSocket, type LiveSocket } from "../../../widget/src/lib/live-socket";
import { takeEarlySocket } from "../lib/early-socket";
import { byLastAtDesc, insertSorted, placeRow, removeRow, type InboxActions, type InboxState } from "./inbox-state";
import { createLiveRows } from "./live-row";

const PAGE = 50;

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

  const place = (c: ConversationSummary) => setState(produce((s) => placeRow(s, c, meId)));

  const lives = createLiveRows((id) => actions.find(id), place);

  const onFrame = (f: PanelServerFrame) => {
    switch (f.type) {
      case "index":
        batch(() => {
          setState("unassigned", reconcile(lives.shownAll(f.unassigned).sort(byLastAtDesc), { key: "id" }));
          setState("mine", reconcile(lives.shownAll(f.mine).sort(byLastAtDesc), { key: "id" }));
          setState("all", reconcile(lives.shownAll(f.all).sort(byLastAtDesc), { key: "id" }));
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
        const row = lives.shown(f.conversation);
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
              for (const c of f.conversations) if (!known.has(c.id)) insertSorted(s[view], lives.shown(c));
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
        lives.forget(f.id);
        setState(produce((s) => removeRow(s, f.id)));
        break;
      case "presence":
        setState("operators", reconcile(f.operators, { key: "id" }));
        break;
      case "error":
        setState({ error: f.message, loadingMore: null });
        break;
    }
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
        early: takeEarlySocket,
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
      untrack(() => lives.show(id, row));
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
