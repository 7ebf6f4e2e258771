/**
 * Operator sign-in.
 *   GET  /api/setup        does the workspace still need its first admin?
 *   POST /api/setup        create the first admin (only while none exists)
 *   POST /api/auth/login   email + password → session cookie (throttled per account and network: 429 + Retry-After)
 *   POST /api/auth/logout  end the session
 *   GET  /api/auth/me      the signed-in operator
 */
import { Hono, type Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { clientNetwork, limitByIp, type AppEnv } from "../lib/http";
import { SESSION_COOKIE, SESSION_TTL_MS } from "../lib/sessions";
import type { MeResponse, SetupStatus } from "../protocol";
import { logIn, logOut, requireOperator, setUp } from "../services/auth";
import { workspaceStub } from "../stubs";
import { Login, Setup } from "../validate/bodies";
import { readBody } from "../validate/http";

function setSessionCookie(c: Context<AppEnv>, token: string): void {
  setCookie(c, SESSION_COOKIE, token, {
    httpOnly: true,
    // Secure whenever served over https; wrangler dev on http://127.0.0.1 cannot set Secure cookies.
    secure: new URL(c.req.url).protocol === "https:",
    sameSite: "Strict",
    path: "/",
    maxAge: Math.floor(SESSION_TTL_MS / 1000),
  });
}

export const auth = new Hono<AppEnv>()
  .get("/setup", async (c) => {
    return c.json({ needsSetup: await workspaceStub(c.env).needsSetup() } satisfies SetupStatus);
  })
  .post("/setup", async (c) => {
    await limitByIp(c, c.env.LOGIN_LIMIT, "sign-in attempts");
    const { operator, token } = await setUp(c.env, await readBody(c, Setup));
    setSessionCookie(c, token);
    return c.json({ operator } satisfies MeResponse, 201);
  })
  .post("/auth/login", async (c) => {
    // Before the password hash (the costly part): a network that tries too
    // often is refused at the edge. Failures are also throttled per account
    // and per network in the Workspace object, which counts exactly.
    await limitByIp(c, c.env.LOGIN_LIMIT, "sign-in attempts");
    const body = await readBody(c, Login);
    const { operator, token } = await logIn(c.env, body.email, body.password, clientNetwork(c));
    setSessionCookie(c, token);
    return c.json({ operator } satisfies MeResponse);
  })
  .post("/auth/logout", async (c) => {
    const token = getCookie(c, SESSION_COOKIE);
    if (token) await logOut(c.env, token);
    deleteCookie(c, SESSION_COOKIE, { path: "/" });
    return c.body(null, 204);
  })
  .get("/auth/me", requireOperator, (c) => c.json({ operator: c.get("operator") } satisfies MeResponse));
