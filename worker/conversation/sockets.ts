/**
 * Socket bookkeeping: who a socket is (its attachment), sending to one
 * socket or to all that are ready, and which visitor sockets are open.
 *
 * Sockets are hibernatable (`ctx.acceptWebSocket`): they are always found
 * again through `ctx.getWebSockets(tag)` and identified by their attachment,
 * never through a map of our own, which an eviction would empty.
 */
import type { Grant } from "../lib/grants";
import { trySend } from "../lib/sockets";
import type { RefusalCode } from "../errors";
import type { ErrorCode, Role, ServerFrame } from "../protocol";
import type { ConversationContext } from "./context";

/** What each socket carries across hibernation (its attachment). */
export interface SocketIdentity {
  role: Role;
  id: string;
  name: string;
  /**
   * Set when this socket's welcome went out. Live frames go only to ready
   * sockets: anything stored before is in the welcome, so a client never
   * gets the same message twice, live and again in its welcome.
   */
  ready?: boolean;
  /**
   * What the socket was opened with (an operator session or a visitor
   * token family), and when that runs out: checked on every frame, and
   * ended early by the tag (see access.ts). Absent on identities that are
   * not sockets (an operator's HTTP message, an inbound mail).
   */
  grant?: Grant;
}

/**
 * The identity a socket was accepted with, or null if its attachment is gone.
 * Read from this instance's copy (`Memory.identities`), so a frame does not
 * deserialise its sender's attachment; frozen, since the copy is shared.
 */
export function identityOf(c: ConversationContext, ws: WebSocket): Readonly<SocketIdentity> | null {
  const identities = c.memory.identities;
  let who = identities.get(ws);
  if (who === undefined) {
    who = frozen(ws.deserializeAttachment() as SocketIdentity | null);
    identities.set(ws, who);
  }
  return who;
}

/** Writes a socket's attachment and this instance's copy of it (throws, keeping both, if the socket closed). */
export function setIdentity<T extends SocketIdentity>(c: ConversationContext, ws: WebSocket, who: T): void {
  ws.serializeAttachment(who);
  c.memory.identities.set(ws, frozen(who));
}

function frozen<T extends SocketIdentity | null>(who: T): T {
  if (who?.grant) Object.freeze(who.grant);
  return Object.freeze(who);
}

/** Sends one frame; a socket that closed under us is left to its close handler. */
export function send(ws: WebSocket, frame: ServerFrame): void {
  trySend(ws, JSON.stringify(frame));
}

/** The codes an error frame can carry (a `Record`, so a new protocol code must be listed here). */
const FRAME_CODES: Record<ErrorCode, true> = {
  bad_json: true,
  bad_frame: true,
  too_large: true,
  unknown_type: true,
  forbidden: true,
  not_found: true,
  deleted: true,
  rate_limited: true,
  internal: true,
};

function isFrameCode(code: RefusalCode): code is ErrorCode {
  return Object.hasOwn(FRAME_CODES, code);
}

/**
 * Answers a frame with an error frame. A refusal whose code the socket
 * protocol does not have (say `no_email`, which HTTP answers as such) is a
 * refused frame: `bad_frame`, with the refusal's own words.
 */
export function sendError(ws: WebSocket, code: RefusalCode, message: string, clientId?: string): void {
  const frameCode = isFrameCode(code) ? code : "bad_frame";
  send(
    ws,
    clientId ? { type: "error", code: frameCode, message, clientId } : { type: "error", code: frameCode, message },
  );
}

/** Whether this socket's welcome went out (its attachment says, as this instance's copy of it has it). */
function isReady(c: ConversationContext, ws: WebSocket): boolean {
  return identityOf(c, ws)?.ready === true;
}

/** Records in the attachment (which survives hibernation) whether live frames may go to this socket. */
export function markReady(c: ConversationContext, ws: WebSocket, who: SocketIdentity, ready: boolean): void {
  // Read again, not `who`: the grant may have ended since the frame began (see access.ts).
  setIdentity(c, ws, { ...(identityOf(c, ws) ?? who), ready });
}

/** Sends a frame to every ready socket (visitor and operators), except `except`. */
export function broadcast(c: ConversationContext, frame: ServerFrame, except?: WebSocket): void {
  const text = JSON.stringify(frame);
  for (const ws of c.ctx.getWebSockets()) {
    if (ws !== except && isReady(c, ws)) trySend(ws, text);
  }
}

/** The visitor's open sockets (the widget, maybe in several tabs). */
export function visitorSockets(c: ConversationContext, except?: WebSocket): WebSocket[] {
  return c.ctx.getWebSockets("visitor").filter((ws) => ws !== except && ws.readyState === WebSocket.OPEN);
}
