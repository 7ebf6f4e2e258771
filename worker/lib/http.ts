/**
 * Shared HTTP plumbing for the Hono routes: the app's context type, JSON
 * errors, body parsing with limits, the workspace stub and operator auth.
 */
import type { Context, MiddlewareHandler, NotFoundHandler } from "hono";
import { getCookie } from "hono/cookie";
import { HTTPException } from "hono/http-exception";
import { TrieRouter } from "hono/router/trie-router";
import type { Env } from "../env";
import type { Operator } from "../protocol";
import { STATUS, type Result as RefusalResult } from "../errors";
import type { Result } from "./result";

export type AppEnv = {
  Bindings: Env;
  Variables: { operator: Operator; sessionToken: string };
};

export const SESSION_COOKIE = "mc_session";

/** The one error body of every route, panel and REST alike: `{ error: { code, message } }`. */
export function errorResponse(status: number, code: string, message: string, headers?: HeadersInit): Response {
  return Response.json({ error: { code, message } }, { status, headers });
}

/** Throws an HTTPException whose response is `{ error: { code, message } }`. */
export function fail(
  status: 400 | 401 | 403 | 404 | 409 | 410 | 411 | 413 | 415 | 426 | 429,
  code: string,
  message: string,
): never {
  throw new HTTPException(status, { res: errorResponse(status, code, message) });
}

const CODE_OF_STATUS: Record<number, string> = {
  400: "bad_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  405: "method_not_allowed",
  413: "too_large",
  415: "unsupported_media_type",
  429: "rate_limited",
};

/**
 * The response for anything a handler or middleware threw. Our own refusals
 * (`fail`) carry their JSON response already. HTTPExceptions raised by Hono,
 * its middleware and validators (malformed JSON, zod-openapi's media-type
 * gate, a body limit) carry a status and plain text, so they are given the
 * JSON error shape here, in one place, for every route. Anything else is a bug: logged,
 * and answered 500 without details.
 */
export function errorFromException(err: unknown, request: Request): Response {
  if (err instanceof HTTPException) {
    // A response that is already JSON is ours (fail, limitByIp); any other is rebuilt below.
    if (err.res?.headers.get("Content-Type")?.startsWith("application/json")) return err.getResponse();
    const status = err.status;
    if (status === 400 && /json/i.test(err.message)) return errorResponse(400, "bad_json", "Body is not valid JSON");
    if (status === 415)
      return errorResponse(415, "unsupported_media_type", "Send JSON (Content-Type: application/json)");
    return errorResponse(status, CODE_OF_STATUS[status] ?? "error", err.message || "Request refused");
  }
  console.error("Worker", request.method, new URL(request.url).pathname, err);
  return errorResponse(500, "internal", "Something went wrong");
}

const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;

/**
 * The app's notFound: a path that some route answers, asked with another
 * method, gets 405 and `Allow`; anything else 404. The routes are read on the
 * first miss, when every module has registered its own (middleware, which
 * Hono records as method "ALL", names no resource and is left out).
 */
export function notFoundOrNotAllowed(routes: () => readonly { method: string; path: string }[]): NotFoundHandler {
  let router: TrieRouter<string> | null = null;
  return (c) => {
    if (!router) {
      router = new TrieRouter<string>();
      for (const r of routes()) if (r.method !== "ALL") router.add(r.method, r.path, r.method);
    }
    const known = router;
    const allowed = METHODS.filter((m) => known.match(m === "HEAD" ? "GET" : m, c.req.path)[0].length > 0);
    if (allowed.length === 0) return errorResponse(404, "not_found", "No such route");
    const allow = allowed.join(", ");
    return errorResponse(405, "method_not_allowed", `${c.req.method} is not allowed here; allowed: ${allow}`, {
      Allow: allow,
    });
  };
}

/**
 * Per-IP rate limit with Cloudflare's rate limiting binding. Requests without
 * CF-Connecting-IP (only possible off the edge, e.g. in unit tests) are not
 * limited, rather than all sharing one bucket.
 */
