/**
 * The documented REST API, `/api/v1`: everything the panel can do, for
 * teams connecting Microchat to their own systems.
 *
 * Routes are declared with @hono/zod-openapi: the same zod schemas validate
 * input (unknown fields are refused) and generate the OpenAPI 3.1 document
 * served at `/api/v1/openapi.json`. Authentication: an API token
 * (`Authorization: Bearer mct_…`, acting as the admin who created it) or the
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
 *   GET    /tokens · POST /tokens { name } · DELETE /tokens/{id}        (admins)
 *   GET    /webhooks · POST /webhooks · DELETE /webhooks/{id}           (admins)
 *   GET    /webhooks/{id}/deliveries                                     (admins)
 */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { randomId } from "../lib/crypto";
import { currentOperator, errorResponse, fail, unwrap, workspaceStub, type AppEnv } from "../lib/http";
import {
  LIMITS,
  type EmailMeta,
  type FileRef,
  type Message as ProtocolMessage,
  type OperatorReportResponse,
  type VisitorInfo as VisitorInfoType,
} from "../protocol";
import { conversationStub, deleteConversation, joinConversation, leaveConversation } from "./conversations";
import { reportRange } from "./reports";

// ---------------------------------------------------------------------------
// Schemas (shared by validation and the OpenAPI document)

const Id = z
  .string()
  .regex(/^[A-Za-z0-9_-]{22}$/)
  .openapi({ example: "q3Zr0bqj2E1xQ8m0cHk1wA" });
const ErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }) }).openapi("Error");
const OperatorRef = z.object({ id: z.string(), name: z.string() }).openapi("OperatorRef");
const VisitorRef = z
  .object({ id: z.string(), name: z.string().nullable(), email: z.string().nullable() })
  .openapi("VisitorRef");
const Status = z.enum(["unassigned", "assigned", "idle"]);
const Summary = z
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
  .openapi("ConversationSummary");
const State = z
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
  .openapi("ConversationState");
const FileRefSchema = z
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
    ]),
    image: z.boolean(),
  })
  .openapi("File") satisfies z.ZodType<FileRef>;
const EmailMetaSchema = z
  .object({
    subject: z.string(),
    from: z.object({ name: z.string(), address: z.string() }),
    to: z.string(),
    messageId: z.string(),
    html: z.string().optional().openapi({ description: "Sanitised HTML body" }),
    fullText: z.string().optional().openapi({ description: "The text before the quoted reply was trimmed" }),
    attachments: z.array(FileRefSchema).optional(),
    skipped: z.array(z.string()).optional().openapi({ description: "Attachments not stored, by name" }),
    auto: z.boolean().optional().openapi({ description: "An auto-reply, bounce or list mail" }),
  })
  .openapi("EmailMeta") satisfies z.ZodType<EmailMeta>;
const Message = z
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
    file: FileRefSchema.optional(),
    email: EmailMetaSchema.optional(),
    delivery: z.object({ state: z.enum(["sending", "sent", "failed"]), error: z.string().optional() }).optional(),
  })
  .openapi("Message") satisfies z.ZodType<ProtocolMessage>;
const OperatorSchema = z
  .object({ id: z.string(), name: z.string(), email: z.string(), admin: z.boolean(), createdAt: z.number().int() })
  .openapi("Operator");
const TokenInfo = z
  .object({
    id: z.string(),
    name: z.string(),
    operatorId: z.string(),
    createdAt: z.number().int(),
    lastUsedAt: z.number().int().nullable(),
  })
  .openapi("ApiToken");
const WebhookEvent = z.enum([
  "conversation.created",
  "message.created",
  "conversation.joined",
  "conversation.left",
  "conversation.deleted",
  "rating.submitted",
]);
const Webhook = z
  .object({ id: z.string(), url: z.string(), events: z.array(WebhookEvent), createdAt: z.number().int() })
  .openapi("Webhook");
const Delivery = z
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
  .openapi("WebhookDelivery");
