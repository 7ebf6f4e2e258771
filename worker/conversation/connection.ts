/**
 * A socket's life as the conversation sees it: admission of the upgrade the
 * Worker forwarded (a visitor holds at most MAX_VISITOR_SOCKETS), each frame
 * it sends (checked for size and shape first, then a visitor's against their
 * allowance, limits.ts), the welcome (or resume) it gets on hello, and
 * presence when it closes.
 *
 * The Worker is the only caller (Durable Objects are not reachable from the
 * internet), so the identity headers it sets on an upgrade are trusted.
 */
import { Refused, refuse, refusalResponse } from "../errors";
import type { ClientInfo } from "../lib/client";
import { familyTag } from "../lib/grants";
import { echoClose } from "../lib/sockets";
import { grantFrom, IDENTITY_HEADERS, isWebSocketUpgrade } from "../lib/upgrade";
import { validateClientFrame } from "../validate/frames";
import { LIMITS, type ClientFrame, type Message, type ServerFrame } from "../protocol";
import { familyRevoked, stillAuthorised } from "./access";
import { markRead } from "./assignment";
import type { ConversationContext } from "./context";
import { post, prepareEmail, publish } from "./email-channel";
import { exists, init, requireConversation, requireVisitor } from "./lifecycle";
import { admit, MAX_VISITOR_SOCKETS, SOCKET_RETRY_MS } from "./limits";
import { after, page } from "./log";
import {
  broadcast,
  identityOf,
  markReady,
  send,
  sendError,
  setIdentity,
  visitorSockets,
  type SocketIdentity,
} from "./sockets";
import { dismissSurvey, rate } from "./survey";
import { broadcastState, conversationState } from "./state";
import { noteClient, setProfile } from "./visitor";
import { logError } from "../lib/log";

/** Admits (101) or refuses a WebSocket upgrade forwarded by the Worker. */
export function connect(c: ConversationContext, request: Request): Response {
  try {
    if (!isWebSocketUpgrade(request)) {
      refuse("upgrade_required", "Expected a WebSocket upgrade");
    }
    const h = request.headers;
    const conversationId = h.get(IDENTITY_HEADERS.conversation) ?? "";
    const workspace = h.get(IDENTITY_HEADERS.workspace) ?? "";
    const role = h.get(IDENTITY_HEADERS.role);
    const actorId = h.get(IDENTITY_HEADERS.actorId) ?? "";
    const actorName = h.get(IDENTITY_HEADERS.actorName) ?? "";
    // What the socket is opened with (a session, a visitor token): it ends the socket when it ends (access.ts).
    const grant = grantFrom(request);
    if ((role !== "visitor" && role !== "operator") || !conversationId || !workspace || !actorId || !grant) {
      refuse("bad_request", "Missing identity");
    }
    if (role === "visitor") {
      init(c, conversationId, workspace, actorId);
      requireVisitor(c, actorId);
      if (familyRevoked(c, grant.tag.slice(familyTag("").length))) {
        refuse("unauthorized", "This chat session was signed out; start a new one");
      }
      // Sockets are counted per visitor: more of them buys no more messages
      // (limits.ts), and this keeps what one visitor can hold open bounded.
      if (visitorSockets(c).length >= MAX_VISITOR_SOCKETS) {
        refuse(
          "rate_limited",
          `This chat is open in too many windows (at most ${MAX_VISITOR_SOCKETS}); close one and try again`,
          { retryAfterMs: SOCKET_RETRY_MS },
        );
      }
      // Socket tickets are single-use: a ticket seen in a log cannot be replayed.
      const nonce = h.get(IDENTITY_HEADERS.ticketNonce) ?? "";
      const expires = Number(h.get(IDENTITY_HEADERS.ticketExpires) ?? 0);
      // A ticket is kept until it could no longer be used anyway, and cleared by the next connection after
      // that: an alarm for it would wake the conversation a minute after every visit, for nothing.
      c.sql.exec("DELETE FROM used_tickets WHERE expires_at < ?", Date.now());
      const used = c.sql.exec("SELECT 1 FROM used_tickets WHERE nonce = ?", nonce).toArray().length > 0;
      if (!nonce || used) refuse("forbidden", "Ticket already used");
      c.sql.exec("INSERT INTO used_tickets (nonce, expires_at) VALUES (?, ?)", nonce, expires);
      const client = h.get(IDENTITY_HEADERS.client);
      if (client) noteClient(c, JSON.parse(client) as ClientInfo);
    } else {
      requireConversation(c, conversationId, workspace);
    }

    const pair = new WebSocketPair();
    const server = pair[1];
    const identity: SocketIdentity = {
      role,
      id: actorId,
      name: actorName || (role === "visitor" ? "Visitor" : "Operator"),
      grant,
    };
    // Accepted for hibernation: tags find the socket again (also by what it was opened with), the attachment says who it is.
    c.ctx.acceptWebSocket(server, [role, `${role}:${actorId}`, grant.tag]);
    // A new operator socket's confirmation is not among those the next message's look skips to (access.ts).
    if (role === "operator") c.memory.listenersDueAt = null;
    setIdentity(c, server, identity);
    // The visitor just came online: operators' channel hint changes.
    if (role === "visitor" && visitorSockets(c, server).length === 0) broadcastState(c, server);
    return new Response(null, { status: 101, webSocket: pair[0] });
  } catch (err) {
    if (err instanceof Refused) return refusalResponse(err);
    throw err;
  }
}