export async function limitByIp(c: Context<AppEnv>, limiter: RateLimit | undefined, what: string): Promise<void> {
  const ip = c.req.header("CF-Connecting-IP");
  // RATE_LIMITS=off exists for the local load benchmark (`npm run bench`), which
  // opens hundreds of conversations from 127.0.0.1; never set it in production.
  if (!limiter || !ip || c.env.RATE_LIMITS === "off") return;
  const { success } = await limiter.limit({ key: ip });
  if (!success) {
    throw new HTTPException(429, {
      res: errorResponse(429, "rate_limited", `Too many ${what} from your network; try again in a minute`, {
        "Retry-After": "60",
      }),
    });
  }
}

/** Reads a JSON object body of at most `maxBytes`. */
export async function jsonBody(
  c: Context,
  maxBytes = 8 * 1024,
  { allowPlainText = false } = {},
): Promise<Record<string, unknown>> {
  const type = (c.req.header("Content-Type") ?? "").toLowerCase();
  // text/plain is accepted only where a cross-site "simple request" (no preflight; sendBeacon) is intended.
  const ok = type.startsWith("application/json") || (allowPlainText && type.startsWith("text/plain"));
  if (!ok) fail(415, "unsupported_media_type", "Send JSON (Content-Type: application/json)");
  const declared = Number(c.req.header("Content-Length") ?? 0);
  if (declared > maxBytes) fail(413, "too_large", `Body is larger than ${maxBytes} bytes`);
  const text = await c.req.text();
  if (text.length > maxBytes) fail(413, "too_large", `Body is larger than ${maxBytes} bytes`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    fail(400, "bad_json", "Body is not valid JSON");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body))
    fail(400, "bad_request", "Body must be a JSON object");
  return body as Record<string, unknown>;
}

export function stringField(body: Record<string, unknown>, key: string, min: number, max: number, label = key): string {
  const v = body[key];
  if (typeof v !== "string") fail(400, "bad_request", `${label} is required`);
  const s = v.trim();
  if (s.length < min || s.length > max) fail(400, "bad_request", `${label} must be ${min}–${max} characters`);
  return s;
}

export function workspaceStub(env: Env) {
  return env.WORKSPACE.get(env.WORKSPACE.idFromName(env.SITE_KEY));
}

/**
 * Unwraps a Durable Object's Result, turning a refusal into its HTTP error.
 * The Conversation object already answers with errors.ts results (no
 * `status`: it comes from the code's row in `STATUS`).
 */
export function unwrap<T>(result: Result<T> | RefusalResult<T>): T {
  if (!result.ok) {
    const status = "status" in result ? result.status : (STATUS[result.code] as Parameters<typeof fail>[0]);
    fail(status, result.code, result.message);
  }
  return result.value;
}

/** The operator signed in by session cookie, or null. */
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

/** Route guard: 401 unless an operator is signed in. */
export const requireOperator: MiddlewareHandler<AppEnv> = async (c, next) => {
  const operator = await currentOperator(c);
  if (!operator) fail(401, "unauthorized", "Sign in first");
  await next();
};

/** True when a browser says the request came from our own origin (or is not from a browser). */
export function sameOrigin(request: Request): boolean {
  const origin = request.headers.get("Origin");
  const site = request.headers.get("Sec-Fetch-Site");
  if (site && site !== "same-origin" && site !== "none") return false;
  if (origin === null) return true;
  return origin === new URL(request.url).origin;
}

/** Routes the widget loader calls from the host page (CORS, no cookies). */
export const CROSS_SITE_ALLOWED = new Set(["/api/visitor/session", "/api/visitor/pageviews", "/api/visitor/identify"]);

/**
 * CSRF guard for cookie-authenticated state changes: a request from another
 * site is refused before it reaches a handler.
 */
export const refuseCrossSite: MiddlewareHandler<AppEnv> = async (c, next) => {
  // The loader's two calls come from the customer's site by design; they
  // carry no cookie (a visitor token in the body at most), so CSRF cannot apply.
  if (CROSS_SITE_ALLOWED.has(new URL(c.req.url).pathname)) return next();
  if (c.req.method !== "GET" && c.req.method !== "HEAD" && c.req.method !== "OPTIONS" && !sameOrigin(c.req.raw)) {
    fail(403, "cross_site", "Cross-site requests are not allowed");
  }
  await next();
};
