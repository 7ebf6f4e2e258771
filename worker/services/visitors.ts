/**
 * Visitors, as the widget meets them: a new identity, page views, the host
 * site's user (`Microchat.setUser`), logout, socket tickets and their own
 * history. A visitor is named by a signed token (`lib/visitor.ts`) that also
 * names their conversation, so none of these can reach anyone else's.
 *
 * A token is good while it is signed by us, not expired (30 days from
 * issue), and its conversation admits it: not deleted, and the token's
 * family not revoked. Every visitor call checks all three
 * (`authorizeVisitor`). A token older than a day is replaced on use by a
 * fresh one of the same family, so an active visitor never meets the expiry.
 */
import type { Env } from "../env";
import { refuse, unwrap } from "../errors";
import type { ClientInfo } from "../lib/client";
import { sha256 } from "../lib/crypto";
import {
  issueTicket,
  issueVisitorToken,
  newVisitor,
  readVisitorToken,
  VISITOR_TOKEN_ROTATE_MS,
  type VisitorClaims,
  type VisitorPass,
} from "../lib/visitor";
import type { PageView, SocketTicket, VisitorSession } from "../protocol";
import { conversationStub, workspaceStub } from "../stubs";

/** A token and what it says. */
type Held = { token: string; pass: VisitorPass };

/** Checks `hash` = hex HMAC-SHA256(IDENTITY_SECRET, userId), in constant time (WebCrypto's verify). */
async function identityHashValid(env: Env, userId: string, hash: string): Promise<boolean> {
  if (!env.IDENTITY_SECRET || !/^[0-9a-f]{64}$/i.test(hash)) return false;
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(env.IDENTITY_SECRET),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["verify"],
  );
  const bytes = new Uint8Array(hash.match(/../g)!.map((h) => parseInt(h, 16)));
  return crypto.subtle.verify("HMAC", key, bytes, new TextEncoder().encode(userId));
}

function sessionOf(env: Env, held: Held): VisitorSession {
  return {
    visitorId: held.pass.visitorId,
    conversationId: held.pass.conversationId,
    token: held.token,
    workspaceName: env.WORKSPACE_NAME,
  };
}

const claimsOf = (p: VisitorPass): VisitorClaims => ({
  workspace: p.workspace,
  visitorId: p.visitorId,
  conversationId: p.conversationId,
});

/** A new visitor with a conversation of their own (stored only once they write). */
export async function startSession(env: Env): Promise<VisitorSession> {
  return sessionOf(env, await issueVisitorToken(env, newVisitor(env)));
}

/**
 * The visitor a token names, checked all the way (see the top of this
 * file), and a fresh token of the same family when this one is due for
 * rotation (hand it back to the widget, which keeps it from then on).
 */
export async function authorizeVisitor(
  env: Env,
  token: string,
): Promise<{ pass: VisitorPass; renewed: VisitorSession | null }> {
  const pass = await readVisitorToken(env, token);
  if (pass === "expired") refuse("token_expired", "Your chat session has expired; start a new one");
  if (!pass) refuse("unauthorized", "Visitor token is not valid");
  unwrap(
    await conversationStub(env, pass.conversationId).admitVisitor(
      pass.conversationId,
      pass.workspace,
      pass.visitorId,
      pass.family,
    ),
  );
  const due = Date.now() - pass.issuedAt >= VISITOR_TOKEN_ROTATE_MS;
  const renewed = due
    ? sessionOf(env, await issueVisitorToken(env, claimsOf(pass), { family: pass.family, user: pass.user }))
    : null;
  return { pass, renewed };
}

/** The token if it is still good, else null (expired, revoked, its conversation deleted: as good as none). */
async function stillGood(env: Env, token: string): Promise<Held | null> {
  try {
    return { token, pass: (await authorizeVisitor(env, token)).pass };
  } catch {
    return null;
  }
}

/** Revokes a token's family in its conversation: its tokens are refused from now on, its sockets close. */
async function revoke(env: Env, pass: VisitorPass): Promise<void> {
  unwrap(
    await conversationStub(env, pass.conversationId).revokeVisitor(pass.conversationId, pass.workspace, pass.family),
  );
}

