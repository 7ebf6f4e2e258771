/**
 * Operator sign-in.
 *   GET  /api/setup        does the workspace still need its first admin?
 *   POST /api/setup        create the first admin (only while none exists)
 *   POST /api/auth/login   email + password → session cookie
 *   POST /api/auth/logout  end the session
 *   GET  /api/auth/me      the signed-in operator
 */
import { Hono, type Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { hashPassword, verifyPassword } from "../lib/crypto";
import { isEmail } from "../lib/frames";
import {
  fail,
  jsonBody,
  requireOperator,
  SESSION_COOKIE,
  stringField,
  unwrap,
  workspaceStub,
  type AppEnv,
} from "../lib/http";
import type { MeResponse, SetupStatus } from "../protocol";
import { SESSION_TTL_MS } from "../workspace/operators";

/** A hash of a password nobody has, so unknown emails cost the same time as wrong passwords. */
let decoyHash: Promise<string> | null = null;

export function setSessionCookie(c: Context<AppEnv>, token: string): void {
  setCookie(c, SESSION_COOKIE, token, {
    httpOnly: true,
    // Secure whenever served over https; wrangler dev on http://127.0.0.1 cannot set Secure cookies.
    secure: new URL(c.req.url).protocol === "https:",
    sameSite: "Strict",
    path: "/",
    maxAge: Math.floor(SESSION_TTL_MS / 1000),
  });
}

export function readCredentials(body: Record<string, unknown>, withName: boolean) {
  const name = withName ? stringField(body, "name", 1, 80, "Name") : "";
  const email = stringField(body, "email", 3, 254, "Email").toLowerCase();
  if (!isEmail(email)) fail(400, "bad_request", "That email address does not look right");
  const password = body.password;
  if (typeof password !== "string" || password.length < 10 || password.length > 256) {
    fail(400, "bad_request", "Password must be 10–256 characters");
  }
  return { name, email, password };
}

export const auth = new Hono<AppEnv>()
  .get("/setup", async (c) => {
    return c.json({ needsSetup: await workspaceStub(c.env).needsSetup() } satisfies SetupStatus);
  })
  .post("/setup", async (c) => {
    const { name, email, password } = readCredentials(await jsonBody(c), true);
    const result = unwrap(
      await workspaceStub(c.env).setup({ name, email, passwordHash: await hashPassword(password) }),
    );
    setSessionCookie(c, result.token);
    return c.json({ operator: result.operator } satisfies MeResponse, 201);
  })
  .post("/auth/login", async (c) => {
    const body = await jsonBody(c);
    const email = typeof body.email === "string" ? body.email.trim().toLowerCase() : "";
    const password = typeof body.password === "string" ? body.password : "";
    if (!email || !password || password.length > 256) fail(400, "bad_request", "Email and password are required");
    const ws = workspaceStub(c.env);
    const creds = await ws.credentials(email);
    decoyHash ??= hashPassword("decoy password nobody has");
    const ok = await verifyPassword(password, creds?.passwordHash ?? (await decoyHash));
    if (!creds || !ok) fail(401, "bad_credentials", "Email or password is wrong");
    const token = await ws.createSession(creds.operatorId);
    const operator = await ws.authenticate(token);
    if (!operator) fail(401, "bad_credentials", "Email or password is wrong");
    setSessionCookie(c, token);
    return c.json({ operator } satisfies MeResponse);
  })
  .post("/auth/logout", async (c) => {
    const token = getCookie(c, SESSION_COOKIE);
    if (token) await workspaceStub(c.env).endSession(token);
    deleteCookie(c, SESSION_COOKIE, { path: "/" });
    return c.body(null, 204);
  })
  .get("/auth/me", requireOperator, (c) => c.json({ operator: c.get("operator") } satisfies MeResponse));