/** One frame from a socket: size and shape checked before anything else, then handled. */
export async function receive(c: ConversationContext, ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
  const who = identityOf(c, ws);
  if (!who) {
    ws.close(1011, "Lost identity");
    return;
  }
  const size = typeof data === "string" ? data.length : data.byteLength;
  if (size > LIMITS.frameBytes) return sendError(ws, "too_large", `Frame is larger than ${LIMITS.frameBytes} bytes`);
  if (typeof data !== "string") return sendError(ws, "bad_frame", "Binary frames are not supported");
  let raw: unknown;
  try {
    raw = JSON.parse(data);
  } catch {
    return sendError(ws, "bad_json", "Frame is not valid JSON");
  }
  const parsed = validateClientFrame(raw);
  if (!parsed.ok) return sendError(ws, parsed.code, parsed.message, parsed.clientId);
  const frame = parsed.frame;
  try {
    // What the socket was opened with must still hold (a closed socket's frames are dropped: it was told why).
    const allowed = stillAuthorised(c, ws, who);
    if (allowed !== true && !(await allowed)) return;
    if (who.role !== "visitor") return await handle(c, ws, who, frame);
    const tooFast = await admit(c, who.id, frame, async () => {
      // A message may have waited on the network's limiter: a right that ended meanwhile (the visitor signed
      // out, the family was revoked) ends this frame too, unstored. Their socket was closed and told why.
      const now = identityOf(c, ws);
      if (now && stillAuthorised(c, ws, now) === true) await handle(c, ws, now, frame);
    });
    if (tooFast) refuseTooFast(ws, frame, tooFast.message, tooFast.retryAfterMs);
  } catch (err) {
    if (err instanceof Refused) {
      return sendError(ws, err.code, err.message, frame.type === "send" ? frame.clientId : undefined);
    }
    logError(
      "socket_frame.failed",
      { conversationId: c.meta.id, operatorId: who.role === "operator" ? who.id : null, frame: frame.type },
      err,
    );
    return sendError(ws, "internal", "Something went wrong; please retry");
  }
}

/**
 * A visitor's frame over their allowance: nothing is done or stored. The
 * error names the message (clientId), so the widget keeps it and sends it
 * again after the wait: nothing is lost. A hello over the limit also closes
 * the socket (1013, try again later), since a socket without its welcome is
 * of no use; the widget reconnects after its backoff.
 */
function refuseTooFast(ws: WebSocket, frame: ClientFrame, message: string, retryAfterMs: number): void {
  const clientId = frame.type === "send" ? { clientId: frame.clientId } : {};
  send(ws, { type: "error", code: "rate_limited", message, retryAfterMs, ...clientId });
  if (frame.type === "hello") ws.close(1013, "Reconnecting too fast; try again later");
}

