/**
 * Who may still use this conversation, and ending it when a right ends.
 *
 * Every socket carries its grant (lib/grants.ts) in its attachment and as a
 * tag: a visitor socket the family of the token it was opened with and that
 * token's expiry, an operator socket its session's id and expiry. A right
 * that ends, ends on every socket opened with it at once:
 *   - a visitor token family is revoked here (logout, or a login that gave
 *     the visitor a fresh token): its tokens are refused from then on and its
 *     sockets close;
 *   - an operator's session ends in the workspace (sign-out, removal), which
 *     tells each conversation the session opened a socket on;
 *   - a grant that runs out (expiry) is refused on the socket's next frame.
 * The workspace keeps telling until the conversation has heard (its
 * outbox, workspace/operator-sockets.ts). Should the word still be lost, an
 * operator socket acts on the workspace's last confirmation that its
 * session holds for at most `SESSION_TRUST_MS`: past that a frame waits for
 * a fresh one. A socket in use asks again ahead of that, once its last
 * confirmation is `SESSION_REFRESH_MS` old, without holding its frames, so
 * an operator's messages do not wait on the workspace. A new socket's
 * first frame waits for the workspace's word (the session may have ended,
 * and the word of it come and gone, between the Worker admitting the
 * upgrade and the socket being here); the confirmation's time travels in
 * the attachment, so a woken object does not ask again. A socket that was
 * closed for its grant refuses any frame already on its way.
 */
import { refuse } from "../errors";
import { familyTag, GRANT_ENDED, sessionTag, type GrantEnd } from "../lib/grants";
import { VISITOR_TOKEN_TTL_MS } from "../lib/visitor";
import type { ConversationContext } from "./context";
import { requireVisitor } from "./lifecycle";
import { identityOf, setIdentity, type SocketIdentity } from "./sockets";
import { logWarn } from "../lib/log";

/** An operator socket's last confirmation that its session holds, and the next one on its way. */
interface SessionCheck {
  at: number;
  pending: Promise<boolean> | null;
}

/** An operator socket's attachment, with when the workspace last confirmed its session (absent until it has). */
type Confirmed = SocketIdentity & { checkedAt?: number };

/** How long an operator socket acts on the workspace's last word that its session holds; past it, frames wait. */
const SESSION_TRUST_MS = 120_000;
/** From this age of that word on, the socket's next frame (or a message to it) asks again, without waiting. */
const SESSION_REFRESH_MS = 60_000;

/** Closes a socket whose grant ended. Its attachment says so first, so a frame already on its way is refused. */
function endSocket(c: ConversationContext, ws: WebSocket, why: GrantEnd): void {
  const who = identityOf(c, ws);
  try {
    if (who?.grant) setIdentity(c, ws, { ...who, grant: { ...who.grant, until: 0 } });
    ws.close(GRANT_ENDED[why].code, GRANT_ENDED[why].reason);
  } catch {
    // Already closed.
  }
}

/** Closes every socket opened with the grant `tag`. */
function endSockets(c: ConversationContext, tag: string, why: GrantEnd): void {
  for (const ws of c.ctx.getWebSockets(tag)) endSocket(c, ws, why);
}

/** The workspace says an operator's session ended (or the operator was removed): their sockets here close. */
export function endOperatorSockets(
  c: ConversationContext,
  operatorId: string,
  sessionId: string | null,
  why: GrantEnd,
): void {
  endSockets(c, sessionId ? sessionTag(sessionId) : `operator:${operatorId}`, why);
}

/**
 * Revokes a visitor token family: its tokens are refused from now on and its
 * sockets close. The row is kept until the last token it covers has expired
 * (none can be issued in the family after this), then the alarm clears it.
 */
export function revokeFamily(c: ConversationContext, family: string): void {
  const expiresAt = Date.now() + VISITOR_TOKEN_TTL_MS;
  c.sql.exec(
    "INSERT INTO revoked_tokens (family, expires_at) VALUES (?, ?) ON CONFLICT(family) DO UPDATE SET expires_at = excluded.expires_at",
    family,
    expiresAt,
  );
  endSockets(c, familyTag(family), "signedOut");
  c.ctx.waitUntil(c.armAlarm(expiresAt));
}

/** Whether tokens of this family were revoked here. */
export function familyRevoked(c: ConversationContext, family: string): boolean {
  return c.sql.exec("SELECT 1 FROM revoked_tokens WHERE family = ?", family).toArray().length > 0;
}

/** Whether a revocation is kept, which the alarm will clear. */
export function revocationsKept(c: ConversationContext): boolean {
  return c.sql.exec("SELECT 1 FROM revoked_tokens LIMIT 1").toArray().length > 0;
}

/** Forgets revocations whose tokens have all expired; the alarm is set again for the next one. */
export async function pruneRevoked(c: ConversationContext): Promise<void> {
  const now = Date.now();
  c.sql.exec("DELETE FROM revoked_tokens WHERE expires_at <= ?", now);
  const next = c.sql.exec<{ at: number | null }>("SELECT MIN(expires_at) AS at FROM revoked_tokens").one().at;
  if (next !== null) await c.armAlarm(next);
}

/**
 * Refuses a visitor token that may not use this conversation: the
 * conversation was deleted, is someone else's, or the token's family was
 * revoked. A conversation not stored yet (a visitor who has not written)
 * admits its own visitor's tokens.
 */
