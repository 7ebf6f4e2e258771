/**
 * One open conversation: its state, its message log and the outbox, kept in
 * sync over `/ws/conversations/:id`.
 *
 * Messages are keyed by `seq`. Our own messages first live in the outbox
 * under their `clientId` ("sending") and move into the log on `ack` or when
 * the broadcast `message` with the same clientId arrives, whichever is first.
 * After a reconnect `hello.lastSeq` asks only for what was missed, and the
 * outbox is sent again with the same clientIds: the server stores each once.
 *
 * Files go over HTTP (`api.upload`), one at a time in the order chosen, and
 * wait in `uploads` meanwhile; the stored message comes back both in the
 * upload's answer and as a broadcast, and `merge` keeps whichever is first.
 *
 * Email replies travel the same way with `channel: "email"`. The server
 * answers the sender with an `ack` only (the broadcast skips the sending
 * socket), so the message built from the ack is provisional: it is shown at
 * once and replaced by the stored copy (envelope, subject) fetched with a
 * one-message `history` request. `delivery` frames then move it from
 * "sending" to "sent" or "failed".
 */
import { batch } from "solid-js";
import { createStore, reconcile } from "solid-js/store";
import type {
  Channel,
  ClientFrame,
  ConversationState,
  Delivery,
  LIMITS,
  Message,
  ServerFrame,
} from "../../../worker/protocol";
import { api, errorText, HttpError } from "../lib/api";
import { newClientId } from "../lib/format";
import { liveSocket, type SocketStatus } from "../../../widget/src/lib/live-socket";

/** Mirrors LIMITS.messageChars; typed so a change there fails the build here. */
export const MESSAGE_CHARS: (typeof LIMITS)["messageChars"] = 4000;
/** Mirrors LIMITS.historyPage. */
const HISTORY_PAGE: (typeof LIMITS)["historyPage"] = 50;

export interface PendingMessage {
  clientId: string;
  text: string;
  /** How the reply goes out: the widget's chat or an email to the visitor. */
  channel: Channel;
  at: number;
  status: "sending" | "failed";
  error: string | null;
}

/** A file on its way to the server, shown as a bubble with a progress bar. */
export interface PendingUpload {
  clientId: string;
  name: string;
  size: number;
  /** Bytes sent so far, 0–100. */
  percent: number;
  /** "queued" while an earlier file of the same batch is still uploading. */
  status: "queued" | "uploading";
  channel: Channel;
}

export interface ConversationStoreState {
  /**
   * "loading" until the first welcome; "gone" if the server says it does not
   * exist; "deleted" if it was deleted while open (by us or another operator).
   */
  phase: "loading" | "ready" | "gone" | "deleted";
  connection: SocketStatus;
  conversation: ConversationState | null;
  /** Stored messages, ascending by seq, no duplicates. */
  messages: Message[];
  outbox: PendingMessage[];
  uploads: PendingUpload[];
  hasMore: boolean;
  loadingOlder: boolean;
  /** Join / leave / delete in flight. */
  busy: boolean;
  /** Last refused action, shown inline until dismissed. */
  error: string | null;
  /** Text for the screen reader live region: the newest incoming message. */
  announcement: string;
  /** The last `read` this panel sent (everything up to it is read); 0 for none. */
  readSeq: number;
}

