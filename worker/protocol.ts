/**
 * Wire types shared by the Worker, the panel and the widget.
 *
 * Everything that crosses a socket or an HTTP response is described here, as
 * tagged unions, so the three parts cannot drift apart. The panel and widget
 * import this file with `import type` only: it must not pull runtime code into
 * their bundles. The one runtime export, `LIMITS`, is plain data.
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
}

export interface Delivery {
  state: "sending" | "sent" | "failed";
  /** Why it failed, in words. */
  error?: string;
}

/** Types a file may have; decided from its content (magic bytes), never from its name or the client's claim. */
export type FileType =
  "image/png" | "image/jpeg" | "image/gif" | "image/webp" | "application/pdf" | "application/zip" | "text/plain";

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

// ---------------------------------------------------------------------------
// Conversation socket (visitor widget and operator panel both speak this).

export type ClientFrame =
  /** First frame after connecting. `lastSeq` is the highest seq the client holds (0 for none). */
  | { type: "hello"; lastSeq: number }
  /**
   * Store a message. Resending the same clientId is safe: it is stored once.
   * Operators may send on the "email" channel: the reply goes out by email.
   */
  | { type: "send"; clientId: string; text: string; channel?: Channel }
  /** Ask for the page of messages just before `beforeSeq`. */
  | { type: "history"; beforeSeq: number; limit?: number }
  /** Operator has seen everything up to `seq` (clears the unread count). */
  | { type: "read"; seq: number }
  /** Visitor tells who they are (optional). */
  | { type: "profile"; name?: string; email?: string }
  /** Visitor answers the satisfaction survey: 1–5 and an optional comment. */
  | { type: "rate"; surveyId: string; rating: number; comment?: string }
  /** Visitor closes the survey without answering; it is not offered again for that leave. */
  | { type: "dismissSurvey"; surveyId: string };

export type ServerFrame =
  /** Answer to hello: the conversation state and what the client missed. */
  | {
      type: "welcome";
      role: Role;
      /** Who this socket is (visitor id or operator id). */
      you: string;
      state: ConversationState;
      /** Missed messages (resume) or the newest page (fresh open), ascending by seq. */
      messages: Message[];
      /** True if messages older than the first one sent exist. */
      hasMore: boolean;
      /** True if the resume is split; more `messages` frames follow. */
      partial: boolean;
      /** For visitors: whether any operator is online to answer now. */
      available?: boolean;
    }
  /** A continuation of a split resume, ascending by seq. */
  | { type: "messages"; messages: Message[]; done: boolean }
  /** A newly stored message (broadcast to every socket of the conversation). */
  | { type: "message"; message: Message }
  /** The message with this clientId is stored under `seq`. */
  | { type: "ack"; clientId: string; seq: number; at: number }
  /** Page of older messages, ascending by seq. */
  | { type: "history"; messages: Message[]; hasMore: boolean }
  /** An outbound email's delivery state changed. */
  | { type: "delivery"; seq: number; delivery: Delivery }
  /** The conversation's state changed (join, leave, requeue, visitor online). */
  | { type: "state"; state: ConversationState }
  /** Something the client sent was refused. The socket stays open. */
  | { type: "error"; code: ErrorCode; message: string; clientId?: string; retryAfterMs?: number };

export type ErrorCode =
  | "bad_json"
  | "bad_frame"
  | "too_large"
  | "unknown_type"
  | "forbidden"
  | "not_found"
  | "deleted"
  | "rate_limited"
  | "internal";

// ---------------------------------------------------------------------------
// Panel socket (operator ↔ workspace): the conversation index, live.

export type PanelServerFrame =
  /** Sent on connect: the lists the panel shows first. */
  | {
      type: "index";
      unassigned: ConversationSummary[];
      mine: ConversationSummary[];
      all: ConversationSummary[];
      /** True if "all" has more rows than sent. */
      allHasMore: boolean;
      /** True if Unassigned / Mine have more rows than sent (ask with `more` and their view). */
      unassignedHasMore: boolean;
      mineHasMore: boolean;
      /** How many conversations wait in Unassigned in all, also those not sent. */
      waiting: number;
      operators: OperatorPresence[];
    }
  /** A conversation was created or changed. */
  | { type: "upsert"; conversation: ConversationSummary }
  /** Answer to `more`: the next rows of a list, older than the ones the panel has. */
  | { type: "page"; view: PagedView; conversations: ConversationSummary[]; hasMore: boolean }
  /** The number of conversations waiting in Unassigned changed. */
  | { type: "waiting"; waiting: number }
  /** A conversation was removed from the index. */
  | { type: "remove"; id: string }
  /** Operators' presence changed. */
  | { type: "presence"; operators: OperatorPresence[] }
  /**
   * A visitor wrote in an Unassigned conversation (new, requeued, or a new
   * message there): sent only to operators who are online, not away.
   */
  | { type: "notify"; conversation: ConversationSummary; reason: "new" | "requeued" | "message" }
  | { type: "error"; code: ErrorCode; message: string };

/** The panel's lists that come a page at a time. */
export type PagedView = "unassigned" | "mine" | "all";

