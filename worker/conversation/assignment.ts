/**
 * Assignment: which operators have joined, and how writing moves the
 * conversation between Unassigned, Assigned and Idle.
 *
 *   - a visitor's first message, or first after every operator left,
 *     puts the conversation in Unassigned for every operator, at once;
 *   - an operator must join before replying; several may join;
 *   - when the last operator leaves, the conversation goes Idle and the
 *     visitor is offered the survey.
 */
import { refuse } from "../errors";
import type { ConversationState, Message, OperatorRef } from "../protocol";
import type { ConversationContext } from "./context";
import { queueStat, statQueued, touchIndex } from "./index-report";
import { append, appendEvent, byClientId, lastSeq, toMessage, type MessageExtra } from "./log";
import { broadcast, type SocketIdentity } from "./sockets";
import { broadcastState, conversationState } from "./state";
import { creditOperator, offerSurvey } from "./survey";

/** A stored message, and whether this call stored it (false: a resend of `clientId`). */
export interface Stored {
  message: Message;
  fresh: boolean;
}

function isJoined(c: ConversationContext, operatorId: string): boolean {
  return c.hot.operators.some((o) => o.id === operatorId);
}

/**
 * Stores a message once per clientId; a resend returns the stored one
 * (`fresh: false`). Applies the assignment rules (see the header).
 */
export function store(
  c: ConversationContext,
  who: SocketIdentity,
  clientId: string,
  kind: "text" | "file",
  text: string,
  extra: MessageExtra = {},
): Stored {
  // A resend of a stored message is answered with it, even once its author may no longer write.
  if (who.role === "operator" && !isJoined(c, who.id)) {
    if (byClientId(c, clientId)) return resent(c, who, clientId);
    refuse("forbidden", "Join the conversation to reply");
  }
  const message = append(c, clientId, kind, { role: who.role, id: who.id, name: who.name }, text, extra);
  if (message === null) return resent(c, who, clientId);
  const meta = c.meta;

  if (who.role === "visitor" && extra.email?.auto) {
    // An auto-reply or bounce is kept for the record but never requeues.
    touchIndex(c, false);
  } else if (who.role === "visitor") {
    if (!meta.started || meta.status === "idle") {
      // First message, or the first after every operator left: the
      // conversation (re)enters Unassigned for every operator, right now.
      meta.started = true;
      meta.status = "unassigned";
      meta.waitingSince = message.at;
      broadcastState(c);
      touchIndex(c, true);
    } else {
      touchIndex(c, false);
    }
  } else {
    // A reply answers everything before it (append moved the read mark), and counts for Report > Operator: its
    // insert wrote the figure too (schema.ts).
    statQueued(c);
    const waiting = meta.waitingSince;
    if (waiting !== null) {
      // First response time: visitor message in Unassigned → first operator reply.
      queueStat(c, "first_response", who.id, Math.max(0, message.at - waiting));
      meta.waitingSince = null;
    }
    touchIndex(c, false);
  }
  return { message, fresh: true };
}

/** The answer to a resend of `clientId`: the stored message, unless someone else used that id. */
function resent(c: ConversationContext, who: SocketIdentity, clientId: string): Stored {
  const existing = byClientId(c, clientId)!;
  if (existing.author_id !== who.id) refuse("bad_frame", "clientId already used");
  return { message: toMessage(existing), fresh: false };
}

/** An operator has read up to `seq` (the unread count in the index). */
export function markRead(c: ConversationContext, seq: number): void {
  const target = Math.min(seq, lastSeq(c));
  if (target > c.meta.lastReadSeq) {
    c.meta.lastReadSeq = target;
    touchIndex(c, false);
  }
}

/** JOIN: assigns the operator. Several operators may join the same conversation. */
export function join(c: ConversationContext, operator: OperatorRef): ConversationState {
  if (!isJoined(c, operator.id)) {
    const event = c.transaction(() => {
      c.sql.exec(
        "INSERT INTO operators (operator_id, name, joined_at) VALUES (?, ?, ?)",
        operator.id,
        operator.name,
        Date.now(),
      );
      c.hot.operators.push({ id: operator.id, name: operator.name });
      c.meta.status = "assigned";
      creditOperator(c, operator);
      queueStat(c, "joined", operator.id, 1);
      return appendEvent(c, operator, `${operator.name} joined`, { event: "joined" });
    });
    broadcast(c, { type: "message", message: event });
    broadcastState(c);
    touchIndex(c, true);
  }
  return conversationState(c);
}

/**
 * Leave Conversation: unassigns the operator; when the last one leaves the
 * conversation goes idle and the survey is offered (`publicUrl` is where a
 * survey email's link points).
 */
export function leave(c: ConversationContext, operatorId: string, publicUrl: string): ConversationState {
  const hot = c.hot;
  const row = hot.operators.find((o) => o.id === operatorId);
  if (!row) refuse("forbidden", "You have not joined this conversation");
  const event = c.transaction(() => {
    c.sql.exec("DELETE FROM operators WHERE operator_id = ?", operatorId);
    hot.operators = hot.operators.filter((o) => o.id !== operatorId);
    if (hot.operators.length === 0) {
      c.meta.status = "idle";
      offerSurvey(c, publicUrl);
    }
    return appendEvent(c, { id: operatorId, name: row.name }, `${row.name} left`, { event: "left" });
  });
  broadcast(c, { type: "message", message: event });
  broadcastState(c);
  touchIndex(c, true);
  return conversationState(c);
}