export function admitVisitor(
  c: ConversationContext,
  conversationId: string,
  workspace: string,
  visitorId: string,
  family: string,
): void {
  const meta = c.meta;
  if (meta.id !== null) {
    if (meta.id !== conversationId || meta.workspace !== workspace) refuse("not_found", "Unknown conversation");
    if (meta.deleted) refuse("deleted", "This conversation was deleted; start a new one");
    requireVisitor(c, visitorId);
  }
  if (familyRevoked(c, family)) refuse("unauthorized", "This chat session was signed out; start a new one");
}

/**
 * Whether a socket may still act on a frame. Its grant must not have run
 * out; an operator's session must have been confirmed by the workspace
 * within `SESSION_TRUST_MS`, or the frame waits for a fresh word (frames
 * arriving meanwhile wait for the same answer, so their order is kept). A
 * word older than `SESSION_REFRESH_MS` is renewed without waiting. A socket
 * that may not act is closed. Answers `true` synchronously when nothing
 * needs waiting for, so a visitor's message never waits on this; rejects
 * with a refusal when the workspace cannot be asked.
 */
export function stillAuthorised(
  c: ConversationContext,
  ws: WebSocket,
  who: SocketIdentity,
): boolean | Promise<boolean> {
  const grant = who.grant;
  if (!grant || grant.until <= Date.now()) {
    endSocket(c, ws, grant && grant.until > 0 ? "expired" : "signedOut");
    return false;
  }
  if (who.role !== "operator") return true;
  const last = lastCheck(c, ws, who);
  const age = Date.now() - last.at;
  if (age < SESSION_TRUST_MS) {
    if (age >= SESSION_REFRESH_MS) askAhead(c, ws, who);
    return true;
  }
  return last.pending ?? askWorkspace(c, ws, who);
}

/** The socket's last confirmation: in memory, or after a wake-up from its attachment. */
function lastCheck(c: ConversationContext, ws: WebSocket, who: SocketIdentity): SessionCheck {
  const checks = c.memory.sessionChecks;
  let last = checks.get(ws);
  if (!last) {
    last = { at: (who as Confirmed).checkedAt ?? 0, pending: null };
    checks.set(ws, last);
  }
  return last;
}

/** Renews the socket's confirmation without holding anything up (unless a renewal is on its way already). */
function askAhead(c: ConversationContext, ws: WebSocket, who: SocketIdentity): void {
  if (lastCheck(c, ws, who).pending) return;
  // A workspace that cannot be asked now is asked again by the next frame or message.
  c.ctx.waitUntil(askWorkspace(c, ws, who).catch(() => undefined));
}

/**
 * Asks the workspace whether the socket's session holds. Yes: the time of
 * asking is its new confirmation (in memory, and in the attachment for a
 * woken object). No: the socket closes. No answer: the confirmation stays
 * as it was, and the promise rejects with a refusal.
 */
function askWorkspace(c: ConversationContext, ws: WebSocket, who: SocketIdentity): Promise<boolean> {
  const checks = c.memory.sessionChecks;
  const before = lastCheck(c, ws, who).at;
  const askedAt = Date.now();
  const sessionId = who.grant!.tag.slice(sessionTag("").length);
  const pending = c
    .callWorkspace((workspace) => workspace.sessionActive(sessionId, who.id))
    .then(
      (active) => {
        checks.set(ws, { at: active ? askedAt : before, pending: null });
        if (!active) endSocket(c, ws, "signedOut");
        else noteConfirmed(c, ws, askedAt);
        return active;
      },
      (err: unknown): never => {
        // The workspace could not be asked: a frame waiting for it is refused (the operator can retry).
        logWarn("session_check.failed", { conversationId: c.meta.id, operatorId: who.id }, err);
        checks.set(ws, { at: before, pending: null });
        refuse("internal", "Could not confirm your sign-in; please try again");
      },
    );
  checks.set(ws, { at: before, pending });
  return pending;
}

/** Keeps the confirmation's time in the attachment (read again: the grant may have ended meanwhile). */
function noteConfirmed(c: ConversationContext, ws: WebSocket, at: number): void {
  const now = identityOf(c, ws);
  if (!now?.grant || now.grant.until <= 0) return;
  try {
    setIdentity(c, ws, { ...now, checkedAt: at } satisfies Confirmed);
  } catch {
    // Closed meanwhile.
  }
}

/**
 * Renews, without holding anything up, the word on every operator socket
 * whose session was not confirmed for `SESSION_REFRESH_MS`; run as each
 * message goes out, so a socket that only listens (its pings never wake the
 * object) cannot go on reading after its session ended with the word of it
 * lost, beyond that message.
 */
export function recheckListeners(c: ConversationContext): void {
  const now = Date.now();
  const memory = c.memory;
  // None comes due before this: a confirmation only ever moves later, and a socket opened since cleared it (connect).
  if (memory.listenersDueAt !== null && now < memory.listenersDueAt) return;
  let due = Infinity;
  for (const ws of c.ctx.getWebSockets("operator")) {
    const who = identityOf(c, ws);
    if (!who?.grant) continue;
    const last = lastCheck(c, ws, who);
    if (last.pending || now - last.at >= SESSION_REFRESH_MS) {
      askAhead(c, ws, who);
      // The renewal may fail and leave the confirmation as old as it was: the next message looks again.
      due = now;
    } else {
      due = Math.min(due, last.at + SESSION_REFRESH_MS);
    }
  }
  memory.listenersDueAt = due;
}