async function handle(c: ConversationContext, ws: WebSocket, who: SocketIdentity, frame: ClientFrame): Promise<void> {
  switch (frame.type) {
    case "hello":
      return hello(c, ws, who, frame.lastSeq);
    case "send": {
      const channel = frame.channel ?? "chat";
      if (channel === "email") {
        if (who.role !== "operator") refuse("forbidden", "Only operators reply by email");
        await prepareEmail(c);
      }
      const result = post(c, who, frame.clientId, "text", frame.text, channel);
      // The write above is committed before these frames leave: the output
      // gate holds outgoing messages until storage confirms, so an ack
      // always means "stored". The others hear of it first: their frames
      // are queued first, so the ack does not delay the delivery.
      publish(c, result, ws);
      return send(ws, { type: "ack", clientId: frame.clientId, seq: result.message.seq, at: result.message.at });
    }
    case "history": {
      const limit = Math.min(frame.limit ?? LIMITS.historyPage, LIMITS.historyPageMax);
      const { messages, hasMore } = page(c, frame.beforeSeq, limit);
      return send(ws, { type: "history", messages, hasMore });
    }
    case "read":
      if (who.role !== "operator") refuse("forbidden", "Only operators mark messages read");
      return markRead(c, frame.seq);
    case "profile":
      if (who.role !== "visitor") refuse("forbidden", "Only the visitor sets their profile");
      return setProfile(c, frame.name, frame.email);
    case "rate":
      if (who.role !== "visitor") refuse("forbidden", "Only the visitor rates the conversation");
      return rate(c, frame.surveyId, frame.rating, frame.comment);
    case "dismissSurvey":
      if (who.role !== "visitor") refuse("forbidden", "Only the visitor answers the survey");
      return dismissSurvey(c, frame.surveyId);
  }
}

/**
 * A hello: the welcome with the newest page, or, when the client names the
 * last seq it has, exactly what it missed, in order, in bounded chunks.
 */
async function hello(c: ConversationContext, ws: WebSocket, who: SocketIdentity, lastSeq: number): Promise<void> {
  // A second hello starts over: nothing live until this welcome is out.
  if (who.ready) markReady(c, ws, who, false);
  // Visitors learn whether anyone can answer now (else the widget offers email), and of every change after.
  let available: boolean | undefined;
  if (who.role === "visitor") {
    const told = c.memory.availability.told;
    try {
      available = await c.callWorkspace((workspace) => workspace.watchAvailability(c.meta.id!));
    } catch {
      available = true;
    }
    // A change told while this asked is newer than the answer.
    if (c.memory.availability.told !== told) available = c.memory.availability.available;
  }
  const state = conversationState(c);
  // From here to the last chunk nothing awaits, so no message can slip between the welcome and live frames.
  markReady(c, ws, who, true);
  const welcome = (messages: Message[], hasMore: boolean, partial: boolean): ServerFrame => ({
    type: "welcome",
    role: who.role,
    you: who.id,
    state,
    messages,
    hasMore,
    partial,
    ...(available === undefined ? {} : { available }),
  });
  if (lastSeq <= 0 || lastSeq > state.lastSeq) {
    // Fresh open (or a client that knows a future we don't): newest page.
    const { messages, hasMore } = page(c, state.lastSeq + 1, LIMITS.historyPage);
    return send(ws, welcome(messages, hasMore, false));
  }
  // Resume: exactly what the client missed, in order, in bounded chunks.
  let from = lastSeq;
  let first = true;
  for (;;) {
    const chunk = after(c, from, LIMITS.resumeChunk);
    const done = chunk.length < LIMITS.resumeChunk || chunk[chunk.length - 1]!.seq >= state.lastSeq;
    if (first) send(ws, welcome(chunk, lastSeq > 0, !done));
    else send(ws, { type: "messages", messages: chunk, done });
    first = false;
    if (done) return;
    from = chunk[chunk.length - 1]!.seq;
  }
}

/** A socket closed: echo the close, and if the visitor's last socket went, they are offline. */
export function disconnect(c: ConversationContext, ws: WebSocket, code: number): void {
  const who = identityOf(c, ws);
  echoClose(ws, code); // so the client sees a clean shutdown
  if (who?.role === "visitor" && visitorSockets(c, ws).length === 0) {
    if (exists(c)) {
      c.meta.lastSeen = Date.now();
      // No widget left to tell whether anyone can answer.
      const id = c.meta.id!;
      c.ctx.waitUntil(c.callWorkspace((workspace) => workspace.unwatchAvailability(id)).catch(() => undefined));
    }
    broadcast(c, { type: "state", state: conversationState(c, ws) }, ws);
  }
}

/**
 * The workspace tells whether anyone can answer now: the visitor's sockets
 * that had their welcome hear it. Returns whether the visitor has a socket
 * open (else the workspace stops telling this conversation).
 */
export function tellAvailability(c: ConversationContext, available: boolean): boolean {
  c.memory.availability = { told: c.memory.availability.told + 1, available };
  const sockets = visitorSockets(c);
  for (const ws of sockets) if (identityOf(c, ws)?.ready) send(ws, { type: "availability", available });
  return sockets.length > 0;
}
