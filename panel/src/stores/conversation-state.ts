/** The shape of one open conversation's store (see conversation.ts), and the limits it mirrors from the server. */
import type { SocketStatus } from "../../../widget/src/lib/live-socket";
import type { Channel, ConversationState, LIMITS, Message } from "../../../worker/protocol";

/** Mirrors LIMITS.messageChars; typed so a change there fails the build here. */
export const MESSAGE_CHARS: (typeof LIMITS)["messageChars"] = 4000;
/** Mirrors LIMITS.historyPage. */
export const HISTORY_PAGE: (typeof LIMITS)["historyPage"] = 50;

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

export const initialState = (): ConversationStoreState => ({
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
