/** Bodies of the HTTP API: the panel's routes and `/api/v1` answer with these. */
import type { ConversationSummary } from "./core";

export interface Operator {
  id: string;
  name: string;
  email: string;
  admin: boolean;
  createdAt: number;
  /**
   * Only on the Worker's side of a request made with an API token: the token,
   * whose scope limits what this operator may do in that request.
   */
  token?: ApiTokenRef;
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
  /** A fresh token for the visitor when theirs was due for rotation: keep it instead of the old one. */
  session?: VisitorSession;
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
  /** Who may delete a conversation: admins only, or admins and the operators in it (the default). */
  deleteBy: DeletePolicy;
}

/** Who may delete a conversation (a workspace setting). */
export type DeletePolicy = "admins" | "admins_and_joined";

/** What the audit log records. */
export type AuditAction =
  | "conversation.deleted"
  | "person.erased"
  | "operator.added"
  | "operator.removed"
  | "sessions.ended"
  | "token.created"
  | "token.revoked"
  | "webhook.added"
  | "webhook.removed"
  | "settings.changed";

/** One entry of the audit log (`GET /api/audit`, admins): who did what to what, and when. */
export interface AuditEntry {
  /** Increasing; pages go back with `before=<id>`. */
  id: number;
  at: number;
  /** Who did it, as they were named then; null id: Microchat itself. */
  actor: { id: string | null; name: string; /** The API token it was done with, by name. */ token: string | null };
  action: AuditAction;
  /** What it was done to: a conversation id, an operator, a token's name, a webhook URL. */
  target: string;
  /** More, where there is more to say (how many, which scope, on what grounds). */
  detail: string | null;
}

/** `GET /api/audit`: newest first. */
export interface AuditPage {
  entries: AuditEntry[];
  hasMore: boolean;
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
/** Where a visitor is, from Cloudflare's geolocation of their request. */
export interface GeoLocation {
  country: string | null;
  region: string | null;
  city: string | null;
  latitude: number | null;
  longitude: number | null;
  /** IANA zone, for the visitor's local time. */
  timezone: string | null;
}

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
  location: GeoLocation | null;
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
    /** How many of their mails came from a sender that could not be verified (EmailMeta.unverified). */
    unverified: number;
  } | null;
}

/** `GET /api/conversations/:id/threads`: the other conversations with the same visitor email, newest first. */
export interface VisitorThreadsResponse {
  conversations: ConversationSummary[];
}

/**
 * What an API token may do. `read`: GET only. `write`: also join, leave,
 * send and delete, as its operator without admin rights. `admin`: everything
 * its (admin) creator can, tokens and webhooks included.
 */
export type TokenScope = "read" | "write" | "admin";

/** The token a request was made with, as the Worker knows it. */
export interface ApiTokenRef {
  id: string;
  name: string;
  scope: TokenScope;
}

/** An API token as listed (the secret itself is shown once, at creation). */
export interface ApiTokenInfo {
  id: string;
  name: string;
  /** The operator the token acts as (its creator). */
  operatorId: string;
  scope: TokenScope;
  createdAt: number;
  /** When it stops working; null: never. */
  expiresAt: number | null;
  /** The last request made with it, to the minute. */
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
