/**
 * The documented REST API, `/api/v1`: everything the panel can do, for
 * teams connecting Microchat to their own systems.
 *
 * Routes are declared with @hono/zod-openapi: the same zod schemas validate
 * input (unknown fields are refused) and generate the OpenAPI 3.1 document
 * served at `/api/v1/openapi.json`. Authentication: an API token
 * (`Authorization: Bearer mct_…`, acting as the admin who created it within
 * its scope: read, write or admin; see workspace/api-tokens.ts) or the
 * panel's session cookie.
 *
 *   GET    /conversations?state=unassigned|assigned|mine|all&before=&limit=
 *   GET    /conversations/{id}
 *   GET    /conversations/{id}/messages?before=&limit=
 *   POST   /conversations/{id}/messages        { text, channel?, clientId? }
 *   POST   /conversations/{id}/join · /leave
 *   DELETE /conversations/{id}
 *   GET    /conversations/{id}/visitor
 *   GET    /reports/operators?from=&to=
 *   GET    /operators
 *   GET    /tokens · POST /tokens { name, scope, expiresInDays? } · DELETE /tokens/{id}   (admins)
 *   GET    /webhooks · POST /webhooks · DELETE /webhooks/{id}           (admins)
 *   GET    /webhooks/{id}/deliveries                                     (admins)
 *   GET    /audit?before=&limit=                                          (admins)
 *
 * Schemas live in `validate/` (responses in `wire.ts`, bodies in `bodies.ts`),
 * shared with the panel's routes and sockets; operations live in `services/`.
 */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import { unwrap } from "../errors";
import { randomId } from "../lib/crypto";
import type { AppEnv } from "../lib/http";
import { LIMITS } from "../protocol";
import { requireApiCaller } from "../services/auth";
import {
  conversationState,
  deleteConversation,
  joinConversation,
  leaveConversation,
  listConversations,
  messagePage,
  sendMessage,
  visitorInfo,
} from "../services/conversations";
import { operatorReport } from "../services/reports";
import { addWebhook, listWebhooks, removeWebhook, webhookDeliveries } from "../services/webhooks";
import { workspaceStub } from "../stubs";
import { AuditQuery, NewToken, NewWebhook, SendMessage } from "../validate/bodies";
import { validationHook } from "../validate/http";
import { cursor, errors, idParam, json, jsonBody, limitBody, queryInt, security } from "../validate/openapi";
import * as wire from "../validate/wire";

export const v1 = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

v1.openAPIRegistry.registerComponent("securitySchemes", "bearer", { type: "http", scheme: "bearer" });
v1.openAPIRegistry.registerComponent("securitySchemes", "cookie", { type: "apiKey", in: "cookie", name: "mc_session" });

v1.doc31("/openapi.json", {
  openapi: "3.1.0",
  info: {
    title: "Microchat API",
    version: "1.0.0",
    description:
      "Live chat and support inbox. Authenticate with an API token (created by an admin in the panel) as `Authorization: Bearer mct_…`. A token has a scope: `read` (GET only), `write` (also join, leave, send and delete, without admin rights) or `admin` (everything, tokens and webhooks included), and may expire. Errors are `{ error: { code, message } }`.",
  },
  servers: [{ url: "/api/v1" }],
});

