/**
 * The widget's HTTP calls. Visitors authenticate with a bearer token (never
 * a cookie, never in a URL).
 *   POST /api/visitor/session  { siteKey } → a new visitor identity (called by the loader, cross-site)
 *   POST /api/visitor/pageviews  { token, views, referrer } → page views (sendBeacon from the loader, cross-site)
 *   POST /api/visitor/identify  { siteKey, token?, user: { id, name?, email?, hash? } } → the session for that user
 *        (Microchat.setUser; cross-site). A valid hash = HMAC-SHA256(IDENTITY_SECRET, id) in hex.
 *   POST /api/visitor/ticket   Authorization: Bearer <token> → a single-use socket ticket
 *   GET  /api/visitor/messages?before=&limit=  the visitor's own history page
 *   POST /api/visitor/files    send a file (multipart: file, clientId)
 *   GET  /api/visitor/files/:fileId[?inline=1]  fetch an attachment of the visitor's own conversation
 */
import { Hono, type Context, type MiddlewareHandler } from "hono";
import type { Env } from "../env";
import { clientInfo } from "../lib/client";
import { cleanName, isEmail } from "../lib/frames";
import { isId } from "../lib/crypto";
import { fail, jsonBody, limitByIp, unwrap, workspaceStub, type AppEnv } from "../lib/http";
import { issueTicket, issueVisitorToken, newVisitor, readVisitorToken, type VisitorClaims } from "../lib/visitor";
import { LIMITS, type SocketTicket, type VisitorSession } from "../protocol";
import { conversationStub } from "./conversations";
import { handleUpload, serveFile } from "./files";

/** Checks `hash` = hex HMAC-SHA256(IDENTITY_SECRET, userId), in constant time. */
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

/** The loader's calls are cross-site simple requests; they carry no cookies, so any origin may make them. */
const cors: MiddlewareHandler<AppEnv> = async (c, next) => {
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

/** Only http(s) URLs, without credentials, at most 2,000 characters. */
function safeUrl(raw: unknown): string | null {
  if (typeof raw !== "string" || raw.length > 2000) return null;
  try {
    const u = new URL(raw);
    if (u.protocol !== "http:" && u.protocol !== "https:") return null;
    u.username = "";
    u.password = "";
    return u.toString();
  } catch {
    return null;
  }
}

type View = { id: string; url: string; title: string; at: number; ms: number | null };

function parseViews(raw: unknown): View[] {
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > 20) {
    fail(400, "bad_request", "views must be a list of 1–20 page views");
  }
  const now = Date.now();
  return raw.map((v: unknown): View => {
    const r = (typeof v === "object" && v !== null ? v : {}) as Record<string, unknown>;
    const url = safeUrl(r.url);
    const at =
      typeof r.at === "number" && Number.isFinite(r.at) ? Math.min(Math.max(0, Math.floor(r.at)), now + 60_000) : NaN;
    const ms = r.ms === undefined || r.ms === null ? null : Number(r.ms);
    if (!isId(r.id) || !url || Number.isNaN(at) || (ms !== null && !(Number.isSafeInteger(ms) && ms >= 0))) {
      fail(400, "bad_request", "Each view needs an id, an http(s) url, a time and optionally ms on page");
    }
    // eslint-disable-next-line no-control-regex
    const title =
      typeof r.title === "string"
        ? r.title
            .replace(/[\u0000-\u001f\u007f]/g, "")
            .trim()
            .slice(0, 300)
        : "";
    return { id: r.id, url, title, at, ms };
  });
}

async function visitorFrom(c: Context<AppEnv>): Promise<VisitorClaims> {
  const header = c.req.header("Authorization") ?? "";
  const match = /^Bearer (\S+)$/.exec(header);
  if (!match) fail(401, "unauthorized", "Visitor token required");
  const claims = await readVisitorToken(c.env, match[1]!);
  if (!claims) fail(401, "unauthorized", "Visitor token is not valid");
  return claims;
}