const Report = z
  .object({
    from: z.number().int(),
    to: z.number().int(),
    operators: z.array(
      z.object({
        id: z.string(),
        name: z.string(),
        averageRating: z.number().nullable(),
        ratings: z.number().int(),
        distribution: z.array(z.number().int()).openapi({ description: "Count of ratings 1, 2, 3, 4, 5" }),
        conversationsJoined: z.number().int(),
        messagesSent: z.number().int(),
        medianFirstResponseMs: z.number().nullable(),
      }),
    ),
    series: z.array(z.object({ day: z.string(), ratings: z.number().int(), average: z.number().nullable() })),
  })
  .openapi("OperatorReportResponse") satisfies z.ZodType<OperatorReportResponse>;
const NameVersion = z.object({ name: z.string(), version: z.string().nullable() }).nullable();
const VisitorInfo = z
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
      items: z.array(
        z.object({ url: z.string(), title: z.string(), at: z.number().int(), ms: z.number().int().nullable() }),
      ),
    }),
    web: z.boolean(),
    mail: z
      .object({ to: z.string(), count: z.number().int(), firstAt: z.number().int(), lastAt: z.number().int() })
      .nullable(),
  })
  .openapi("VisitorInfo") satisfies z.ZodType<VisitorInfoType>;

/** Largest JSON body any /api/v1 route reads. */
const MAX_BODY_BYTES = 64 * 1024;

const problems = {
  400: "Invalid input",
  401: "Missing or invalid credentials",
  403: "Not allowed: admins only, join first, or a cross-site request",
  404: "Unknown id",
  413: `Body larger than ${MAX_BODY_BYTES / 1024} KiB`,
  415: "Body is not JSON (Content-Type: application/json)",
} as const;
type Problem = keyof typeof problems;
/**
 * The error responses one operation can give, each `{ error: { code, message } }`.
 * Listed per operation, exactly: test/openapi-conformance.test.ts makes every
 * listed status happen and refuses any status the document does not list.
 */
function errors<S extends Problem>(...statuses: S[]) {
  const out = {} as {
    [K in S]: { description: string; content: { "application/json": { schema: typeof ErrorBody } } };
  };
  for (const status of statuses) {
    out[status] = { description: problems[status], content: { "application/json": { schema: ErrorBody } } };
  }
  return out;
}
const json = <T extends z.ZodType>(schema: T, description = "OK") => ({
  description,
  content: { "application/json": { schema } },
});
/**
 * A whole number in the query string. Not `z.coerce.number()`: that reads ""
 * and null as 0, and the OpenAPI generator, which probes a schema with null
 * and undefined, then documented such parameters as nullable and optional
 * (`from` of the report looked optional but was required).
 */
const queryInt = (n: z.ZodNumber) =>
  z.preprocess((v) => (typeof v === "string" && /^-?\d{1,16}$/.test(v) ? Number(v) : v), n);
/** A paging cursor: absent, empty or `null` (as generated clients send a null) all mean the first page. */
const cursor = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (v === "" || v === "null" ? null : v), schema.nullable()).optional();

/**
 * The body limit of the operations that read one; runs after authentication,
 * so a stranger's body is never read. The longest valid body (a 4,000-character
 * message, every character escaped) is well under it.
 */
const limitBody = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: () => errorResponse(413, "too_large", `Body is larger than ${MAX_BODY_BYTES / 1024} KiB`),
});
/**
 * A JSON request body. `required` matters beyond the document: without it
 * zod-openapi lets a request with no Content-Type through unvalidated, as `{}`.
 */
const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { "application/json": { schema } },
});
const idParam = z.object({ id: Id.openapi({ param: { name: "id", in: "path" } }) });
const security: Record<string, string[]>[] = [{ bearer: [] }, { cookie: [] }];

// ---------------------------------------------------------------------------
// Authentication: API token or panel session

