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

/** Socket tickets live this long; they are also single-use. */
export const TICKET_TTL_MS = 60_000;

function secret(env: Env): string {
  if (!env.SESSION_SECRET || env.SESSION_SECRET.length < 16) {
    throw new Error("SESSION_SECRET is not set (at least 16 characters): see README, Configuration");
  }
  return env.SESSION_SECRET;
}

export async function issueVisitorToken(env: Env, claims: VisitorClaims): Promise<string> {
  return signToken(secret(env), { t: "visitor", w: claims.workspace, v: claims.visitorId, c: claims.conversationId });
}

export async function readVisitorToken(env: Env, token: string): Promise<VisitorClaims | null> {
  const p = (await verifyToken(secret(env), token)) as Record<string, unknown> | null;
  if (!p || p.t !== "visitor" || p.w !== env.SITE_KEY || !isId(p.v) || !isId(p.c)) return null;
  return { workspace: p.w, visitorId: p.v, conversationId: p.c };
}

export async function issueTicket(env: Env, claims: VisitorClaims): Promise<{ ticket: string; expiresAt: number }> {
  const expiresAt = Date.now() + TICKET_TTL_MS;
  const ticket = await signToken(secret(env), {
    t: "ticket",
    w: claims.workspace,
    v: claims.visitorId,
    c: claims.conversationId,
    n: randomId(),
    exp: expiresAt,
  });
  return { ticket, expiresAt };
}

export async function readTicket(
  env: Env,
  ticket: string,
): Promise<(VisitorClaims & { nonce: string; expiresAt: number }) | null> {
  const p = (await verifyToken(secret(env), ticket)) as Record<string, unknown> | null;
  if (!p || p.t !== "ticket" || p.w !== env.SITE_KEY || !isId(p.v) || !isId(p.c) || !isId(p.n)) return null;
  if (typeof p.exp !== "number" || p.exp < Date.now()) return null;
  return { workspace: p.w, visitorId: p.v, conversationId: p.c, nonce: p.n, expiresAt: p.exp };
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
  return { workspace: env.SITE_KEY, visitorId: randomId(), conversationId: randomId() };
}
