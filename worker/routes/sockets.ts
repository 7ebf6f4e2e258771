/**
 * WebSocket upgrades. Each is authenticated here, checked for our own Origin
 * (a page on another site cannot open a socket with an operator's cookie),
 * then forwarded raw to the Durable Object that accepts it with the
 * Hibernation API. (Hono's upgradeWebSocket would pin the socket to this
 * Worker invocation and could never hibernate.)
 *   GET /ws/panel                 operator ↔ workspace index (cookie)
 *   GET /ws/conversations/:id     operator ↔ conversation (cookie)
 *   GET /ws/visitor?ticket=…      visitor ↔ their conversation (single-use ticket)
 */
import { Hono, type Context } from "hono";
import { IDENTITY_HEADERS } from "../conversation";
import { isId } from "../lib/crypto";
import { currentOperator, fail, sameOrigin, workspaceStub, type AppEnv } from "../lib/http";
import { clientInfo } from "../lib/client";
import { readTicket } from "../lib/visitor";
import { conversationStub } from "./conversations";

function checkUpgrade(c: Context<AppEnv>): void {
  if (c.req.header("Upgrade")?.toLowerCase() !== "websocket")
    fail(426, "upgrade_required", "Expected a WebSocket upgrade");
  const origin = c.req.header("Origin");
  if (!origin || !sameOrigin(c.req.raw)) fail(403, "bad_origin", "WebSocket connections must come from this site");
}

/** A copy of the upgrade request carrying only identity we vouch for. */
function forward(c: Context<AppEnv>, identity: Record<string, string>): Request {
  const headers = new Headers();
  for (const name of [
    "Upgrade",
    "Connection",
    "Sec-WebSocket-Key",
    "Sec-WebSocket-Version",
    "Sec-WebSocket-Extensions",
    "Origin",
  ]) {
    const v = c.req.header(name);
    if (v) headers.set(name, v);
  }
  for (const [k, v] of Object.entries(identity)) headers.set(k, v);
  return new Request(c.req.url, { method: "GET", headers });
}

export const sockets = new Hono<AppEnv>()
  .get("/panel", async (c) => {
    checkUpgrade(c);
    const operator = await currentOperator(c);
    if (!operator) fail(401, "unauthorized", "Sign in first");
    return workspaceStub(c.env).fetch(forward(c, { [IDENTITY_HEADERS.actorId]: operator.id }));
  })
  .get("/conversations/:id", async (c) => {
    checkUpgrade(c);
    const operator = await currentOperator(c);
    if (!operator) fail(401, "unauthorized", "Sign in first");
    const id = c.req.param("id");
    if (!isId(id)) fail(404, "not_found", "Unknown conversation");
    return conversationStub(c.env, id).fetch(
      forward(c, {
        [IDENTITY_HEADERS.conversation]: id,
        [IDENTITY_HEADERS.workspace]: c.env.SITE_KEY,
        [IDENTITY_HEADERS.role]: "operator",
        [IDENTITY_HEADERS.actorId]: operator.id,
        [IDENTITY_HEADERS.actorName]: operator.name,
      }),
    );
  })
  .get("/visitor", async (c) => {
    checkUpgrade(c);
    const claims = await readTicket(c.env, c.req.query("ticket") ?? "");
    if (!claims) fail(401, "unauthorized", "Socket ticket is missing, expired or invalid");
    return conversationStub(c.env, claims.conversationId).fetch(
      forward(c, {
        [IDENTITY_HEADERS.conversation]: claims.conversationId,
        [IDENTITY_HEADERS.workspace]: claims.workspace,
        [IDENTITY_HEADERS.role]: "visitor",
        [IDENTITY_HEADERS.actorId]: claims.visitorId,
        [IDENTITY_HEADERS.ticketNonce]: claims.nonce,
        [IDENTITY_HEADERS.ticketExpires]: String(claims.expiresAt),
        [IDENTITY_HEADERS.client]: JSON.stringify(clientInfo(c.req.raw)),
      }),
    );
  });