/** Records page views in the visitor's own conversation; returns how many were new. */
export async function recordPageViews(
  env: Env,
  claims: VisitorClaims,
  views: (PageView & { id: string })[],
  referrer: string | null,
  client: ClientInfo,
): Promise<number> {
  const stub = conversationStub(env, claims.conversationId);
  return unwrap(
    await stub.recordPageViews(claims.conversationId, claims.workspace, claims.visitorId, views, referrer, client),
  );
}

/** Tells a conversation the name and email the site gave; false when the conversation was deleted. */
async function setSiteIdentity(
  env: Env,
  claims: VisitorClaims,
  user: { name: string | null; email: string | null },
  verified: boolean,
): Promise<boolean> {
  const result = await conversationStub(env, claims.conversationId).setSiteIdentity(
    claims.conversationId,
    claims.workspace,
    claims.visitorId,
    { name: user.name, email: user.email, verified },
  );
  if (!result.ok && result.code === "deleted") return false;
  unwrap(result);
  return true;
}

/**
 * The session of a verified site user: their own conversation on any
 * device, under a token issued to them. The token the browser held before
 * (an anonymous visitor's, or another user's) is revoked: whoever else holds
 * a copy of it reads nothing of this user's from now on. A token already
 * issued to this user for this conversation is kept, so a site that calls
 * `setUser` on every page signs no other tab out.
 */
async function verifiedSession(
  env: Env,
  user: { id: string; name: string | null; email: string | null },
  current: Held | null,
): Promise<Held> {
  const userKey = await sha256(`user:${user.id}`);
  const mine = current?.pass.user === userKey ? current : null;
  // The first time, an anonymous visitor's conversation becomes the user's (if it is not someone else's).
  const offered = current && (mine || current.pass.user === null) ? claimsOf(current.pass) : null;
  const workspace = workspaceStub(env);
  let bound: VisitorClaims = { workspace: env.WORKSPACE_ID, ...(await workspace.bindVerifiedUser(user.id, offered)) };
  if (!(await setSiteIdentity(env, bound, user, true))) {
    // Their conversation was deleted and the unbinding did not happen: a new one, never a 410 for good.
    bound = {
      workspace: env.WORKSPACE_ID,
      ...(await workspace.rebindVerifiedUser(user.id, bound.conversationId)),
    };
    if (!(await setSiteIdentity(env, bound, user, true))) refuse("deleted", "This conversation was deleted");
  }
  if (mine && mine.pass.conversationId === bound.conversationId && mine.pass.visitorId === bound.visitorId) {
    return mine;
  }
  const fresh = await issueVisitorToken(env, bound, { user: userKey });
  if (current) await revoke(env, current.pass);
  return fresh;
}

/**
 * The session for the host site's user. With a valid hash the site vouches
 * for them: their own conversation, on any device, under a fresh token (see
 * `verifiedSession`). Without one they stay in the visitor's own
 * conversation, under the same token, the name and email shown as unverified.
 */
export async function identify(
  env: Env,
  token: string | undefined,
  user: { id: string; name: string | null; email: string | null; hash?: string },
): Promise<VisitorSession & { verified: boolean }> {
  const current = token === undefined ? null : await stillGood(env, token);
  const verified = user.hash !== undefined && (await identityHashValid(env, user.id, user.hash));
  if (verified) return { ...sessionOf(env, await verifiedSession(env, user, current)), verified };
  const held = current ?? (await issueVisitorToken(env, newVisitor(env)));
  if (!(await setSiteIdentity(env, claimsOf(held.pass), user, false)))
    refuse("deleted", "This conversation was deleted");
  return { ...sessionOf(env, held), verified };
}

/** Logs a visitor out (`Microchat.logout()`): their token's family is revoked and its sockets close. */
export async function logout(env: Env, token: string): Promise<void> {
  const held = await stillGood(env, token);
  if (held) await revoke(env, held.pass);
}

/** A single-use socket ticket, with a fresh token when this one was due for rotation. */
export async function socketTicket(env: Env, token: string): Promise<SocketTicket> {
  const { pass, renewed } = await authorizeVisitor(env, token);
  return { ...(await issueTicket(env, pass)), ...(renewed ? { session: renewed } : {}) };
}

/** A page of the visitor's own history (empty before their first message). */
export async function visitorMessages(env: Env, claims: VisitorClaims, before: number | null, limit: number) {
  const stub = conversationStub(env, claims.conversationId);
  return unwrap(
    await stub.getVisitorMessages(claims.conversationId, claims.workspace, claims.visitorId, before, limit),
  );
}
