/**
 * The widget's HTTP calls. Visitors authenticate with a bearer token (never
 * a cookie, never in a URL).
 *   POST /api/visitor/session  { siteKey } → a new visitor identity (called by the loader, cross-site;
 *        limited per IP, SESSION_LIMIT, as every route that can start a conversation is)
 *   POST /api/visitor/pageviews  { token, views, referrer } → page views (sendBeacon from the loader, cross-site)
 *   POST /api/visitor/identify  { siteKey, token?, user: { id, name?, email?, hash? } } → the session for that user
 *        (Microchat.setUser; cross-site). A valid hash = HMAC-SHA256(IDENTITY_SECRET, id) in hex; the verified
 *        user gets a fresh token and the one sent is revoked.
 *   POST /api/visitor/logout   { siteKey, token } → 204; the token (and its family) is revoked (Microchat.logout)
 *   POST /api/visitor/ticket   Authorization: Bearer <token> → a single-use socket ticket (+ `session` when the
 *        token was rotated; so does /pageviews)
 *        Without a valid token it may start a conversation, so it counts against SESSION_LIMIT too.
 * A token that expired is refused with 401 `token_expired`; one revoked, 401 `unauthorized`; the widget then
 * starts afresh.
 *   GET  /api/visitor/messages?before=&limit=  the visitor's own history page
 *   POST /api/visitor/files    send a file (multipart: file, clientId)
 *   GET  /api/visitor/files/:fileId[?inline=1]  fetch an attachment of the visitor's own conversation
 */
import { Hono, type Context, type MiddlewareHandler } from "hono";
import { Refused, refuse, refusalResponse } from "../errors";
import { clientInfo } from "../lib/client";
import { maxUploadBytes } from "../lib/files";
import { limitByIp, type AppEnv } from "../lib/http";
import { readVisitorToken, type VisitorPass } from "../lib/visitor";
import { serveFile, storeUpload } from "../services/files";
import {
  authorizeVisitor,
  identify,
  logout,
  recordPageViews,
  socketTicket,
  startSession,
  visitorMessages,
} from "../services/visitors";
import { Identify, PageViews } from "../validate/bodies";
import { parse, readJson } from "../validate/http";
import { readUpload } from "../validate/upload";

/**
 * The loader's calls are cross-site simple requests; they carry no cookies,
 * so any origin may make them, unless SITE_ORIGINS lists the sites allowed
 * to start chats: a browser on another site is then refused (a request
 * without an Origin is not from a browser page, and proves nothing either way).
 */
const cors: MiddlewareHandler<AppEnv> = async (c, next) => {
  const allowed = (c.env.SITE_ORIGINS ?? "")
    .split(",")
    .map((o) => o.trim())
    .filter(Boolean);
  const origin = c.req.header("Origin");
  if (allowed.length > 0 && origin !== undefined && !allowed.includes(origin)) {
    // Answered here, with the CORS header, so the site's developer can read why.
    const res = refusalResponse(
      new Refused("bad_origin", `${origin} is not allowed to open chats here (SITE_ORIGINS)`),
    );
    res.headers.set("Access-Control-Allow-Origin", "*");
    return res;
  }
  if (c.req.method === "OPTIONS") {
    return c.body(null, 204, {
      "Access-Control-Allow-Origin": "*",
      "Access-Control-Allow-Methods": "POST",
      "Access-Control-Allow-Headers": "Content-Type",
      "Access-Control-Max-Age": "86400",
    });
  }
  await next();
  c.res.headers.set("Access-Control-Allow-Origin", "*");
};

/** The loader's bodies: JSON, or text/plain (a "simple request", no preflight) as `sendBeacon` sends it. */
const loaderBody = (maxBytes: number) => ({ maxBytes, allowPlainText: true });

/** The bearer token, or 401. */
function bearer(c: Context<AppEnv>): string {
  const match = /^Bearer (\S+)$/.exec(c.req.header("Authorization") ?? "");
  if (!match) refuse("unauthorized", "Visitor token required");
  return match[1]!;
}

/** The visitor named by the bearer token (checked all the way: expiry, revocation, deletion), or 401/410. */
async function visitorFrom(c: Context<AppEnv>): Promise<VisitorPass> {
  return (await authorizeVisitor(c.env, bearer(c))).pass;
}

/** A whole number from the query string, or null when absent or not one. */
const queryNumber = (value: string | undefined) => Number(value ?? "") || null;

export const visitor = new Hono<AppEnv>()
  .use("/session", cors)
  .use("/pageviews", cors)
  .use("/identify", cors)
  .use("/logout", cors)
  .post("/session", async (c) => {
    const body = await readJson(c, loaderBody(1024));
    if (body.siteKey !== c.env.SITE_KEY) refuse("unknown_site", "Unknown site key");
    await limitByIp(c, c.env.SESSION_LIMIT, "new conversations");
    return c.json(await startSession(c.env), 201);
  })
  .post("/pageviews", async (c) => {
    const body = await readJson(c, loaderBody(32 * 1024));
    if (typeof body.token !== "string") refuse("unauthorized", "Visitor token required");
    const { pass, renewed } = await authorizeVisitor(c.env, body.token);
    const { views, referrer } = parse(PageViews, body);
    const stored = await recordPageViews(c.env, pass, views, referrer, clientInfo(c.req.raw));
    return c.json({ stored, ...(renewed ? { session: renewed } : {}) });
  })
  .post("/identify", async (c) => {
    const body = await readJson(c, loaderBody(4096));
    if (body.siteKey !== c.env.SITE_KEY) refuse("unknown_site", "Unknown site key");
    const { token, user } = parse(Identify, body);
    // Without a session of its own, setUser may start a new conversation: it
    // counts against the same per-IP budget as /session, or 70 calls would be 70 conversations.
    const current = token === undefined ? null : await readVisitorToken(c.env, token);
    if (current === null || current === "expired") await limitByIp(c, c.env.SESSION_LIMIT, "new conversations");
    return c.json(await identify(c.env, token, user));
  })
  .post("/logout", async (c) => {
    const body = await readJson(c, loaderBody(4096));
    if (body.siteKey !== c.env.SITE_KEY) refuse("unknown_site", "Unknown site key");
    // Logging out twice, or with a token that no longer holds, is done all the same.
    if (typeof body.token === "string") await logout(c.env, body.token);
    return c.body(null, 204);
  })
  .post("/ticket", async (c) => c.json(await socketTicket(c.env, bearer(c))))
  .get("/messages", async (c) => {
    const claims = await visitorFrom(c);
    const before = queryNumber(c.req.query("before"));
    const limit = queryNumber(c.req.query("limit")) ?? 50;
    return c.json(await visitorMessages(c.env, claims, before, limit));
  })
  .post("/files", async (c) => {
    const claims = await visitorFrom(c);
    await limitByIp(c, c.env.UPLOAD_LIMIT, "uploads");
    const upload = await readUpload(c, maxUploadBytes(c.env), "visitor");
    const stored = await storeUpload(
      c.env,
      claims.conversationId,
      { role: "visitor", id: claims.visitorId, name: "Visitor" },
      upload,
    );
    return c.json(stored.body, stored.fresh ? 201 : 200);
  })
  .get("/files/:fileId", async (c) => {
    const claims = await visitorFrom(c);
    return serveFile(c.env, claims.conversationId, c.req.param("fileId"), c.req.query("inline") === "1");
  });