export type PanelClientFrame =
  /** Ask for more of a list ("all" if no view), older than `beforeLastAt`; answered by a `page` frame. */
  { type: "more"; view?: PagedView; beforeLastAt: number; beforeId?: string; limit?: number };

export interface OperatorPresence {
  id: string;
  name: string;
  /** Has the panel open right now. */
  online: boolean;
  /** What the operator chose: "away" operators get no notifications. */
  status: PresenceStatus;
}

export type PresenceStatus = "online" | "away";

// ---------------------------------------------------------------------------
// HTTP API bodies.

export interface Operator {
  id: string;
  name: string;
  email: string;
  admin: boolean;
  createdAt: number;
}

/** `GET /api/auth/me` */
export interface MeResponse {
  operator: Operator;
}

/** `GET /api/setup` */
export interface SetupStatus {
  needsSetup: boolean;
}

/** `POST /api/visitor/session`: a new visitor identity for the widget. */
export interface VisitorSession {
  visitorId: string;
  conversationId: string;
  /** Bearer token the widget keeps in its storage; never put in a URL. */
  token: string;
  workspaceName: string;
}

/** `POST /api/visitor/ticket`: a short-lived, single-use WebSocket ticket. */
export interface SocketTicket {
  ticket: string;
  expiresAt: number;
}

/** `GET/PUT /api/settings`: workspace settings an admin can change. */
export interface WorkspaceSettings {
  /** The address email replies come from, shown under each email message. */
  emailAddress: string | null;
  /** Display name on outgoing mail. */
  emailName: string;
  /** Delete conversations inactive for this many days; 0 = never (the default). */
  retentionDays: number;
  /** Email-only visitors get the satisfaction survey as a link in a follow-up email (off by default). */
  surveyByEmail: boolean;
}

/** One operator's figures in Report > Operator for a date range. */
export interface OperatorReport {
  id: string;
  name: string;
  /** Average rating, or null without ratings. */
  averageRating: number | null;
  ratings: number;
  /** Count of ratings 1, 2, 3, 4, 5. */
  distribution: number[];
  conversationsJoined: number;
  messagesSent: number;
  /** Median time from a visitor message in Unassigned to this operator's first reply, in ms. */
  medianFirstResponseMs: number | null;
}

/** `GET /api/reports/operators?from=&to=` */
export interface OperatorReportResponse {
  from: number;
  to: number;
  operators: OperatorReport[];
  /** Ratings per UTC day in the range (for the chart). */
  series: { day: string; ratings: number; average: number | null }[];
}

export type VisitorDevice = "desktop" | "mobile" | "tablet" | "tv" | "bot";

/** A page the visitor viewed, recorded by the widget loader. */
export interface PageView {
  url: string;
  title: string;
  /** When the page was opened (ms since the epoch). */
  at: number;
  /** Time spent on the page, once known (the page was left). */
  ms: number | null;
}

/** `GET /api/conversations/:id/visitor`: the visitor panel in the upper right of the conversation. */
export interface VisitorInfo {
  id: string;
  name: string | null;
  email: string | null;
  /** An open widget socket right now. */
  online: boolean;
  lastSeen: number | null;
  ip: string | null;
  browser: { name: string; version: string | null } | null;
  os: { name: string; version: string | null } | null;
  device: VisitorDevice | null;
  bot: boolean;
  location: {
    country: string | null;
    region: string | null;
    city: string | null;
    latitude: number | null;
    longitude: number | null;
    /** IANA zone, for the visitor's local time. */
    timezone: string | null;
  } | null;
  /** Referrer of the first page view. */
  referrer: string | null;
  pages: { count: number; items: PageView[] };
  /**
   * Whether the visitor ever came through the widget. False for someone who
   * only wrote by email: location, pages, browser and IP are then unknowable.
   */
  web: boolean;
  /** The mail they sent, if they wrote by email. */
  mail: {
    /** The workspace address their latest mail was received at (as delivered, with any thread tag). */
    to: string;
    count: number;
    firstAt: number;
    lastAt: number;
  } | null;
}

/** `GET /api/conversations/:id/threads`: the other conversations with the same visitor email, newest first. */
export interface VisitorThreadsResponse {
  conversations: ConversationSummary[];
}

/** An API token as listed (the secret itself is shown once, at creation). */
export interface ApiTokenInfo {
  id: string;
  name: string;
  /** The operator the token acts as (its creator). */
  operatorId: string;
  createdAt: number;
  lastUsedAt: number | null;
}

export type WebhookEvent =
  | "conversation.created"
  | "message.created"
  | "conversation.joined"
  | "conversation.left"
  | "conversation.deleted"
  | "rating.submitted";

export interface WebhookInfo {
  id: string;
  url: string;
  events: WebhookEvent[];
  createdAt: number;
}

export interface WebhookDeliveryInfo {
  id: string;
  event: WebhookEvent;
  status: "pending" | "delivered" | "failed";
  attempts: number;
  lastError: string | null;
  responseStatus: number | null;
  createdAt: number;
  deliveredAt: number | null;
}

/** Every HTTP error body. */
export interface ApiError {
  error: { code: string; message: string };
}