export interface ConversationActions {
  send(text: string, channel?: Channel): boolean;
  retry(clientId: string): void;
  discard(clientId: string): void;
  /** Send files (paper clip, drop or paste); failures are shown in `error`. */
  upload(files: File[], channel?: Channel): void;
  cancelUpload(clientId: string): void;
  loadOlder(): void;
  /** Tell the server the operator has seen everything held (clears unread). */
  markRead(): void;
  join(): Promise<void>;
  leave(): Promise<void>;
  /** Delete the conversation for good; throws `HttpError` with the server's message. */
  remove(): Promise<void>;
  dismissError(): void;
  dispose(): void;
}

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
  const [state, setState] = createStore<ConversationStoreState>({
    phase: "loading",
    connection: "connecting",
    conversation: null,
    messages: [],
    outbox: [],
    uploads: [],
    hasMore: false,
    loadingOlder: false,
    busy: false,
    error: null,
    announcement: "",
    readSeq: 0,
  });

  /** True between `welcome` and the socket closing: sends may go out. */
  let welcomed = false;
  let lastReadSent = 0;
  /** Seqs of messages built locally from an ack; the server's copy replaces them. */
  const provisional = new Set<number>();
  /** Delivery states that arrived before their message did. */
  const earlyDelivery = new Map<number, Delivery>();
  /**
   * What each `history` request in flight was for, oldest first. The server
   * answers one socket's frames in order, so answers pair up with this queue.
   * "refresh" fetches the stored copy of a provisional message.
   */
  const historyWants: ("older" | "refresh")[] = [];

  const lastSeq = () => state.messages[state.messages.length - 1]?.seq ?? 0;
  const firstSeq = () => state.messages[0]?.seq ?? 0;

  const setConversation = (s: ConversationState) => {
    setState("conversation", reconcile(s));
    opts.onState?.(s);
  };

  /**
   * Add messages to the log, skipping seqs already held (except provisional
   * ones, which the server's copy replaces), and settle the outbox.
   */
  const merge = (incoming: Message[]) => {
    if (incoming.length === 0) return;
    const held = new Set(state.messages.map((m) => m.seq));
    const fresh = incoming
      .filter((m) => !held.has(m.seq))
      .map((m) => {
        const d = earlyDelivery.get(m.seq);
        if (!d) return m;
        earlyDelivery.delete(m.seq);
        return { ...m, delivery: d };
      });
    // Only a copy of a message already held replaces it: the provisional
    // message itself arrives here first and must stay provisional until then.
    const replacing = new Map(incoming.filter((m) => held.has(m.seq) && provisional.has(m.seq)).map((m) => [m.seq, m]));
    const ids = new Set(incoming.map((m) => m.clientId));
    batch(() => {
      if (fresh.length || replacing.size) {
        let next = [...state.messages, ...fresh];
        if (replacing.size) {
          next = next.map((m) => replacing.get(m.seq) ?? m);
          for (const seq of replacing.keys()) provisional.delete(seq);
        }
        const last = state.messages[state.messages.length - 1];
        if (last && fresh.some((m) => m.seq < last.seq)) next.sort((a, b) => a.seq - b.seq);
        setState("messages", reconcile(next, { key: "seq" }));
      }
      if (state.outbox.some((p) => ids.has(p.clientId))) {
        setState("outbox", (o) => o.filter((p) => !ids.has(p.clientId)));
      }
      if (state.uploads.some((u) => ids.has(u.clientId))) {
        setState("uploads", (list) => list.filter((u) => !ids.has(u.clientId)));
      }
    });
  };

  const sendFrame = (p: PendingMessage): ClientFrame =>
    p.channel === "email"
      ? ({ type: "send", clientId: p.clientId, text: p.text, channel: "email" } satisfies ClientFrame)
      : ({ type: "send", clientId: p.clientId, text: p.text } satisfies ClientFrame);

  /** Ask for the stored copy of message `seq` (answered by a one-message history page). */
  const refresh = (seq: number) => {
    if (socket.send({ type: "history", beforeSeq: seq + 1, limit: 1 } satisfies ClientFrame)) {
      historyWants.push("refresh");
    }
  };

  const flushOutbox = () => {
    for (const p of state.outbox) {
      if (p.status !== "sending") continue;
      if (!socket.send(sendFrame(p))) break;
    }
  };

  const onFrame = (f: ServerFrame) => {
    switch (f.type) {
      case "welcome": {
        const resume = state.messages.length > 0;
        batch(() => {
          setConversation(f.state);
          if (resume) merge(f.messages);
          else {
            provisional.clear();
            setState(
              "messages",
              reconcile(
                [...f.messages].sort((a, b) => a.seq - b.seq),
                { key: "seq" },
              ),
            );
            setState("hasMore", f.hasMore);
            // Our own messages may already be in the page (ack lost in a drop).
            const ids = new Set(f.messages.map((m) => m.clientId));
            setState("outbox", (o) => o.filter((p) => !ids.has(p.clientId)));
          }
          setState({ phase: "ready", loadingOlder: false });
        });
        welcomed = true;
        flushOutbox();
        break;
      }
      case "messages":
        merge(f.messages);
        break;
      case "message": {
        const m = f.message;
        const own = state.outbox.some((p) => p.clientId === m.clientId);
        merge([m]);
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
        const stored: Message = {
          seq: f.seq,
          clientId: f.clientId,
          kind: "text",
          author: { role: "operator", id: me.id, name: me.name },
          text: p.text,
          at: f.at,
        };
        if (p.channel === "email") {
          stored.channel = "email";
          stored.email = provisionalEnvelope();
          stored.delivery = { state: "sending" };
          provisional.add(f.seq);
        }
        merge([stored]);
        if (p.channel === "email") refresh(f.seq);
        break;
      }
      case "history": {
        const want = historyWants.shift() ?? "older";
        if (want === "refresh") {
          merge(f.messages);
          break;
        }
        batch(() => {
          merge(f.messages);
          setState({ hasMore: f.hasMore, loadingOlder: false });
        });
        break;
      }
      case "delivery": {
        const i = state.messages.findIndex((m) => m.seq === f.seq);
        if (i >= 0) setState("messages", i, "delivery", f.delivery);
        else earlyDelivery.set(f.seq, f.delivery);
        break;
      }
      case "state":
        setConversation(f.state);
        break;
      case "error":
        if (f.clientId) {
          const i = state.outbox.findIndex((p) => p.clientId === f.clientId);
          if (i >= 0) {
            setState("outbox", i, { status: "failed", error: f.message });
            break;
          }
        }
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
    resume: () => ({ type: "hello", lastSeq: lastSeq() }),
    onFrame,
    onStatus: (connection) => {
      if (connection !== "open") {
        welcomed = false;
        // Answers to requests on the old socket will never come.
        historyWants.length = 0;
        setState("loadingOlder", false);
      }
      setState("connection", connection);
    },
    onRepeatedFailure: opts.onRepeatedFailure,
  });
  socket.start();

  const joined = () => state.conversation?.operators.some((o) => o.id === me.id) ?? false;

  /** Aborts the upload (or queued upload) under each clientId. */
  const uploadControllers = new Map<string, AbortController>();
  let uploadQueue: Promise<void> = Promise.resolve();

  /**
   * What the server will put on an email reply, for the moment before its
   * stored copy arrives: "Re: " and the subject of the visitor's last mail.
   */
  const provisionalEnvelope = (): Message["email"] => {
    const lastMail = [...state.messages].reverse().find((m) => m.channel === "email" && m.author.role === "visitor");
    const subject = lastMail?.email?.subject.trim() ?? "";
    const to = state.conversation?.visitor.email ?? "";
    return {
      subject: !subject || /^re:/i.test(subject) ? subject : `Re: ${subject}`,
      from: { name: me.name, address: "" },
      to,
      messageId: "",
    };
  };

  const sendFile = async (clientId: string, file: File, signal: AbortSignal, channel: Channel) => {
    if (signal.aborted) return; // cancelled while queued
    setState("uploads", (u) => u.clientId === clientId, "status", "uploading");
    try {
      const res = await api.upload(id, file, clientId, {
        signal,
        channel,
        onProgress: (fraction) =>
          setState("uploads", (u) => u.clientId === clientId, "percent", Math.min(100, Math.round(fraction * 100))),
      });
      merge([res.message]);
    } catch (e) {
      if (!(e instanceof HttpError && e.code === "aborted")) setState("error", `${file.name}: ${errorText(e)}`);
    } finally {
      uploadControllers.delete(clientId);
      setState("uploads", (list) => list.filter((u) => u.clientId !== clientId));
    }
  };

  const actions: ConversationActions = {
    send(text, channel = "chat") {
      if (!text.trim() || text.length > MESSAGE_CHARS) return false;
      const p: PendingMessage = {
        clientId: newClientId(),
        text,
        channel,
        at: Date.now(),
        status: "sending",
        error: null,
      };
      setState("outbox", state.outbox.length, p);
      if (welcomed) socket.send(sendFrame(p));
      return true;
    },
    retry(clientId) {
      const p = state.outbox.find((x) => x.clientId === clientId);
      if (!p) return;
      setState("outbox", (x) => x.clientId === clientId, { status: "sending", error: null });
      if (welcomed) socket.send(sendFrame(p));
    },
    discard(clientId) {
      setState("outbox", (o) => o.filter((p) => p.clientId !== clientId));
    },
    upload(files, channel = "chat") {
      if (files.length === 0) return;
      setState("error", null);
      for (const file of files) {
        const p: PendingUpload = {
          clientId: newClientId(),
          name: file.name || "file",
          size: file.size,
          percent: 0,
          status: "queued",
          channel,
        };
        const controller = new AbortController();
        uploadControllers.set(p.clientId, controller);
        setState("uploads", state.uploads.length, p);
        // One at a time, so the conversation shows them in the order chosen.
        uploadQueue = uploadQueue.then(() => sendFile(p.clientId, file, controller.signal, channel));
      }
    },
    cancelUpload(clientId) {
      uploadControllers.get(clientId)?.abort();
      uploadControllers.delete(clientId);
      setState("uploads", (list) => list.filter((u) => u.clientId !== clientId));
    },
    loadOlder() {
      if (!welcomed || !state.hasMore || state.loadingOlder || state.messages.length === 0) return;
      if (socket.send({ type: "history", beforeSeq: firstSeq(), limit: HISTORY_PAGE } satisfies ClientFrame)) {
        historyWants.push("older");
        setState("loadingOlder", true);
      }
    },
    markRead() {
      // Only an operator who joined reads on the team's behalf; peeking at an
      // unassigned conversation must not hide it from the others' unread counts.
      if (!welcomed || !joined()) return;
      const top = lastSeq();
      if (top <= lastReadSent) return;
      const unseen = state.messages.some((m) => m.seq > lastReadSent && m.author.role === "visitor");
      if (!unseen) {
        lastReadSent = top;
        return;
      }
      if (socket.send({ type: "read", seq: top } satisfies ClientFrame)) {
        lastReadSent = top;
        setState("readSeq", top);
      }
    },
    async join() {
      if (state.busy) return;
      setState({ busy: true, error: null });
      try {
        const { state: s } = await api.join(id);
        setConversation(s);
      } catch (e) {
        setState("error", errorText(e));
      } finally {
        setState("busy", false);
      }
    },
    async leave() {
      if (state.busy) return;
      setState({ busy: true, error: null });
      try {
        const { state: s } = await api.leave(id);
        setConversation(s);
      } catch (e) {
        setState("error", errorText(e));
      } finally {
        setState("busy", false);
      }
    },
    async remove() {
      if (state.busy) return;
      setState({ busy: true, error: null });
      try {
        await api.deleteConversation(id);
        socket.stop();
        setState("phase", "deleted");
      } finally {
        setState("busy", false);
      }
    },
    dismissError() {
      setState("error", null);
    },
    dispose() {
      for (const c of uploadControllers.values()) c.abort();
      uploadControllers.clear();
      socket.stop();
    },
  };
  return [state, actions];
}
