/**
 * Request bodies, as zod schemas: the panel's HTTP routes and `/api/v1` read
 * their JSON through these (panel routes with `readBody` in `http.ts`,
 * `/api/v1` with `valid` there, its operations in `operations.ts`, which also
 * document them). Text fields are the shared schemas of `text.ts`, so every
 * path cleans text by one rule.
 * Bodies that say which fields they take refuse any other (`strictObject`).
 */
import * as z from "zod";
import { ID_PATTERN } from "../lib/crypto";
import { LIMITS, type PageView, type TokenScope, type WorkspaceSettings } from "../protocol";
import { cursor, queryInt } from "./openapi";
import { WebhookEvent } from "./wire";
import { clientId, cleanLine, emailAddress, isEmail, line, messageText, personName } from "./text";
import { webhookTargetProblem } from "./webhook-url";

// ---------------------------------------------------------------------------
// Operators and settings (panel)

const operatorEmail = z
  .string({ error: "Email is required" })
  .trim()
  .min(3, { error: "Email must be 3–254 characters" })
  .max(254, { error: "Email must be 3–254 characters" })
  .toLowerCase()
  .refine(isEmail, { error: "That email address does not look right" });

/** Passwords are secrets, not text: never cleaned or trimmed, only measured. */
const password = z
  .string({ error: "Password must be 10–256 characters" })
  .min(10, { error: "Password must be 10–256 characters" })
  .max(256, { error: "Password must be 10–256 characters" });

/** `POST /api/setup`: the first admin. */
export const Setup = z.object({ name: line("Name", 1, 80), email: operatorEmail, password });

/** `POST /api/operators`: another operator (admins). */
export const NewOperator = Setup.extend({
  admin: z.boolean({ error: "admin must be true or false" }).default(false),
});

const credentialsRequired = "Email and password are required";
/** `POST /api/auth/login`. */
export const Login = z.object({
  email: z.string({ error: credentialsRequired }).trim().toLowerCase().min(1, { error: credentialsRequired }),
  password: z
    .string({ error: credentialsRequired })
    .min(1, { error: credentialsRequired })
    .max(256, { error: credentialsRequired }),
});

/** `PUT /api/operators/me/status`. */
export const OperatorStatus = z.object({
  status: z.enum(["online", "away"], { error: 'status must be "online" or "away"' }),
});

const sendingAddress = "The sending address must be a plain email address";
const retention = "retentionDays must be a whole number of days from 0 (off) to 3650";
/** `PUT /api/settings` (admins): any of the settings. */
export const SettingsUpdate = z.strictObject({
  emailAddress: z
    .string({ error: sendingAddress })
    .trim()
    .toLowerCase()
    // A plus address is where replies of one thread go (support+token@…); it cannot be the sender.
    .refine((a) => isEmail(a) && !a.includes("+"), { error: sendingAddress })
    .optional(),
  emailName: line("Name", 1, 80).optional(),
  retentionDays: z
    .number({ error: retention })
    .int({ error: retention })
    .min(0, { error: retention })
    .max(3650, { error: retention })
    .optional(),
  surveyByEmail: z.boolean({ error: "surveyByEmail must be true or false" }).optional(),
  deleteBy: z
    .enum(["admins", "admins_and_joined"], { error: 'deleteBy must be "admins" or "admins_and_joined"' })
    .optional(),
}) satisfies z.ZodType<Partial<WorkspaceSettings>>;

/** `PATCH /api/conversations/:id/visitor`: an operator corrects the visitor's name or email (null clears it). */
export const VisitorUpdate = z.strictObject({
  name: personName.nullable().optional(),
  email: emailAddress.nullable().optional(),
});

/** `POST /api/erasure` (admins): everything of one visitor or one email address. */
export const Erasure = z
  .object({
    visitorId: z.string().regex(ID_PATTERN, { error: "visitorId is not a visitor id" }).optional(),
    email: z
      .string()
      .trim()
      .toLowerCase()
      .refine(isEmail, { error: "That email address does not look right" })
      .optional(),
  })
  .refine((b) => b.visitorId !== undefined || b.email !== undefined, { error: "Give a visitorId or an email" });

// ---------------------------------------------------------------------------
// The widget loader (cross-site; lenient where the host page's data is odd)

/** Only http(s) URLs, without credentials, at most 2,000 characters; anything else is null. */
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

/** A field the loader may send in any shape: absent or not a string reads as absent. */
const optionalString = z.string().optional().catch(undefined);

