/**
 * Socket frames: the conversation socket (the visitor's widget and an
 * operator's panel both speak it) and the panel socket (the live conversation
 * index, operator ↔ workspace).
 */
import type { Channel, ConversationState, ConversationSummary, Delivery, Message, Role } from "./core";

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
  /** For visitors: whether anyone can answer now changed since the welcome (an operator came online, or went). */
  | { type: "availability"; available: boolean }
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
