/**
 * What the Worker answers, as zod schemas: each `satisfies` its type in
 * `protocol.ts`, so the OpenAPI document of `/api/v1` (generated from these)
 * cannot drift from what the panel and widget are typed against. Request
 * bodies and socket frames are in `bodies.ts` and `frames.ts`.
 */
import * as z from "zod";
import { ID_PATTERN } from "../lib/crypto";
import type * as protocol from "../protocol";

export const Id = z.string().regex(ID_PATTERN).meta({ example: "q3Zr0bqj2E1xQ8m0cHk1wA" });
export const ErrorBody = z
  .object({ error: z.object({ code: z.string(), message: z.string() }) })
  .meta({ id: "Error" }) satisfies z.ZodType<protocol.ApiError>;
export const OperatorRef = z
  .object({ id: z.string(), name: z.string() })
  .meta({ id: "OperatorRef" }) satisfies z.ZodType<protocol.OperatorRef>;
export const VisitorRef = z
  .object({ id: z.string(), name: z.string().nullable(), email: z.string().nullable() })
  .meta({ id: "VisitorRef" }) satisfies z.ZodType<protocol.VisitorRef>;
const Status = z.enum(["unassigned", "assigned", "idle"]) satisfies z.ZodType<protocol.ConversationStatus>;
export const ConversationSummary = z
  .object({
    id: z.string(),
    status: Status,
    visitor: VisitorRef,
    operators: z.array(OperatorRef),
    preview: z.string(),
    previewRole: z.enum(["visitor", "operator", "system"]),
    lastAt: z.number().int(),
    unread: z.number().int(),
    createdAt: z.number().int(),
  })
  .meta({ id: "ConversationSummary" }) satisfies z.ZodType<protocol.ConversationSummary>;
export const ConversationState = z
  .object({
    id: z.string(),
    status: Status,
    visitor: VisitorRef,
    operators: z.array(OperatorRef),
    lastSeq: z.number().int(),
    visitorOnline: z.boolean(),
    createdAt: z.number().int(),
    survey: z.object({ id: z.string(), operators: z.array(z.string()) }).nullable(),
  })
  .meta({ id: "ConversationState" }) satisfies z.ZodType<protocol.ConversationState>;
export const FileRef = z
  .object({
    id: z.string(),
    name: z.string(),
    size: z.number().int(),
    type: z.enum([
      "image/png",
      "image/jpeg",
      "image/gif",
      "image/webp",
      "application/pdf",
      "application/zip",
      "text/plain",
      "message/rfc822",
    ]),
    image: z.boolean(),
  })
  .meta({ id: "File" }) satisfies z.ZodType<protocol.FileRef>;
export const EmailMeta = z
  .object({
    subject: z.string(),
    from: z.object({ name: z.string(), address: z.string() }),
    to: z.string(),
    messageId: z.string(),
    html: z.string().optional().meta({ description: "Sanitised HTML body" }),
    fullText: z.string().optional().meta({ description: "The text before the quoted reply was trimmed" }),
    attachments: z.array(FileRef).optional(),
    skipped: z.array(z.string()).optional().meta({ description: "Attachments not stored, by name" }),
    auto: z.boolean().optional().meta({ description: "An auto-reply, bounce or list mail" }),
    unverified: z.string().optional().meta({
      description: "Why the sender could not be verified; such a mail opens a conversation of its own",
    }),
    cut: z
      .array(z.string())
      .optional()
      .meta({ description: "What of the mail is not shown (over a limit); `original` has it all" }),
    original: FileRef.optional().meta({ description: "The mail as it arrived (.eml), kept when part is cut" }),
  })
  .meta({ id: "EmailMeta" }) satisfies z.ZodType<protocol.EmailMeta>;
export const Message = z
  .object({
    seq: z.number().int(),
    clientId: z.string(),
    kind: z.enum(["text", "file", "event"]),
    author: z.object({ role: z.enum(["visitor", "operator", "system"]), id: z.string(), name: z.string() }),
    text: z.string(),
    at: z.number().int(),
    channel: z.enum(["chat", "email"]).optional(),
    event: z.enum(["joined", "left", "rated"]).optional(),
    rating: z.number().int().optional(),
    file: FileRef.optional(),
    email: EmailMeta.optional(),
    delivery: z.object({ state: z.enum(["sending", "sent", "failed"]), error: z.string().optional() }).optional(),
  })
  .meta({ id: "Message" }) satisfies z.ZodType<protocol.Message>;
export const Operator = z
  .object({ id: z.string(), name: z.string(), email: z.string(), admin: z.boolean(), createdAt: z.number().int() })
  .meta({ id: "Operator" }) satisfies z.ZodType<protocol.Operator>;
