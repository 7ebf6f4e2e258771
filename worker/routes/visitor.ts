/**
 * The widget's HTTP calls. Visitors authenticate with a bearer token (never
 * a cookie, never in a URL).
 *   POST /api/visitor/session  { siteKey } → a new visitor identity
 *   POST /api/visitor/ticket   Authorization: Bearer <token> → a single-use socket ticket
 *   GET  /api/visitor/messages?before=&limit=  the visitor's own history page
 *   POST /api/visitor/files    send a file (multipart: file, clientId)
 *   GET  /api/visitor/files/:fileId[?inline=1]  fetch an attachment of the visitor's own conversation
 */
import { Hono, type Context } from "hono";
import { fail, jsonBody, unwrap, type AppEnv } from "../lib/http";
import { issueTicket, issueVisitorToken, newVisitor, readVisitorToken, type VisitorClaims } from "../lib/visitor";
import type { SocketTicket, VisitorSession } from "../protocol";
import { conversationStub } from "./conversations";
import { handleUpload, serveFile } from "./files";

async function visitorFrom(c: Context<AppEnv>): Promise<VisitorClaims> {
  const header = c.req.header("Authorization") ?? "";
  const match = /^Bearer (\S+)$/.exec(header);
  if (!match) fail(401, "unauthorized", "Visitor token required");
  const claims = await readVisitorToken(c.env, match[1]!);
  if (!claims) fail(401, "unauthorized", "Visitor token is not valid");
  return claims;
}

export const visitor = new Hono<AppEnv>()
  .post("/session", async (c) => {
    const body = await jsonBody(c, 1024);
    if (body.siteKey !== c.env.SITE_KEY) fail(404, "unknown_site", "Unknown site key");
    const claims = newVisitor(c.env);
    const session: VisitorSession = {
      visitorId: claims.visitorId,
      conversationId: claims.conversationId,
      token: await issueVisitorToken(c.env, claims),
      workspaceName: c.env.WORKSPACE_NAME,
    };
    return c.json(session, 201);
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
