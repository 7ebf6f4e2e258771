/**
 * Visitors, as the widget meets them: a new identity, page views, the host
 * site's user (`Microchat.setUser`), socket tickets and their own history.
 * A visitor is named by a signed token (`lib/visitor.ts`) that also names
 * their conversation, so none of these can reach anyone else's.
 */
import type { Env } from "../env";
import { refuse, unwrap } from "../errors";
import type { ClientInfo } from "../lib/client";
import { issueTicket, issueVisitorToken, newVisitor, type VisitorClaims } from "../lib/visitor";
import type { PageView, SocketTicket, VisitorSession } from "../protocol";
import { conversationStub, workspaceStub } from "../stubs";

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

async function sessionOf(env: Env, claims: VisitorClaims): Promise<VisitorSession> {
  return {
    visitorId: claims.visitorId,
    conversationId: claims.conversationId,
    token: await issueVisitorToken(env, claims),
    workspaceName: env.WORKSPACE_NAME,
  };
}

/** A new visitor with a conversation of their own (stored only once they write). */
export async function startSession(env: Env): Promise<VisitorSession> {
  return sessionOf(env, newVisitor(env));
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

/**
 * The session for the host site's user. With a valid hash the site vouches
 * for them: their own conversation, on any device. Without one they stay in
 * the visitor's own conversation, the name and email shown as unverified.
 */
export async function identify(
  env: Env,
  current: VisitorClaims | null,
  user: { id: string; name: string | null; email: string | null; hash?: string },
): Promise<VisitorSession & { verified: boolean }> {
  const verified = user.hash !== undefined && (await identityHashValid(env, user.id, user.hash));
  let claims: VisitorClaims;
  if (verified) {
    const bound = await workspaceStub(env).bindVerifiedUser(
      user.id,
      current && { visitorId: current.visitorId, conversationId: current.conversationId },
    );
    claims = { workspace: env.SITE_KEY, ...bound };
  } else {
    claims = current ?? newVisitor(env);
  }
  const stub = conversationStub(env, claims.conversationId);
  unwrap(
    await stub.setSiteIdentity(claims.conversationId, claims.workspace, claims.visitorId, {
      name: user.name,
      email: user.email,
      verified,
    }),
  );
  return { ...(await sessionOf(env, claims)), verified };
}

/** A single-use socket ticket; a deleted conversation is gone for good (the widget starts a fresh one). */
export async function socketTicket(env: Env, claims: VisitorClaims): Promise<SocketTicket> {
  if (await conversationStub(env, claims.conversationId).isDeleted()) {
    refuse("deleted", "This conversation was deleted; start a new one");
  }
  return issueTicket(env, claims);
}

/** A page of the visitor's own history (empty before their first message). */
export async function visitorMessages(env: Env, claims: VisitorClaims, before: number | null, limit: number) {
  const stub = conversationStub(env, claims.conversationId);
  return unwrap(
    await stub.getVisitorMessages(claims.conversationId, claims.workspace, claims.visitorId, before, limit),
  );
}
