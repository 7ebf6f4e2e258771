/**
 * The conversation's state as clients see it (`ConversationState`: status,
 * visitor, joined operators, last seq, presence, open survey), and telling
 * every ready socket when it changed.
 */
import type { ConversationState, SurveyOffer } from "../protocol";
import type { ConversationContext } from "./context";
import { lastSeq } from "./log";
import { broadcast, visitorSockets } from "./sockets";

/** The state as of now; `except` is a socket to count as gone (one that is closing). */
export function conversationState(c: ConversationContext, except?: WebSocket): ConversationState {
  const meta = c.meta;
  return {
    id: meta.id ?? "",
    status: meta.status,
    visitor: visitorRef(c),
    operators: [...c.hot.operators],
    lastSeq: lastSeq(c),
    visitorOnline: visitorSockets(c, except).length > 0,
    createdAt: meta.createdAt,
    survey: pendingSurvey(c),
  };
}

/** Sends the current state to every ready socket but `except`. */
export function broadcastState(c: ConversationContext, except?: WebSocket): void {
  broadcast(c, { type: "state", state: conversationState(c) }, except);
}

/** The survey waiting for the visitor, if any. */
function pendingSurvey(c: ConversationContext): SurveyOffer | null {
  const survey = c.meta.survey;
  return survey?.state === "pending" ? { id: survey.id, operators: survey.operators.map((o) => o.name) } : null;
}

function visitorRef(c: ConversationContext): ConversationState["visitor"] {
  const meta = c.meta;
  const ref: ConversationState["visitor"] = {
    id: meta.visitorId ?? "",
    name: meta.visitorName,
    email: meta.visitorEmail,
  };
  if (meta.identityVerified !== null) ref.verified = meta.identityVerified && showsVouched(c);
  return ref;
}

/**
 * Whether the name and email shown are what the site vouched for (each
 * either not given or the vouched value): a self-edited profile, or an
 * address the visitor typed that the site never gave, shows without the badge.
 */
function showsVouched(c: ConversationContext): boolean {
  const meta = c.meta;
  const vouched = (shown: string | null, verified: string | null) => shown === null || shown === verified;
  return vouched(meta.visitorName, meta.verifiedName) && vouched(meta.visitorEmail, meta.verifiedEmail);
}
