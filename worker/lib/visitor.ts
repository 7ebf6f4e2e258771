/**
 * Visitor identity. A visitor is a random id plus a token the server signed;
 * the token also names the visitor's conversation, so the Worker routes a
 * visitor to their own conversation without a lookup, and a visitor can
 * never address anyone else's.
 */
import type { Env } from "../env";
import { isId, randomId, signToken, verifyToken } from "./crypto";

export interface VisitorClaims {
  workspace: string;
  visitorId: string;
  conversationId: string;
}

/**
 * A visitor token as read: whom it names, and its life. Tokens are
 * stateless (signed), so the two things that end one early are kept by its
 * conversation: a revoked family (logout, or a login that replaced it)
 * and deletion.
 */
export interface VisitorPass extends VisitorClaims {
  /**
   * The family: one sign-in (a new visitor, a login) and every token rotated
   * from it. Revoking it ends them all, so a copy made before a rotation
   * dies with the rest.
   */
  family: string;
  issuedAt: number;
  expiresAt: number;
  /** The verified site user this token was issued to (a hash of their id), or null for an anonymous visitor. */
  user: string | null;
}

/** A visitor token lasts this long from when it was issued (absolute; rotation issues a new one). */
export const VISITOR_TOKEN_TTL_MS = 30 * 24 * 3600 * 1000;
/** A token used when older than this is replaced by a fresh one of the same family (the widget stores it). */
export const VISITOR_TOKEN_ROTATE_MS = 24 * 3600 * 1000;

/** Socket tickets live this long; they are also single-use. */
export const TICKET_TTL_MS = 60_000;

function secret(env: Env): string {
  if (!env.SESSION_SECRET || env.SESSION_SECRET.length < 16) {
    throw new Error("SESSION_SECRET is not set (at least 16 characters): see README, Configuration");
  }
  return env.SESSION_SECRET;
}

/** Signs a visitor token for `claims`; a new family unless one is given (rotation keeps it). */
export async function issueVisitorToken(
  env: Env,
  claims: VisitorClaims,
  options: { family?: string; user?: string | null } = {},
): Promise<{ token: string; pass: VisitorPass }> {
  const issuedAt = Date.now();
  const pass: VisitorPass = {
    ...claims,
    family: options.family ?? randomId(),
    issuedAt,
    expiresAt: issuedAt + VISITOR_TOKEN_TTL_MS,
    user: options.user ?? null,
  };
  const token = await signToken(secret(env), {
    t: "visitor",
    w: pass.workspace,
    v: pass.visitorId,
    c: pass.conversationId,
    f: pass.family,
    iat: pass.issuedAt,
    exp: pass.expiresAt,
    ...(pass.user ? { u: pass.user } : {}),
  });
  return { token, pass };
}

/**
 * Reads a visitor token: its pass, "expired" (signed by us, but past its
 * expiry, or from before tokens had one), or null (not a visitor token of
 * this site). Whether it was revoked is its conversation's to say.
 */
export async function readVisitorToken(env: Env, token: string): Promise<VisitorPass | "expired" | null> {
  const p = (await verifyToken(secret(env), token)) as Record<string, unknown> | null;
  if (!p || p.t !== "visitor" || p.w !== env.WORKSPACE_ID || !isId(p.v) || !isId(p.c)) return null;
  if (!isId(p.f) || typeof p.iat !== "number" || typeof p.exp !== "number" || p.exp <= Date.now()) return "expired";
  const user = typeof p.u === "string" ? p.u : null;
  return { workspace: p.w, visitorId: p.v, conversationId: p.c, family: p.f, issuedAt: p.iat, expiresAt: p.exp, user };
}

/** A ticket's claims: the visitor, the token it was issued for (family, expiry), and its own nonce and expiry. */
type TicketClaims = VisitorClaims & { family: string; tokenExpiresAt: number; nonce: string; expiresAt: number };

export async function issueTicket(env: Env, pass: VisitorPass): Promise<{ ticket: string; expiresAt: number }> {
  const expiresAt = Math.min(Date.now() + TICKET_TTL_MS, pass.expiresAt);
  const ticket = await signToken(secret(env), {
    t: "ticket",
    w: pass.workspace,
    v: pass.visitorId,
    c: pass.conversationId,
    f: pass.family,
    te: pass.expiresAt,
    n: randomId(),
    exp: expiresAt,
  });
  return { ticket, expiresAt };
}

export async function readTicket(env: Env, ticket: string): Promise<TicketClaims | null> {
  const p = (await verifyToken(secret(env), ticket)) as Record<string, unknown> | null;
  if (!p || p.t !== "ticket" || p.w !== env.WORKSPACE_ID || !isId(p.v) || !isId(p.c) || !isId(p.n) || !isId(p.f)) {
    return null;
  }
  if (typeof p.exp !== "number" || p.exp < Date.now() || typeof p.te !== "number") return null;
  return {
    workspace: p.w,
    visitorId: p.v,
    conversationId: p.c,
    family: p.f,
    tokenExpiresAt: p.te,
    nonce: p.n,
    expiresAt: p.exp,
  };
}

/**
 * The claims of a survey link (`/rate/:token`, sent by email to email-only
 * visitors): the conversation and survey it answers, until it expires.
 */
export async function readSurveyToken(
  env: Env,
  token: string,
): Promise<{ conversationId: string; surveyId: string } | null> {
  const p = (await verifyToken(secret(env), token)) as Record<string, unknown> | null;
  if (!p || p.t !== "rate" || !isId(p.c) || !isId(p.s) || typeof p.exp !== "number" || p.exp < Date.now()) return null;
  return { conversationId: p.c, surveyId: p.s };
}

/** A fresh visitor with a conversation of their own (not stored until they write). */
export function newVisitor(env: Env): VisitorClaims {
  return { workspace: env.WORKSPACE_ID, visitorId: randomId(), conversationId: randomId() };
}
