/**
 * Every operation of `/api/v1`, declared once, as plain data: method, path
 * (OpenAPI's `{id}` form), summary, security, the request schemas and the
 * documented responses. `routes/v1.ts` registers each operation from here and
 * validates with the very schemas named here; `npm run openapi`
 * (scripts/openapi.mjs) turns the same object into the OpenAPI 3.1 document
 * at build time, so the two cannot drift and the Worker never carries the
 * document generator. `RouteConfig` is imported as a type only: nothing of
 * @asteasolutions/zod-to-openapi is bundled. What the document says of the
 * API as a whole (title, servers, the two security schemes `security` names)
 * is in the script.
 */
import type { RouteConfig } from "@asteasolutions/zod-to-openapi";
import * as z from "zod";
import { LIMITS } from "../protocol";
import { AuditQuery, NewToken, NewWebhook, SendMessage } from "./bodies";
import { cursor, errors, idParam, json, jsonBody, queryInt, security } from "./openapi";
import * as wire from "./wire";

export const operations = {
  listConversations: {
    method: "get",
    path: "/conversations",
    summary: "List conversations",
    security,
    request: {
      query: z
        .object({
          state: z.enum(["unassigned", "assigned", "mine", "all"]).default("all"),
          before: cursor(queryInt(z.number().int().nonnegative())).meta({
            description: "lastAt of the last row seen; absent or null for the first page",
          }),
          beforeId: cursor(wire.Id).meta({ description: "id of the last row seen (breaks lastAt ties)" }),
          limit: queryInt(z.number().int().min(1).max(200)).default(50),
        })
        .strict(),
    },
    responses: {
      200: json(z.object({ conversations: z.array(wire.ConversationSummary), hasMore: z.boolean() })),
      ...errors(400, 401),
    },
  },
  conversationState: {
    method: "get",
    path: "/conversations/{id}",
    summary: "A conversation's live state",
    security,
    request: { params: idParam },
    responses: { 200: json(z.object({ state: wire.ConversationState })), ...errors(400, 401, 404) },
  },
  messages: {
    method: "get",
    path: "/conversations/{id}/messages",
    summary: "A page of messages (newest page first; `before` pages back by sequence number)",
    security,
    request: {
      params: idParam,
      query: z
        .object({
          before: cursor(queryInt(z.number().int().positive())).meta({
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
  },
  sendMessage: {
    method: "post",
    path: "/conversations/{id}/messages",
    summary: "Send a message as the token's operator (join first)",
    security,
    request: { params: idParam, body: jsonBody(SendMessage) },
    responses: {
      201: json(z.object({ message: wire.Message }), "Stored"),
      200: json(z.object({ message: wire.Message }), "Already stored (same clientId)"),
      ...errors(400, 401, 403, 404, 413, 415),
    },
  },
  join: {
    method: "post",
    path: "/conversations/{id}/join",
    summary: "JOIN: assign the token's operator",
    security,
    request: { params: idParam },
    responses: { 200: json(z.object({ state: wire.ConversationState })), ...errors(400, 401, 403, 404) },
  },
  leave: {
    method: "post",
    path: "/conversations/{id}/leave",
    summary: "Leave Conversation",
    security,
    request: { params: idParam },
    responses: { 200: json(z.object({ state: wire.ConversationState })), ...errors(400, 401, 403, 404) },
  },
  deleteConversation: {
    method: "delete",
    path: "/conversations/{id}",
    summary:
      "Delete a conversation: messages, files, visitor data (admins, and operators in it unless the workspace allows admins only; recorded in the audit log)",
    security,
    request: { params: idParam },
    responses: { 204: { description: "Deleted" }, ...errors(400, 401, 403, 404) },
  },
  visitor: {
    method: "get",
    path: "/conversations/{id}/visitor",
    summary: "Visitor info: location, pages viewed, browser, OS, IP",
    security,
    request: { params: idParam },
    responses: { 200: json(z.object({ visitor: wire.VisitorInfo })), ...errors(400, 401, 404) },
  },
  operatorReport: {
    method: "get",
    path: "/reports/operators",
    summary: "Report > Operator for a date range",
    security,
    request: {
      query: z
        .object({
          from: queryInt(z.number().int().nonnegative())
            .optional()
            .meta({ description: "Start, ms since the epoch; default 30 days before `to`" }),
          to: queryInt(z.number().int().positive())
            .optional()
            .meta({ description: "End, ms since the epoch; default now. At most 366 days after `from`" }),
        })
        .strict(),
    },
    responses: { 200: json(wire.OperatorReport), ...errors(400, 401) },
  },
  operators: {
    method: "get",
    path: "/operators",
    summary: "Operators of the workspace",
    security,
    responses: { 200: json(z.object({ operators: z.array(wire.Operator) })), ...errors(401) },
  },
  tokens: {
    method: "get",
    path: "/tokens",
    summary: "API tokens (admins)",
    security,
    responses: { 200: json(z.object({ tokens: z.array(wire.ApiToken) })), ...errors(401, 403) },
  },
  createToken: {
    method: "post",
    path: "/tokens",
    summary: "Create an API token (admins, admin-scoped tokens); the secret is in this response only",
    security,
    request: { body: jsonBody(NewToken) },
    responses: {
      201: json(z.object({ token: z.string(), info: wire.ApiToken }), "Created"),
      ...errors(400, 401, 403, 413, 415),
    },
  },
  revokeToken: {
    method: "delete",
    path: "/tokens/{id}",
    summary: "Revoke an API token (admins)",
    security,
    request: { params: idParam },
    responses: { 204: { description: "Revoked" }, ...errors(400, 401, 403, 404) },
  },
  webhooks: {
    method: "get",
    path: "/webhooks",
    summary: "Webhook endpoints (admins)",
    security,
    responses: { 200: json(z.object({ webhooks: z.array(wire.Webhook) })), ...errors(401, 403) },
  },
  addWebhook: {
    method: "post",
    path: "/webhooks",
    summary: "Register an HTTPS endpoint (admins); the signing secret is in this response only",
    security,
    request: { body: jsonBody(NewWebhook) },
    responses: {
      201: json(z.object({ webhook: wire.Webhook, secret: z.string() }), "Created"),
      ...errors(400, 401, 403, 413, 415),
    },
  },
  removeWebhook: {
    method: "delete",
    path: "/webhooks/{id}",
    summary: "Remove a webhook endpoint (admins)",
    security,
    request: { params: idParam },
    responses: { 204: { description: "Removed" }, ...errors(400, 401, 403, 404) },
  },
  webhookDeliveries: {
    method: "get",
    path: "/webhooks/{id}/deliveries",
    summary: "Recent deliveries of a webhook (admins)",
    security,
    request: { params: idParam },
    responses: { 200: json(z.object({ deliveries: z.array(wire.WebhookDelivery) })), ...errors(400, 401, 403, 404) },
  },
  audit: {
    method: "get",
    path: "/audit",
    summary: "The audit log, newest first (admins): who deleted, erased, added, removed, revoked or changed what",
    security,
    request: { query: AuditQuery },
    responses: {
      200: json(z.object({ entries: z.array(wire.AuditEntry), hasMore: z.boolean() })),
      ...errors(400, 401, 403),
    },
  },
} as const satisfies Record<string, RouteConfig>;
