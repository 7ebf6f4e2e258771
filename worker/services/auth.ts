/**
 * Who is asking: operators sign in with a password (a session cookie) or an
 * API token, and these guards find them before a route runs. Whether they
 * are an admin is checked in one place, the workspace object, because every
 * admin-only operation is one of its methods: a route cannot forget it.
 */
import type { Context, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import type { Env } from "../env";
import { refuse, unwrap } from "../errors";
import { hashPassword, verifyPassword } from "../lib/crypto";
import type { AppEnv } from "../lib/http";
import { SESSION_COOKIE } from "../lib/sessions";
import type { Operator } from "../protocol";
import { workspaceStub } from "../stubs";

/** A hash of a password nobody has, so unknown emails cost the same time as wrong passwords. */
let decoyHash: Promise<string> | null = null;

/** The operator signed in by session cookie (remembered on the context), or null. */
export async function currentOperator(c: Context<AppEnv>): Promise<Operator | null> {
  const token = getCookie(c, SESSION_COOKIE);
  if (!token) return null;
  const operator = await workspaceStub(c.env).authenticate(token);
  if (operator) {
    c.set("operator", operator);
    c.set("sessionToken", token);
  }
  return operator;
}

/**
 * The session a socket upgrade is opened with (cookie), or null when there is
 * none. With `conversationId` the workspace records the socket, so signing
 * the session out (or removing the operator) closes it (workspace/operator-sockets.ts).
 */
export async function socketSession(c: Context<AppEnv>, conversationId: string | null) {
  const token = getCookie(c, SESSION_COOKIE);
  return token ? workspaceStub(c.env).admitSocket(token, conversationId) : null;
}

/** Route guard: 401 unless an operator is signed in. */
export const requireOperator: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (!(await currentOperator(c))) refuse("unauthorized", "Sign in first");
  await next();
};

/**
 * `/api/v1`'s guard: an API token (`Authorization: Bearer mct_…`, acting as
 * its creator within its scope) or the panel's session. A read-scoped token
 * is refused every method but GET here; what needs the admin scope is
 * refused by the workspace's one admin check, which sees the token's scope.
 */
export const requireApiCaller: MiddlewareHandler<AppEnv> = async (c, next) => {
  const header = c.req.header("Authorization");
  if (header !== undefined) {
    const match = /^Bearer (\S+)$/.exec(header);
    if (!match) refuse("unauthorized", "API token is missing, revoked or invalid");
    const operator = unwrap(await workspaceStub(c.env).authenticateToken(match[1]!));
    const { token } = operator;
    if (token?.scope === "read" && c.req.method !== "GET" && c.req.method !== "HEAD")
      refuse(
        "forbidden",
        `The API token "${token.name}" has the read scope: it can only read (GET). Use a token with the write or admin scope`,
      );
    c.set("operator", operator);
  } else if (!(await currentOperator(c))) {
    refuse("unauthorized", "Send an API token (Authorization: Bearer …) or sign in");
  }
  await next();
};

/** Creates the workspace's first admin and signs them in; refused once an operator exists. */
export async function setUp(
  env: Env,
  input: { name: string; email: string; password: string },
): Promise<{ operator: Operator; token: string }> {
  const passwordHash = await hashPassword(input.password);
  return unwrap(await workspaceStub(env).setup({ name: input.name, email: input.email, passwordHash }));
}

/** A wait in words: "30 seconds", "2 minutes". */
function inWords(ms: number): string {
  const seconds = Math.max(1, Math.ceil(ms / 1000));
  if (seconds < 60) return seconds === 1 ? "1 second" : `${seconds} seconds`;
  const minutes = Math.ceil(seconds / 60);
  return minutes === 1 ? "1 minute" : `${minutes} minutes`;
}

/** The 429 of a locked-out sign-in; the same words whether or not the account exists. */
function pausedSignIn(waitMs: number, before = ""): never {
  refuse(
    "rate_limited",
    `${before}Too many failed sign-ins for this email or from your network, so signing in is paused for your safety. Try again in ${inWords(waitMs)}.`,
    { retryAfterMs: waitMs },
  );
}

/**
 * Checks a password and opens a session. Throttled per account and per
 * network (`network`: see lib/http.ts `clientNetwork`; null = not limited
 * per network) by the workspace; the same refusals, in the same time, for
 * an unknown email: a locked-out attempt hashes nothing, any other hashes
 * the password once, against a decoy when there is no account.
 */
export async function logIn(
  env: Env,
  email: string,
  password: string,
  network: string | null,
): Promise<{ operator: Operator; token: string }> {
  const workspace = workspaceStub(env);
  const keys = { email, network };
  const attempt = await workspace.loginAttempt(keys);
  if (attempt.waitMs > 0) pausedSignIn(attempt.waitMs);
  const creds = attempt.credentials;
  decoyHash ??= hashPassword("decoy password nobody has");
  const ok = await verifyPassword(password, creds?.passwordHash ?? (await decoyHash));
  if (!creds || !ok) {
    // This failure may be the one that starts a lockout: say so now, not on the next try.
    if (attempt.waitIfWrongMs > 0) pausedSignIn(attempt.waitIfWrongMs, "Email or password is wrong. ");
    refuse("bad_credentials", "Email or password is wrong");
  }
  const [token] = await Promise.all([workspace.createSession(creds.operatorId), workspace.loginSucceeded(keys)]);
  const operator = await workspace.authenticate(token);
  if (!operator) refuse("bad_credentials", "Email or password is wrong");
  return { operator, token };
}

/** Ends a session. */
export async function logOut(env: Env, token: string): Promise<void> {
  await workspaceStub(env).endSession(token);
}

/** Adds an operator (the workspace refuses a non-admin actor or a taken email). */
export async function addOperator(
  env: Env,
  actor: Operator,
  input: { name: string; email: string; password: string; admin: boolean },
): Promise<Operator> {
  const passwordHash = await hashPassword(input.password);
  return unwrap(
    await workspaceStub(env).addOperator(actor, {
      name: input.name,
      email: input.email,
      passwordHash,
      admin: input.admin,
    }),
  );
}