const badView = "Each view needs an id, an http(s) url, a time and optionally ms on page";
/** One page view the loader recorded (the page's title is the host page's text: cleaned, cut at 300). */
const PageViewInput = z.object(
  {
    id: z.string({ error: badView }).regex(ID_PATTERN, { error: badView }),
    url: z
      .string({ error: badView })
      .transform((u, ctx) => safeUrl(u) ?? (ctx.addIssue({ code: "custom", message: badView }), z.NEVER)),
    title: optionalString.transform((t) => (t === undefined ? "" : cleanLine(t).slice(0, 300))),
    // Clamped: a visitor's clock may be off, but never into the future by more than a minute.
    at: z.number({ error: badView }).transform((at) => Math.min(Math.max(0, Math.floor(at)), Date.now() + 60_000)),
    ms: z
      .number({ error: badView })
      .int({ error: badView })
      .min(0, { error: badView })
      .nullish()
      .transform((ms) => ms ?? null),
  },
  { error: badView },
) satisfies z.ZodType<PageView & { id: string }>;

/** `POST /api/visitor/pageviews` (after its token is checked). */
export const PageViews = z.object({
  views: z
    .array(PageViewInput, { error: "views must be a list of 1–20 page views" })
    .min(1, { error: "views must be a list of 1–20 page views" })
    .max(20, { error: "views must be a list of 1–20 page views" }),
  referrer: optionalString.transform(safeUrl),
});

/**
 * `POST /api/visitor/identify` (after its site key is checked): the host
 * site's user. Only the id is required; a name or email that is not usable is
 * dropped rather than refused, because the site, not the visitor, sent it.
 */
export const Identify = z.object({
  token: optionalString,
  user: z.object(
    {
      id: z
        .string({ error: "user.id is required" })
        .min(1, { error: "user.id is required" })
        .max(128, { error: "user.id is required" }),
      name: optionalString.transform((n) => (n === undefined ? null : cleanLine(n).slice(0, LIMITS.nameChars) || null)),
      email: optionalString.transform((e) => (e !== undefined && isEmail(e.trim()) ? e.trim() : null)),
      hash: optionalString,
    },
    { error: "user.id is required" },
  ),
});

// ---------------------------------------------------------------------------
// /api/v1

/** `POST /api/v1/conversations/{id}/messages`. */
export const SendMessage = z
  .object({
    text: messageText,
    channel: z.enum(["chat", "email"]).default("chat"),
    clientId: clientId.optional().meta({ description: "Idempotency key: resending it stores the message once" }),
  })
  .strict();

const expiry = "expiresInDays must be a whole number of days from 1 to 3650, or null for no expiry";
/** `POST /api/v1/tokens`: a name, a scope (no default: the admin chooses what it may do) and an optional expiry. */
export const NewToken = z
  .object({
    name: line("Name", 1, 80),
    scope: z
      .enum(["read", "write", "admin"], { error: 'scope must be "read", "write" or "admin"' })
      .meta({ description: "What the token may do (see TokenScope)" }) satisfies z.ZodType<TokenScope>,
    expiresInDays: z
      .number({ error: expiry })
      .int({ error: expiry })
      .min(1, { error: expiry })
      .max(3650, { error: expiry })
      .nullable()
      .optional()
      .meta({ description: "Days until it stops working; absent or null: until revoked" }),
  })
  .strict();

/** `POST /api/v1/webhooks`. */
export const NewWebhook = z
  .object({
    // A public HTTPS address only: see webhook-url.ts for what is refused and why.
    url: z
      .string()
      .url()
      .max(2000)
      .superRefine((u, ctx) => {
        const problem = webhookTargetProblem(u);
        if (problem) ctx.addIssue({ code: "custom", message: problem });
      }),
    events: z.array(WebhookEvent).min(1),
  })
  .strict();

const auditBefore = "before must be the id of an audit entry (a whole number)";
const auditLimit = "limit must be a whole number from 1 to 200";
/** `GET /api/audit` and `/api/v1/audit`: a page of the audit log. */
export const AuditQuery = z
  .object({
    before: cursor(
      queryInt(z.number({ error: auditBefore }).int({ error: auditBefore }).positive({ error: auditBefore })),
    ).meta({
      description: "id of the oldest entry seen; absent or null for the newest page",
    }),
    limit: queryInt(
      z
        .number({ error: auditLimit })
        .int({ error: auditLimit })
        .min(1, { error: auditLimit })
        .max(200, { error: auditLimit }),
    ).default(50),
  })
  .strict();
