/**
 * The nouns of the wire: messages, files, conversations and the limits on
 * every input. `LIMITS` is the only runtime export of `protocol/`, and it is
 * plain data.
 */

/** Sizes and counts enforced on every input. */
export const LIMITS = {
  /** Largest WebSocket frame we accept, in bytes (UTF-16 length as a cheap upper bound). */
  frameBytes: 16 * 1024,
  /** Longest chat message text, in characters. */
  messageChars: 4000,
  /** Longest client-generated message id. */
  clientIdChars: 64,
  /** Messages per history page. */
  historyPage: 50,
  /** Largest history page a client may ask for. */
  historyPageMax: 200,
  /** Largest number of missed messages sent in one resume frame. */
  resumeChunk: 500,
  /** Longest survey comment. */
  commentChars: 1000,
  /** Longest visitor name / email. */
  nameChars: 80,
  emailChars: 254,
  /**
   * Largest file sent on the Email channel: the whole mail must stay under
   * Cloudflare's 5 MiB with 64 KiB left for headers and text, and base64
   * sends 57 bytes of file as a line of 78 (76 characters and CRLF): about
   * 3.6 MB. The panel checks it before uploading.
   */
  emailFileBytes: Math.floor((5 * 1024 * 1024 - 64 * 1024) / 78) * 57,
} as const;

export type Role = "visitor" | "operator";

/** Where a conversation stands in the panel's columns. */
export type ConversationStatus =
  /** Waiting for an operator: shown in every operator's Unassigned column. */
  | "unassigned"
  /** At least one operator joined. */
  | "assigned"
  /** Every operator left and the visitor has not written since. */
  | "idle";

/** How a message travelled: the widget's chat, or email (the blue envelope). */
export type Channel = "chat" | "email";

export type MessageKind =
  /** Text typed by a visitor or an operator. */
  | "text"
  /** A file or picture (the paper clip); `file` describes it, `text` is its name. */
  | "file"
  /** A system event in the log: an operator joined or left. */
  | "event";

export interface Author {
  role: Role | "system";
  /** Visitor id or operator id; empty for system events. */
  id: string;
  /** Display name at the time of writing. */
  name: string;
}

/** One stored message, as every client sees it. */
export interface Message {
  /** Gap-free per-conversation sequence number, starting at 1. */
  seq: number;
  /** Client-generated id (idempotency key); server-made for events. */
  clientId: string;
  kind: MessageKind;
  author: Author;
  /** Plain text. Always rendered as text, never as HTML. */
  text: string;
  /** Milliseconds since the epoch when stored. */
  at: number;
  /** For kind "event": what happened. */
  event?: "joined" | "left" | "rated";
  /** For a "rated" event: the visitor's rating, 1–5. */
  rating?: number;
  /** For kind "file": the stored attachment. */
  file?: FileRef;
  /** "email" for mail received or sent; absent or "chat" otherwise. */
  channel?: Channel;
  /** For email messages: the envelope the panel shows. */
  email?: EmailMeta;
  /** For outbound email: where delivery stands. */
  delivery?: Delivery;
}

export interface EmailMeta {
  subject: string;
  from: { name: string; address: string };
  to: string;
  /** RFC 5322 Message-ID, with angle brackets. */
  messageId: string;
  /** Sanitised HTML body (no script, style or remote resource), if the mail had HTML. */
  html?: string;
  /** The full text before the quoted reply was trimmed for display. */
  fullText?: string;
  /** Attachments that came with the mail, stored like chat files. */
  attachments?: FileRef[];
  /** Files the mail carried that were not stored (type not allowed, too large), by name. */
  skipped?: string[];
  /** An auto-reply, bounce or list mail: never answered automatically. */
  auto?: boolean;
  /**
   * Set when the sender could not be verified (the envelope sender does not
   * match From, or the receiving server's checks failed): why, in words.
   * Such a mail opens a conversation of its own and never joins another.
   */
  unverified?: string;
  /** What of the mail is not shown (text or HTML over a limit), in words; `original` then has it all. */
  cut?: string[];
  /** The mail as it arrived (.eml), kept when part of it is not shown. */
  original?: FileRef;
}

export interface Delivery {
  state: "sending" | "sent" | "failed";
  /** Why it failed, in words. */
  error?: string;
}

/** Types a file may have; decided from its content (magic bytes), never from its name or the client's claim. */
export type FileType =
  | "image/png"
  | "image/jpeg"
  | "image/gif"
  | "image/webp"
  | "application/pdf"
  | "application/zip"
  | "text/plain"
  /** Only a mail kept as it arrived (EmailMeta.original); never an upload. */
  | "message/rfc822";

/** An attachment stored in R2. */
export interface FileRef {
  /** Unguessable id, unique within the conversation. */
  id: string;
  /** Safe display name (no path separators or control characters). */
  name: string;
  /** Size in bytes. */
  size: number;
  type: FileType;
  /** True for pictures shown inline as thumbnails. */
  image: boolean;
}

/** `POST .../files`: the file is stored and its message acknowledged. */
export interface UploadResponse {
  ack: { clientId: string; seq: number; at: number };
  message: Message;
}

export interface OperatorRef {
  id: string;
  name: string;
}

export interface VisitorRef {
  id: string;
  name: string | null;
  email: string | null;
  /**
   * True when the site vouched for this identity with `Microchat.setUser({ hash })`;
   * false when a name/email came from setUser without a valid hash (show as unverified).
   */
  verified?: boolean;
}

/** A conversation's live state, sent on connect and whenever it changes. */
export interface ConversationState {
  id: string;
  status: ConversationStatus;
  visitor: VisitorRef;
  /** Operators currently joined (assignment state). */
  operators: OperatorRef[];
  /** Highest stored sequence number. */
  lastSeq: number;
  /** Whether the visitor has an open widget socket right now. */
  visitorOnline: boolean;
  createdAt: number;
  /** A satisfaction survey waiting for the visitor's answer (after the last operator left). */
  survey: SurveyOffer | null;
}

/** The survey offered to the visitor once per leave. */
export interface SurveyOffer {
  id: string;
  /** Names of the operators who took part in that stretch of the conversation. */
  operators: string[];
}

/** A row in the panel's conversation lists. */
export interface ConversationSummary {
  id: string;
  status: ConversationStatus;
  visitor: VisitorRef;
  operators: OperatorRef[];
  /** Preview of the last message (plain text, truncated). */
  preview: string;
  previewRole: Role | "system";
  lastAt: number;
  /** Visitor messages no operator has answered or read yet. */
  unread: number;
  createdAt: number;
}
