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
 * Should the workspace's word be lost, an operator socket still asks the
 * workspace whether its session holds before acting, at most once every
 * `SESSION_RECHECK_MS`; a socket that was closed for its grant refuses any
 * frame already on its way.
 */
import { refuse } from "../errors";
import { familyTag, GRANT_ENDED, sessionTag, type GrantEnd } from "../lib/grants";
import { VISITOR_TOKEN_TTL_MS } from "../lib/visitor";
import { workspaceStub } from "../stubs";
import type { ConversationContext } from "./context";
import { requireVisitor } from "./lifecycle";
import { identityOf, type SocketIdentity } from "./sockets";
import { logWarn } from "../lib/log";

/** How long an operator socket acts on the workspace's last word that its session holds, before asking again. */
const SESSION_RECHECK_MS = 10_000;

/** Closes a socket whose grant ended. Its attachment says so first, so a frame already on its way is refused. */
function endSocket(ws: WebSocket, why: GrantEnd): void {
  const who = identityOf(ws);
  try {
    if (who?.grant) ws.serializeAttachment({ ...who, grant: { ...who.grant, until: 0 } });
    ws.close(GRANT_ENDED[why].code, GRANT_ENDED[why].reason);
  } catch {
    // Already closed.
  }
}

/** Closes every socket opened with the grant `tag`. */
function endSockets(c: ConversationContext, tag: string, why: GrantEnd): void {
  for (const ws of c.ctx.getWebSockets(tag)) endSocket(ws, why);
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
 * out; an operator's session must still hold, asked of the workspace at most
 * once every `SESSION_RECHECK_MS` per socket (frames arriving meanwhile wait
 * for the same answer, so their order is kept). A socket that may not is
 * closed. Answers `true` synchronously when nothing needs asking, so a
 * visitor's message never waits on this; rejects with a refusal when the
 * workspace cannot be asked.
 */
export function stillAuthorised(
  c: ConversationContext,
  ws: WebSocket,
  who: SocketIdentity,
): boolean | Promise<boolean> {
  const grant = who.grant;
  if (!grant || grant.until <= Date.now()) {
    endSocket(ws, grant && grant.until > 0 ? "expired" : "signedOut");
    return false;
  }
  if (who.role !== "operator") return true;
  const checks = c.memory.sessionChecks;
  const last = checks.get(ws);
  if (last?.pending) return last.pending;
  if (last && Date.now() - last.at < SESSION_RECHECK_MS) return true;
  const sessionId = grant.tag.slice(sessionTag("").length);
  const pending = workspaceStub(c.env, c.meta.workspace!)
    .sessionActive(sessionId, who.id)
    .then(
      (active) => {
        checks.set(ws, { at: Date.now(), pending: null });
        if (!active) endSocket(ws, "signedOut");
        return active;
      },
      (err: unknown): never => {
        // The workspace could not be asked: this frame is refused (the operator can retry), the next one asks again.
        logWarn("session_check.failed", { conversationId: c.meta.id, operatorId: who.id }, err);
        checks.set(ws, { at: last?.at ?? 0, pending: null });
        refuse("internal", "Could not confirm your sign-in; please try again");
      },
    );
  checks.set(ws, { at: last?.at ?? 0, pending });
  return pending;
}

/**
 * Asks again, without holding anything up, about every operator socket
 * whose session was not confirmed for `SESSION_RECHECK_MS`; run as each
 * message goes out, so a socket that only listens (its pings never wake the
 * object) cannot go on reading after its session ended with the word of it
 * lost, beyond that message.
 */
export function recheckListeners(c: ConversationContext): void {
  const now = Date.now();
  for (const ws of c.ctx.getWebSockets("operator")) {
    const last = c.memory.sessionChecks.get(ws);
    if (last?.pending || (last && now - last.at < SESSION_RECHECK_MS)) continue;
    const who = identityOf(ws);
    if (!who) continue;
    const asked = stillAuthorised(c, ws, who);
    // A workspace that cannot be asked now is asked again with the next message.
    if (asked instanceof Promise) c.ctx.waitUntil(asked.catch(() => undefined));
  }
}
