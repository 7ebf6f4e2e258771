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
import type { AppEnv } from "../lib/http";
import { checkUpgrade, forwardUpgrade } from "../lib/upgrade";
import { readTicket } from "../lib/visitor";
import { currentOperator } from "../services/auth";
import { conversationStub, workspaceStub } from "../stubs";

export const sockets = new Hono<AppEnv>()
  .get("/panel", async (c) => {
    checkUpgrade(c.req.raw);
    const operator = await currentOperator(c);
    if (!operator) refuse("unauthorized", "Sign in first");
    return workspaceStub(c.env).fetch(forwardUpgrade(c.req.raw, { actorId: operator.id }));
  })
  .get("/conversations/:id", async (c) => {
    checkUpgrade(c.req.raw);
    const operator = await currentOperator(c);
    if (!operator) refuse("unauthorized", "Sign in first");
    const id = c.req.param("id");
    if (!isId(id)) refuse("not_found", "Unknown conversation");
    return conversationStub(c.env, id).fetch(
      forwardUpgrade(c.req.raw, {
        conversation: id,
        workspace: c.env.SITE_KEY,
        role: "operator",
        actorId: operator.id,
        actorName: operator.name,
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
      }),
    );
  });
