/**
 * HTTP plumbing shared by the route modules: the app's context type, the
 * 405-or-404 fallback, per-IP rate limits and the same-origin checks that
 * stand in for CSRF tokens. No route, service or Durable Object is reached
 * from here.
 */
import type { Context, MiddlewareHandler, NotFoundHandler } from "hono";
import { TrieRouter } from "hono/router/trie-router";
import type { Env } from "../env";
import { errorResponse, refuse, STATUS } from "../errors";
import type { Operator } from "../protocol";
import { networkOf } from "./network";

/** What every route sees: the bindings, and the operator once a guard has found one. */
export type AppEnv = {
  Bindings: Env;
  Variables: { operator: Operator; sessionToken: string };
};

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
    if (allowed.length === 0) return errorResponse(STATUS.not_found, "not_found", "No such route");
    const allow = allowed.join(", ");
    return errorResponse(
      STATUS.method_not_allowed,
      "method_not_allowed",
      `${c.req.method} is not allowed here; allowed: ${allow}`,
      { Allow: allow },
    );
  };
}

/**
 * The caller's network (see `networkOf`) for per-IP limits, or null when
 * they are off: a request without CF-Connecting-IP (only possible off the
 * edge, e.g. in unit tests) is not limited per IP, rather than all such
 * requests sharing one bucket.
 */
export function clientNetwork(c: Context<AppEnv>): string | null {
  const ip = c.req.header("CF-Connecting-IP");
  // RATE_LIMITS=off exists for the local load benchmark (`npm run bench`), which
  // opens hundreds of conversations from 127.0.0.1; never set it in production.
  if (!ip || c.env.RATE_LIMITS === "off") return null;
  return networkOf(ip);
}

/** Per-IP rate limit with Cloudflare's rate limiting binding (see `clientNetwork` for who is not limited). */
export async function limitByIp(c: Context<AppEnv>, limiter: RateLimit | undefined, what: string): Promise<void> {
  const network = clientNetwork(c);
  if (!limiter || !network) return;
  const { success } = await limiter.limit({ key: network });
  if (!success)
    refuse("rate_limited", `Too many ${what} from your network; try again in a minute`, { retryAfterMs: 60_000 });
}

/** True when a browser says the request came from our own origin (or is not from a browser). */
export function sameOrigin(request: Request): boolean {
  const origin = request.headers.get("Origin");
  const site = request.headers.get("Sec-Fetch-Site");
  if (site && site !== "same-origin" && site !== "none") return false;
  if (origin === null) return true;
  return origin === new URL(request.url).origin;
}

/** Routes the widget loader calls from the host page (CORS, no cookies). */
const CROSS_SITE_ALLOWED = new Set([
  "/api/visitor/session",
  "/api/visitor/pageviews",
  "/api/visitor/identify",
  "/api/visitor/logout",
]);

/**
 * CSRF guard for cookie-authenticated state changes: a request from another
 * site is refused before it reaches a handler.
 */
export const refuseCrossSite: MiddlewareHandler<AppEnv> = async (c, next) => {
  // The loader's calls come from the customer's site by design; they carry
  // no cookie (a visitor token in the body at most), so CSRF cannot apply.
  if (CROSS_SITE_ALLOWED.has(new URL(c.req.url).pathname)) return next();
  if (c.req.method !== "GET" && c.req.method !== "HEAD" && c.req.method !== "OPTIONS" && !sameOrigin(c.req.raw)) {
    refuse("cross_site", "Cross-site requests are not allowed");
  }
  await next();
};