const authenticate: MiddlewareHandler<AppEnv> = async (c, next) => {
  const header = c.req.header("Authorization");
  if (header !== undefined) {
    const match = /^Bearer (\S+)$/.exec(header);
    const operator = match ? await workspaceStub(c.env).authenticateToken(match[1]!) : null;
    if (!operator) fail(401, "unauthorized", "API token is missing, revoked or invalid");
    c.set("operator", operator);
  } else if (!(await currentOperator(c))) {
    fail(401, "unauthorized", "Send an API token (Authorization: Bearer …) or sign in");
  }
  await next();
};

function requireAdmin(c: Context<AppEnv>): void {
  if (!c.get("operator").admin) fail(403, "forbidden", "Only admins can do this");
}

// ---------------------------------------------------------------------------

export const v1 = new OpenAPIHono<AppEnv>({
  // Every schema failure (params, query, body) becomes the JSON error shape;
  // body parsing failures (malformed JSON, wrong media type) are HTTPExceptions
  // that the app's onError turns into the same shape (lib/http errorFromException).
  defaultHook: (result) => {
    if (!result.success) {
      const issue = result.error.issues[0];
      const where = issue?.path.length ? `${issue.path.join(".")}: ` : "";
      return errorResponse(400, "validation_error", `${where}${issue?.message ?? "invalid input"}`);
    }
  },
});

v1.openAPIRegistry.registerComponent("securitySchemes", "bearer", { type: "http", scheme: "bearer" });
v1.openAPIRegistry.registerComponent("securitySchemes", "cookie", { type: "apiKey", in: "cookie", name: "mc_session" });

v1.doc31("/openapi.json", {
  openapi: "3.1.0",
  info: {
    title: "Microchat API",
    version: "1.0.0",
    description:
      "Live chat and support inbox. Authenticate with an API token (created by an admin in the panel) as `Authorization: Bearer mct_…`. Errors are `{ error: { code, message } }`.",
  },
  servers: [{ url: "/api/v1" }],
});

