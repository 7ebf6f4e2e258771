/**
 * WebSocket upgrades. Each is checked (a WebSocket upgrade, from our own
 * Origin), authenticated here, then forwarded raw to the Durable Object that
 * accepts it with the Hibernation API (see `lib/upgrade.ts`).
 *   GET /ws/panel                 operator ↔ workspace index (cookie)
 *   GET /ws/conversations/:id     operator ↔ conversation (cookie)
 *   GET /ws/visitor?ticket=…      visitor ↔ their conversation (single-use ticket)
 */
import { Hono } from "hono";
import { refuse } from "../errors";
import { clientInfo } from "../lib/client";
import { isId } from "../lib/crypto";
import { familyTag, sessionTag } from "../lib/grants";
import type { AppEnv } from "../lib/http";
import { checkUpgrade, forwardUpgrade } from "../lib/upgrade";
import { readTicket } from "../lib/visitor";
import { socketSession } from "../services/auth";
import { conversationStub, workspaceStub } from "../stubs";

export const sockets = new Hono<AppEnv>()
  .get("/panel", async (c) => {
    checkUpgrade(c.req.raw);
    const session = await socketSession(c, null);
    if (!session) refuse("unauthorized", "Sign in first");
    return workspaceStub(c.env).fetch(
      forwardUpgrade(c.req.raw, {
        actorId: session.operator.id,
        grant: sessionTag(session.id),
        grantUntil: String(session.expiresAt),
      }),
    );
  })
  .get("/conversations/:id", async (c) => {
    checkUpgrade(c.req.raw);
    const id = c.req.param("id");
    const session = await socketSession(c, isId(id) ? id : null);
    if (!session) refuse("unauthorized", "Sign in first");
    if (!isId(id)) refuse("not_found", "Unknown conversation");
    return conversationStub(c.env, id).fetch(
      forwardUpgrade(c.req.raw, {
        conversation: id,
        workspace: c.env.WORKSPACE_ID,
        role: "operator",
        actorId: session.operator.id,
        actorName: session.operator.name,
        // The socket carries its session: ending the session closes it (conversation/access.ts).
        grant: sessionTag(session.id),
        grantUntil: String(session.expiresAt),
      }),
    );
  })
  .get("/visitor", async (c) => {
    checkUpgrade(c.req.raw);
    const claims = await readTicket(c.env, c.req.query("ticket") ?? "");
    if (!claims) refuse("unauthorized", "Socket ticket is missing, expired or invalid");
    return conversationStub(c.env, claims.conversationId).fetch(
      forwardUpgrade(c.req.raw, {
        conversation: claims.conversationId,
        workspace: claims.workspace,
        role: "visitor",
        actorId: claims.visitorId,
        ticketNonce: claims.nonce,
        ticketExpires: String(claims.expiresAt),
        client: JSON.stringify(clientInfo(c.req.raw)),
        // The socket carries the token it was opened with: logging out (or a login replacing it) closes it.
        grant: familyTag(claims.family),
        grantUntil: String(claims.tokenExpiresAt),
      }),
    );
  });