export const TokenScope = z.enum(["read", "write", "admin"]).meta({
  id: "TokenScope",
  description:
    "read: GET only. write: also join, leave, send and delete, as the operator without admin rights. admin: everything, tokens and webhooks included.",
}) satisfies z.ZodType<protocol.TokenScope>;
export const ApiToken = z
  .object({
    id: z.string(),
    name: z.string(),
    operatorId: z.string(),
    scope: TokenScope,
    createdAt: z.number().int(),
    expiresAt: z.number().int().nullable().meta({ description: "When it stops working; null: never" }),
    lastUsedAt: z.number().int().nullable().meta({ description: "The last request made with it, to the minute" }),
  })
  .meta({ id: "ApiToken" }) satisfies z.ZodType<protocol.ApiTokenInfo>;
export const WebhookEvent = z.enum([
  "conversation.created",
  "message.created",
  "conversation.joined",
  "conversation.left",
  "conversation.deleted",
  "rating.submitted",
]) satisfies z.ZodType<protocol.WebhookEvent>;
export const Webhook = z
  .object({ id: z.string(), url: z.string(), events: z.array(WebhookEvent), createdAt: z.number().int() })
  .meta({ id: "Webhook" }) satisfies z.ZodType<protocol.WebhookInfo>;
export const WebhookDelivery = z
  .object({
    id: z.string(),
    event: WebhookEvent,
    status: z.enum(["pending", "delivered", "failed"]),
    attempts: z.number().int(),
    lastError: z.string().nullable(),
    responseStatus: z.number().int().nullable(),
    createdAt: z.number().int(),
    deliveredAt: z.number().int().nullable(),
  })
  .meta({ id: "WebhookDelivery" }) satisfies z.ZodType<protocol.WebhookDeliveryInfo>;
export const OperatorReport = z
  .object({
    from: z.number().int(),
    to: z.number().int(),
    operators: z.array(
      z.object({
        id: z.string(),
        name: z.string(),
        averageRating: z.number().nullable(),
        ratings: z.number().int(),
        distribution: z.array(z.number().int()).meta({ description: "Count of ratings 1, 2, 3, 4, 5" }),
        conversationsJoined: z.number().int(),
        messagesSent: z.number().int(),
        medianFirstResponseMs: z.number().nullable(),
      }),
    ),
    series: z.array(z.object({ day: z.string(), ratings: z.number().int(), average: z.number().nullable() })),
  })
  .meta({ id: "OperatorReportResponse" }) satisfies z.ZodType<protocol.OperatorReportResponse>;
const PageView = z.object({
  url: z.string(),
  title: z.string(),
  at: z.number().int(),
  ms: z.number().int().nullable(),
}) satisfies z.ZodType<protocol.PageView>;
const NameVersion = z.object({ name: z.string(), version: z.string().nullable() }).nullable();
export const VisitorInfo = z
  .object({
    id: z.string(),
    name: z.string().nullable(),
    email: z.string().nullable(),
    online: z.boolean(),
    lastSeen: z.number().int().nullable(),
    ip: z.string().nullable(),
    browser: NameVersion,
    os: NameVersion,
    device: z.enum(["desktop", "mobile", "tablet", "tv", "bot"]).nullable(),
    bot: z.boolean(),
    location: z
      .object({
        country: z.string().nullable(),
        region: z.string().nullable(),
        city: z.string().nullable(),
        latitude: z.number().nullable(),
        longitude: z.number().nullable(),
        timezone: z.string().nullable(),
      })
      .nullable(),
    referrer: z.string().nullable(),
    pages: z.object({
      count: z.number().int(),
      items: z.array(PageView),
    }),
    web: z.boolean(),
    mail: z
      .object({
        to: z.string(),
        count: z.number().int(),
        firstAt: z.number().int(),
        lastAt: z.number().int(),
        unverified: z.number().int(),
      })
      .nullable(),
  })
  .meta({ id: "VisitorInfo" }) satisfies z.ZodType<protocol.VisitorInfo>;
const AuditAction = z.enum([
  "conversation.deleted",
  "person.erased",
  "operator.added",
  "operator.removed",
  "sessions.ended",
  "token.created",
  "token.revoked",
  "webhook.added",
  "webhook.removed",
  "settings.changed",
]) satisfies z.ZodType<protocol.AuditAction>;
export const AuditEntry = z
  .object({
    id: z.number().int().meta({ description: "Increasing; page back with before=<id>" }),
    at: z.number().int(),
    actor: z.object({
      id: z.string().nullable().meta({ description: "null: Microchat itself" }),
      name: z.string().meta({ description: "As they were named then" }),
      token: z.string().nullable().meta({ description: "The API token it was done with, by name" }),
    }),
    action: AuditAction,
    target: z.string().meta({ description: "A conversation id, an operator, a token's name, a webhook URL…" }),
    detail: z.string().nullable(),
  })
  .meta({ id: "AuditEntry" }) satisfies z.ZodType<protocol.AuditEntry>;