export const visitor = new Hono<AppEnv>()
  .use("/session", cors)
  .use("/pageviews", cors)
  .use("/identify", cors)
  .post("/session", async (c) => {
    const body = await jsonBody(c, 1024, { allowPlainText: true });
    if (body.siteKey !== c.env.SITE_KEY) fail(404, "unknown_site", "Unknown site key");
    await limitByIp(c, c.env.SESSION_LIMIT, "new conversations");
    const claims = newVisitor(c.env);
    const session: VisitorSession = {
      visitorId: claims.visitorId,
      conversationId: claims.conversationId,
      token: await issueVisitorToken(c.env, claims),
      workspaceName: c.env.WORKSPACE_NAME,
    };
    return c.json(session, 201);
  })
  .post("/pageviews", async (c) => {
    const body = await jsonBody(c, 32 * 1024, { allowPlainText: true });
    const claims = typeof body.token === "string" ? await readVisitorToken(c.env, body.token) : null;
    if (!claims) fail(401, "unauthorized", "Visitor token is not valid");
    const views = parseViews(body.views);
    const referrer = safeUrl(body.referrer);
    const stub = conversationStub(c.env, claims.conversationId);
    const stored = unwrap(
      await stub.recordPageViews(
        claims.conversationId,
        claims.workspace,
        claims.visitorId,
        views,
        referrer,
        clientInfo(c.req.raw),
      ),
    );
    return c.json({ stored });
  })
  .post("/identify", async (c) => {
    const body = await jsonBody(c, 4096, { allowPlainText: true });
    if (body.siteKey !== c.env.SITE_KEY) fail(404, "unknown_site", "Unknown site key");
    const user = (typeof body.user === "object" && body.user !== null ? body.user : {}) as Record<string, unknown>;
    if (typeof user.id !== "string" || user.id.length < 1 || user.id.length > 128)
      fail(400, "bad_request", "user.id is required");
    const name = typeof user.name === "string" ? cleanName(user.name).slice(0, LIMITS.nameChars) || null : null;
    const email = typeof user.email === "string" && isEmail(user.email.trim()) ? user.email.trim() : null;
    const current = typeof body.token === "string" ? await readVisitorToken(c.env, body.token) : null;
    const verified = typeof user.hash === "string" && (await identityHashValid(c.env, user.id, user.hash));

    let claims: VisitorClaims;
    if (verified) {
      // The site vouches for this user: their own conversation, on any device.
      const bound = await workspaceStub(c.env).bindVerifiedUser(
        user.id,
        current && { visitorId: current.visitorId, conversationId: current.conversationId },
      );
      claims = { workspace: c.env.SITE_KEY, ...bound };
    } else {
      // Not vouched for: stay in the visitor's own conversation, details shown as unverified.
      claims = current ?? newVisitor(c.env);
    }
    const stub = conversationStub(c.env, claims.conversationId);
    const result = await stub.setSiteIdentity(claims.conversationId, claims.workspace, claims.visitorId, {
      name,
      email,
      verified,
    });
    if (!result.ok && result.code === "deleted") fail(410, "deleted", "This conversation was deleted");
    unwrap(result);
    const session: VisitorSession & { verified: boolean } = {
      visitorId: claims.visitorId,
      conversationId: claims.conversationId,
      token: await issueVisitorToken(c.env, claims),
      workspaceName: c.env.WORKSPACE_NAME,
      verified,
    };
    return c.json(session);
  })
  .post("/ticket", async (c) => {
    const claims = await visitorFrom(c);
    // A deleted conversation is gone for good: the widget starts a fresh one.
    if (await conversationStub(c.env, claims.conversationId).isDeleted()) {
      fail(410, "deleted", "This conversation was deleted; start a new one");
    }
    return c.json((await issueTicket(c.env, claims)) satisfies SocketTicket);
  })
  .get("/messages", async (c) => {
    const claims = await visitorFrom(c);
    const before = Number(c.req.query("before") ?? "") || null;
    const limit = Number(c.req.query("limit") ?? 50) || 50;
    const stub = conversationStub(c.env, claims.conversationId);
    return c.json(
      unwrap(await stub.getVisitorMessages(claims.conversationId, claims.workspace, claims.visitorId, before, limit)),
    );
  })
  .post("/files", async (c) => {
    const claims = await visitorFrom(c);
    return handleUpload(c, claims.conversationId, { role: "visitor", id: claims.visitorId, name: "Visitor" });
  })
  .get("/files/:fileId", async (c) => {
    const claims = await visitorFrom(c);
    return serveFile(c, claims.conversationId, c.req.param("fileId"));
  });