v1.use("/conversations/*", requireApiCaller);
v1.use("/conversations", requireApiCaller);
v1.use("/reports/*", requireApiCaller);
v1.use("/operators", requireApiCaller);
v1.use("/tokens", requireApiCaller);
v1.use("/tokens/*", requireApiCaller);
v1.use("/webhooks", requireApiCaller);
v1.use("/webhooks/*", requireApiCaller);
v1.use("/audit", requireApiCaller);
export const routes = v1
  .openapi(
    createRoute({
      method: "get",
      path: "/conversations",
      summary: "List conversations",
      security,
      request: {
        query: z
          .object({
            state: z.enum(["unassigned", "assigned", "mine", "all"]).default("all"),
            before: cursor(queryInt(z.number().int().nonnegative())).openapi({
              description: "lastAt of the last row seen; absent or null for the first page",
            }),
            beforeId: cursor(wire.Id).openapi({ description: "id of the last row seen (breaks lastAt ties)" }),
            limit: queryInt(z.number().int().min(1).max(200)).default(50),
          })
          .strict(),
      },
      responses: {
        200: json(z.object({ conversations: z.array(wire.ConversationSummary), hasMore: z.boolean() })),
        ...errors(400, 401),
      },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const page = await listConversations(c.env, c.get("operator"), {
        view: q.state,
        before: q.before ?? null,
        beforeId: q.beforeId ?? null,
        limit: q.limit,
      });
      return c.json(page, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/conversations/{id}",
      summary: "A conversation's live state",
      security,
      request: { params: idParam },
      responses: { 200: json(z.object({ state: wire.ConversationState })), ...errors(400, 401, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      return c.json({ state: await conversationState(c.env, id) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/conversations/{id}/messages",
      summary: "A page of messages (newest page first; `before` pages back by sequence number)",
      security,
      request: {
        params: idParam,
        query: z
          .object({
            before: cursor(queryInt(z.number().int().positive())).openapi({
              description: "seq of the oldest message seen; absent or null for the newest page",
            }),
            limit: queryInt(z.number().int().min(1).max(LIMITS.historyPageMax)).default(LIMITS.historyPage),
          })
          .strict(),
      },
      responses: {
        200: json(z.object({ messages: z.array(wire.Message), hasMore: z.boolean() })),
        ...errors(400, 401, 404),
      },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const q = c.req.valid("query");
      return c.json(await messagePage(c.env, id, q.before ?? null, q.limit), 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/conversations/{id}/messages",
      summary: "Send a message as the token's operator (join first)",
      security,
      middleware: [limitBody] as const,
      request: {
        params: idParam,
        body: jsonBody(SendMessage),
      },
      responses: {
        201: json(z.object({ message: wire.Message }), "Stored"),
        200: json(z.object({ message: wire.Message }), "Already stored (same clientId)"),
        ...errors(400, 401, 403, 404, 413, 415),
      },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const body = c.req.valid("json");
      const result = await sendMessage(c.env, id, c.get("operator"), {
        clientId: body.clientId ?? `api:${randomId()}`,
        text: body.text,
        channel: body.channel,
      });
      return c.json({ message: result.message }, result.fresh ? 201 : 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/conversations/{id}/join",
      summary: "JOIN: assign the token's operator",
      security,
      request: { params: idParam },
      responses: { 200: json(z.object({ state: wire.ConversationState })), ...errors(400, 401, 403, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      return c.json({ state: await joinConversation(c.env, id, c.get("operator")) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/conversations/{id}/leave",
      summary: "Leave Conversation",
      security,
      request: { params: idParam },
      responses: { 200: json(z.object({ state: wire.ConversationState })), ...errors(400, 401, 403, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      return c.json({ state: await leaveConversation(c.env, id, c.get("operator"), c.req.url) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/conversations/{id}",
      summary:
        "Delete a conversation: messages, files, visitor data (admins, and operators in it unless the workspace allows admins only; recorded in the audit log)",
      security,
      request: { params: idParam },
      responses: { 204: { description: "Deleted" }, ...errors(400, 401, 403, 404) },
    }),
    async (c) => {
      await deleteConversation(c.env, c.get("operator"), c.req.valid("param").id);
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/conversations/{id}/visitor",
      summary: "Visitor info: location, pages viewed, browser, OS, IP",
      security,
      request: { params: idParam },
      responses: { 200: json(z.object({ visitor: wire.VisitorInfo })), ...errors(400, 401, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      return c.json({ visitor: await visitorInfo(c.env, id) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/reports/operators",
      summary: "Report > Operator for a date range",
      security,
      request: {
        query: z
          .object({
            from: queryInt(z.number().int().nonnegative())
              .optional()
              .openapi({ description: "Start, ms since the epoch; default 30 days before `to`" }),
            to: queryInt(z.number().int().positive())
              .optional()
              .openapi({ description: "End, ms since the epoch; default now. At most 366 days after `from`" }),
          })
          .strict(),
      },
      responses: { 200: json(wire.OperatorReport), ...errors(400, 401) },
    }),
    async (c) => {
      const q = c.req.valid("query");
      return c.json(await operatorReport(c.env, q.from, q.to), 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/operators",
      summary: "Operators of the workspace",
      security,
      responses: { 200: json(z.object({ operators: z.array(wire.Operator) })), ...errors(401) },
    }),
    async (c) => c.json({ operators: await workspaceStub(c.env).listOperators() }, 200),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/tokens",
      summary: "API tokens (admins)",
      security,
      responses: { 200: json(z.object({ tokens: z.array(wire.ApiToken) })), ...errors(401, 403) },
    }),
    async (c) => {
      return c.json({ tokens: unwrap(await workspaceStub(c.env).listTokens(c.get("operator"))) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/tokens",
      summary: "Create an API token (admins, admin-scoped tokens); the secret is in this response only",
      security,
      middleware: [limitBody] as const,
      request: {
        body: jsonBody(NewToken),
      },
      responses: {
        201: json(z.object({ token: z.string(), info: wire.ApiToken }), "Created"),
        ...errors(400, 401, 403, 413, 415),
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const input = { name: body.name, scope: body.scope, expiresInDays: body.expiresInDays ?? null };
      return c.json(unwrap(await workspaceStub(c.env).createToken(c.get("operator"), input)), 201);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/tokens/{id}",
      summary: "Revoke an API token (admins)",
      security,
      request: { params: idParam },
      responses: { 204: { description: "Revoked" }, ...errors(400, 401, 403, 404) },
    }),
    async (c) => {
      unwrap(await workspaceStub(c.env).revokeToken(c.get("operator"), c.req.valid("param").id));
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/webhooks",
      summary: "Webhook endpoints (admins)",
      security,
      responses: { 200: json(z.object({ webhooks: z.array(wire.Webhook) })), ...errors(401, 403) },
    }),
    async (c) => {
      return c.json({ webhooks: await listWebhooks(c.env, c.get("operator")) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/webhooks",
      summary: "Register an HTTPS endpoint (admins); the signing secret is in this response only",
      security,
      middleware: [limitBody] as const,
      request: {
        body: jsonBody(NewWebhook),
      },
      responses: {
        201: json(z.object({ webhook: wire.Webhook, secret: z.string() }), "Created"),
        ...errors(400, 401, 403, 413, 415),
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      return c.json(await addWebhook(c.env, c.get("operator"), body.url, body.events), 201);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/webhooks/{id}",
      summary: "Remove a webhook endpoint (admins)",
      security,
      request: { params: idParam },
      responses: { 204: { description: "Removed" }, ...errors(400, 401, 403, 404) },
    }),
    async (c) => {
      await removeWebhook(c.env, c.get("operator"), c.req.valid("param").id);
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/webhooks/{id}/deliveries",
      summary: "Recent deliveries of a webhook (admins)",
      security,
      request: { params: idParam },
      responses: { 200: json(z.object({ deliveries: z.array(wire.WebhookDelivery) })), ...errors(400, 401, 403, 404) },
    }),
    async (c) => {
      return c.json({ deliveries: await webhookDeliveries(c.env, c.get("operator"), c.req.valid("param").id) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/audit",
      summary: "The audit log, newest first (admins): who deleted, erased, added, removed, revoked or changed what",
      security,
      request: { query: AuditQuery },
      responses: {
        200: json(z.object({ entries: z.array(wire.AuditEntry), hasMore: z.boolean() })),
        ...errors(400, 401, 403),
      },
    }),
    async (c) => {
      const q = c.req.valid("query");
      return c.json(unwrap(await workspaceStub(c.env).auditLog(c.get("operator"), q.before ?? null, q.limit)), 200);
    },
  );

/** The type the typed client (`hc<ApiV1>`) is built from. */
export type ApiV1 = typeof routes;
