/**
 * One open conversation: its state, its message log and the outbox, kept in
 * sync over `/ws/conversations/:id` (the shared live socket). Here: the
 * socket, its frames and paging; the log's merging is in conversation-log.ts,
 * replies on their way in conversation-outbox.ts, files in
 * conversation-uploads.ts, the state's shape in conversation-state.ts.
 *
 * After a reconnect the socket's resume frame (`hello.lastSeq`) asks only for
 * what was missed, and the outbox is sent again with the same clientIds: the
 * server stores each once.
 */
import { batch } from "solid-js";
import { createStore, reconcile } from "solid-js/store";
import { liveSocket } from "../../../widget/src/lib/live-socket";
import type { Channel, ClientFrame, ConversationState, Message, ServerFrame } from "../../../worker/protocol";
import { api, errorText } from "../lib/api";
import { visitorName } from "../lib/format";
import { createMessageLog } from "./conversation-log";
import { createOutbox } from "./conversation-outbox";
import { createPaging } from "./conversation-paging";
import { initialState, type ConversationActions, type ConversationStoreState } from "./conversation-state";
import { createUploads } from "./conversation-uploads";
import { keepReplies, takeReplies } from "./kept-replies";

export function createConversation(
  id: string,
  me: { id: string; name: string },
  opts: {
    onRepeatedFailure?: () => void;
    onState?: (s: ConversationState) => void;
    /** A new visitor message arrived live (not history, not a resume). */
    onVisitorMessage?: (m: Message) => void;
  } = {},
): [ConversationStoreState, ConversationActions] {
  // Replies left on their way when this conversation's window last closed are shown and sent again (kept-replies.ts).
  const [state, setState] = createStore<ConversationStoreState>({ ...initialState(), outbox: takeReplies(id) });
  /** True between `welcome` and the socket closing: sends may go out. */
  let welcomed = false;
  const ready = () => welcomed;
  const joined = () => state.conversation?.operators.some((o) => o.id === me.id) ?? false;
  const send = (f: ClientFrame) => socket.send(f);
  const log = createMessageLog(state, setState, me);
  const uploads = createUploads(id, state, setState, (m) => log.merge([m]));
  const outbox = createOutbox(state, setState, send, ready);
  const paging = createPaging(state, setState, send, ready, joined);

  const setConversation = (s: ConversationState) => {
    setState("conversation", reconcile(s));
    opts.onState?.(s);
  };

  const onFrame = (f: ServerFrame) => {
    switch (f.type) {
      case "welcome": {
        batch(() => {
          setConversation(f.state);
          log.welcome(f.messages, f.hasMore);
          setState({ phase: "ready", loadingOlder: false });
        });
        welcomed = true;
        outbox.flush();
        break;
      }
      case "messages":
        log.merge(f.messages);
        break;
      case "message": {
        const m = f.message;
        const own = state.outbox.some((p) => p.clientId === m.clientId);
        log.merge([m]);
        if (!own && m.kind !== "event" && m.author.id !== me.id) {
          const what = m.kind === "file" ? `sent ${m.file?.image ? "a picture" : "a file"}, ${m.text}` : m.text;
          setState("announcement", `${m.author.name || "Visitor"}: ${what.slice(0, 200)}`);
          if (m.author.role === "visitor") opts.onVisitorMessage?.(m);
        }
        break;
      }
      case "ack": {
        const p = state.outbox.find((x) => x.clientId === f.clientId);
        if (!p) break;
        log.acked(f, p);
        // An email reply's stored copy (envelope, subject) is asked for at once.
        if (p.channel === "email") paging.refresh(f.seq);
        break;
      }
      case "history": {
        if (paging.answered() === "refresh") {
          log.merge(f.messages);
          break;
        }
        batch(() => {
          log.merge(f.messages);
          setState({ hasMore: f.hasMore, loadingOlder: false });
        });
        break;
      }
      case "delivery":
        log.delivery(f.seq, f.delivery);
        break;
      case "state":
        setConversation(f.state);
        break;
      case "error":
        if (f.clientId && outbox.refused(f.clientId, f.message)) break;
        if (f.code === "not_found" || f.code === "deleted") {
          // Deleted under our eyes (the server also closes with 4004): the
          // window closes with a notice. Opening an old link just says it is gone.
          const wasOpen = f.code === "deleted" && state.phase === "ready";
          setState({ phase: wasOpen ? "deleted" : "gone", error: null });
          socket.stop();
          break;
        }
        setState({ error: f.message, loadingOlder: false });
        break;
    }
  };

  const socket = liveSocket<ServerFrame, ClientFrame>({
    path: `/ws/conversations/${encodeURIComponent(id)}`,
    // Resume: after a reconnect the server sends only what was missed.
    resume: () => ({ type: "hello", lastSeq: state.messages[state.messages.length - 1]?.seq ?? 0 }),
    onFrame,
    onStatus: (connection) => {
      if (connection !== "open") {
        welcomed = false;
        paging.reset();
      }
      setState("connection", connection);
    },
    onRepeatedFailure: opts.onRepeatedFailure,
  });
  socket.start();

  /** Join, leave or delete: one at a time, `busy` meanwhile; a refused join or leave shows in `error`. */
  const whileBusy = async (request: () => Promise<void>, showError = true) => {
    if (state.busy) return;
    setState({ busy: true, error: null });
    try {
      await request();
    } catch (e) {
      if (!showError) throw e;
      setState("error", errorText(e));
    } finally {
      setState("busy", false);
    }
  };

  const actions: ConversationActions = {
    send: (text, channel = "chat") => outbox.send(text, channel),
    retry: outbox.retry,
    discard: outbox.discard,
    upload: (files, channel: Channel = "chat") => uploads.upload(files, channel),
    cancelUpload: uploads.cancel,
    loadOlder: paging.loadOlder,
    markRead: paging.markRead,
    join: () => whileBusy(async () => setConversation((await api.join(id)).state)),
    leave: () => whileBusy(async () => setConversation((await api.leave(id)).state)),
    remove: () =>
      whileBusy(async () => {
        await api.deleteConversation(id);
        socket.stop();
        setState("phase", "deleted");
      }, false),
    dismissError() {
      setState("error", null);
    },
    dispose() {
      uploads.dispose();
      socket.stop();
      // What is still on its way is delivered without the window (or shown again when it reopens).
      const visitor = state.conversation?.visitor;
      keepReplies(id, visitor ? visitorName(visitor) : "the visitor", state.outbox);
    },
  };
  return [state, actions];
}