v1.use("/conversations/*", authenticate);
v1.use("/conversations", authenticate);
v1.use("/reports/*", authenticate);
v1.use("/operators", authenticate);
v1.use("/tokens", authenticate);
v1.use("/tokens/*", authenticate);
v1.use("/webhooks", authenticate);
v1.use("/webhooks/*", authenticate);
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
            beforeId: cursor(Id).openapi({ description: "id of the last row seen (breaks lastAt ties)" }),
            limit: queryInt(z.number().int().min(1).max(200)).default(50),
          })
          .strict(),
      },
      responses: {
        200: json(z.object({ conversations: z.array(Summary), hasMore: z.boolean() })),
        ...errors(400, 401),
      },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const page = await workspaceStub(c.env).listConversations(
        q.state,
        c.get("operator").id,
        q.before ?? null,
        q.limit,
        q.beforeId ?? null,
      );
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
      responses: { 200: json(z.object({ state: State })), ...errors(400, 401, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      return c.json({ state: unwrap(await conversationStub(c.env, id).getState(id, c.env.SITE_KEY)) }, 200);
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
        200: json(z.object({ messages: z.array(Message), hasMore: z.boolean() })),
        ...errors(400, 401, 404),
      },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const q = c.req.valid("query");
      return c.json(
        unwrap(await conversationStub(c.env, id).getMessages(id, c.env.SITE_KEY, q.before ?? null, q.limit)),
        200,
      );
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
        body: jsonBody(
          z
            .object({
              text: z.string().trim().min(1).max(LIMITS.messageChars),
              channel: z.enum(["chat", "email"]).default("chat"),
              clientId: z
                .string()
                .regex(/^[A-Za-z0-9_:.-]{1,64}$/)
                .optional()
                .openapi({ description: "Idempotency key: resending it stores the message once" }),
            })
            .strict(),
        ),
      },
      responses: {
        201: json(z.object({ message: Message }), "Stored"),
        200: json(z.object({ message: Message }), "Already stored (same clientId)"),
        ...errors(400, 401, 403, 404, 413, 415),
      },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const body = c.req.valid("json");
      const op = c.get("operator");
      const result = unwrap(
        await conversationStub(c.env, id).sendAsOperator(
          id,
          c.env.SITE_KEY,
          { role: "operator", id: op.id, name: op.name },
          body.clientId ?? `api:${randomId()}`,
          body.text,
          body.channel,
        ),
      );
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
      responses: { 200: json(z.object({ state: State })), ...errors(400, 401, 403, 404) },
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
      responses: { 200: json(z.object({ state: State })), ...errors(400, 401, 403, 404) },
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
      summary: "Delete a conversation: messages, files, visitor data",
      security,
      request: { params: idParam },
      responses: { 204: { description: "Deleted" }, ...errors(400, 401, 403, 404) },
    }),
    async (c) => {
      await deleteConversation(c.env, c.req.valid("param").id);
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
      responses: { 200: json(z.object({ visitor: VisitorInfo })), ...errors(400, 401, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      return c.json({ visitor: unwrap(await conversationStub(c.env, id).visitorInfo(id, c.env.SITE_KEY)) }, 200);
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
      responses: { 200: json(Report), ...errors(400, 401) },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const { from, to } = reportRange(q.from, q.to);
      return c.json(await workspaceStub(c.env).operatorReport(from, to), 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/operators",
      summary: "Operators of the workspace",
      security,
      responses: { 200: json(z.object({ operators: z.array(OperatorSchema) })), ...errors(401) },
    }),
    async (c) => c.json({ operators: await workspaceStub(c.env).listOperators() }, 200),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/tokens",
      summary: "API tokens (admins)",
      security,
      responses: { 200: json(z.object({ tokens: z.array(TokenInfo) })), ...errors(401, 403) },
    }),
    async (c) => {
      requireAdmin(c);
      return c.json({ tokens: unwrap(await workspaceStub(c.env).listTokens(c.get("operator"))) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/tokens",
      summary: "Create an API token (admins); the secret is in this response only",
      security,
      middleware: [limitBody] as const,
      request: {
        body: jsonBody(z.object({ name: z.string().trim().min(1).max(80) }).strict()),
      },
      responses: {
        201: json(z.object({ token: z.string(), info: TokenInfo }), "Created"),
        ...errors(400, 401, 403, 413, 415),
      },
    }),
    async (c) => {
      requireAdmin(c);
      return c.json(unwrap(await workspaceStub(c.env).createToken(c.get("operator"), c.req.valid("json").name)), 201);
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
      requireAdmin(c);
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
      responses: { 200: json(z.object({ webhooks: z.array(Webhook) })), ...errors(401, 403) },
    }),
    async (c) => {
      requireAdmin(c);
      return c.json({ webhooks: unwrap(await workspaceStub(c.env).listWebhooks(c.get("operator"))) }, 200);
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
        body: jsonBody(
          z
            .object({
              url: z
                .string()
                .url()
                .max(2000)
                .refine((u) => u.startsWith("https://"), "url must be https"),
              events: z.array(WebhookEvent).min(1),
            })
            .strict(),
        ),
      },
      responses: {
        201: json(z.object({ webhook: Webhook, secret: z.string() }), "Created"),
        ...errors(400, 401, 403, 413, 415),
      },
    }),
    async (c) => {
      requireAdmin(c);
      const body = c.req.valid("json");
      return c.json(
        unwrap(await workspaceStub(c.env).addWebhook(c.get("operator"), body.url, [...new Set(body.events)])),
        201,
      );
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
      requireAdmin(c);
      unwrap(await workspaceStub(c.env).removeWebhook(c.get("operator"), c.req.valid("param").id));
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
      responses: { 200: json(z.object({ deliveries: z.array(Delivery) })), ...errors(400, 401, 403, 404) },
    }),
    async (c) => {
      requireAdmin(c);
      const deliveries = unwrap(
        await workspaceStub(c.env).webhookDeliveries(c.get("operator"), c.req.valid("param").id),
      );
      return c.json({ deliveries }, 200);
    },
  );

/** The type the typed client (`hc<ApiV1>`) is built from. */
export type ApiV1 = typeof routes;
