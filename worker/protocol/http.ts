/** Bodies of the HTTP API: the panel's routes and `/api/v1` answer with these. */
import type { ConversationSummary } from "./core";

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
