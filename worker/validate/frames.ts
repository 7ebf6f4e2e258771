/**
 * Frames arriving on a socket: the conversation socket (visitor widget and
 * operator panel alike) and the panel's workspace socket. Each frame type is
 * one zod schema that `satisfies` its member of the protocol union; the text
 * fields are the same schemas `/api/v1` and the panel's HTTP routes use, so a
 * message is cleaned by one rule whichever way it arrives. The result is a
 * typed frame, or the error the socket answers with (the socket stays open).
 */
import * as z from "zod";
import type { ClientFrame, ErrorCode, PanelClientFrame } from "../protocol";
import { LIMITS } from "../protocol";
import { cleanText, clientId, CLIENT_ID, emailAddress, messageText, personName, surveyComment } from "./text";

/** A checked conversation-socket frame, or why it was refused (with the send's clientId when it was readable). */
export type FrameResult =
  { ok: true; frame: ClientFrame } | { ok: false; code: ErrorCode; message: string; clientId?: string };

/** A checked panel-socket frame, or why it was refused. */
export type PanelFrameResult =
  { ok: true; frame: PanelClientFrame } | { ok: false; code: "bad_frame" | "unknown_type"; message: string };

const seq = (words: string) => z.number({ error: words }).int({ error: words }).min(0, { error: words });
const surveyId = (frame: string) =>
  z.string({ error: `${frame}.surveyId is required` }).max(64, { error: `${frame}.surveyId is required` });

const rating = "rate.rating must be a whole number from 1 to 5";

/** One schema per frame type, each checked against its member of `ClientFrame`. */
const CLIENT_FRAMES = {
  hello: z.object({ type: z.literal("hello"), lastSeq: seq("hello.lastSeq must be a non-negative integer") }),
  send: z.object({
    type: z.literal("send"),
    clientId,
    text: messageText,
    channel: z.enum(["chat", "email"], { error: 'send.channel must be "chat" or "email"' }).optional(),
  }),
  history: z.object({
    type: z.literal("history"),
    beforeSeq: seq("history.beforeSeq must be a non-negative integer"),
    limit: seq("history.limit must be a positive integer")
      .min(1, { error: "history.limit must be a positive integer" })
      .optional(),
  }),
  read: z.object({ type: z.literal("read"), seq: seq("read.seq must be a non-negative integer") }),
  profile: z
    .object({ type: z.literal("profile"), name: personName.optional(), email: emailAddress.optional() })
    .refine((f) => f.name !== undefined || f.email !== undefined, { error: "profile needs a name or an email" }),
  rate: z.object({
    type: z.literal("rate"),
    surveyId: surveyId("rate"),
    rating: z.number({ error: rating }).int({ error: rating }).min(1, { error: rating }).max(5, { error: rating }),
    // An empty comment (or one of only control characters) is no comment.
    comment: surveyComment.transform((c) => c || undefined).optional(),
  }),
  dismissSurvey: z.object({ type: z.literal("dismissSurvey"), surveyId: surveyId("dismissSurvey") }),
} satisfies { [K in ClientFrame["type"]]: z.ZodType<Extract<ClientFrame, { type: K }>> };

const pagedView = z.enum(["unassigned", "mine", "all"], { error: 'more.view must be "unassigned", "mine" or "all"' });

/** The panel socket's frames, checked against `PanelClientFrame`. */
const PANEL_FRAMES = {
  more: z.object({
    type: z.literal("more"),
    view: pagedView.nullish().transform((v) => v ?? "all"),
    beforeLastAt: z.number({ error: "more.beforeLastAt must be a number" }),
    // A malformed cursor or page size is ignored (first page, default size), as the panel has always been answered.
    beforeId: z.string().max(64).optional().catch(undefined),
    limit: z.number().int().optional().catch(undefined),
  }),
} satisfies { [K in PanelClientFrame["type"]]: z.ZodType<Extract<PanelClientFrame, { type: K }>> };

/** Fields whose length refusal is `too_large` (the client may shorten and resend), not a malformed frame. */
const LONG_TEXT = new Set<PropertyKey>(["text", "comment"]);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The schema for `raw.type`, looked up as an own key only (`"constructor"` or `"__proto__"` is just unknown). */
function schemaOf<T extends Record<string, z.ZodType>>(schemas: T, type: string): T[keyof T] | undefined {
  return Object.hasOwn(schemas, type) ? schemas[type as keyof T] : undefined;
}

const notAFrame = (): FrameResult => ({
  ok: false,
  code: "bad_frame",
  message: "A frame is an object with a string `type`",
});

/** Validates a parsed conversation-socket frame: type, size and shape of every field, text cleaned by the one rule. */
export function validateClientFrame(raw: unknown): FrameResult {
  if (!isRecord(raw)) return notAFrame();
  const quick = raw.type === "send" ? quickSend(raw) : null;
  return quick ? { ok: true, frame: quick } : checkClientFrame(raw);
}

/**
 * A chat message as the `send` schema would return it, or null for anything
 * but a plainly good one, which the schema then checks and words the refusal
 * of. Nearly every frame a socket carries is a message, and the schema's
 * parse was most of what the frame's check allocated (README, Performance);
 * this reads the fields once and builds the one object the schema would:
 * the text cleaned by the one rule, no other keys. test/frame-rules.test.ts
 * holds it to the schema's answers.
 */
export function quickSend(raw: Record<string, unknown>): Extract<ClientFrame, { type: "send" }> | null {
  const { clientId: id, text, channel } = raw;
  if (typeof id !== "string" || typeof text !== "string" || !CLIENT_ID.test(id)) return null;
  const known = channel === "chat" || channel === "email";
  // Any other channel is refused by the schema; and `channel: undefined` (never from JSON) stays a key in its output.
  if (!known && "channel" in raw) return null;
  const cleaned = cleanText(text);
  if (cleaned.length === 0 || cleaned.length > LIMITS.messageChars) return null;
  return known ? { type: "send", clientId: id, text: cleaned, channel } : { type: "send", clientId: id, text: cleaned };
}

/** A frame (an object with a string `type`) checked by its type's schema. */
export function checkClientFrame(raw: Record<string, unknown>): FrameResult {
  if (typeof raw.type !== "string") return notAFrame();
  const schema = schemaOf(CLIENT_FRAMES, raw.type);
  if (!schema) return { ok: false, code: "unknown_type", message: "Unknown frame type" };
  const parsed = schema.safeParse(raw);
  if (parsed.success) return { ok: true, frame: parsed.data };
  const issue = parsed.error.issues[0]!;
  const code = issue.code === "too_big" && LONG_TEXT.has(issue.path[0]!) ? "too_large" : "bad_frame";
  // Name the send being refused, when its clientId can be read, so the client can mark that message.
  const id = raw.type === "send" && clientId.safeParse(raw.clientId).success ? (raw.clientId as string) : undefined;
  return id === undefined
    ? { ok: false, code, message: issue.message }
    : { ok: false, code, message: issue.message, clientId: id };
}

/** Validates a parsed panel-socket frame (`more`: the next page of a conversation list). */
export function validatePanelFrame(raw: unknown): PanelFrameResult {
  if (!isRecord(raw) || !("type" in raw)) return { ok: false, code: "bad_frame", message: "Frame needs a type" };
  const schema = typeof raw.type === "string" ? schemaOf(PANEL_FRAMES, raw.type) : undefined;
  if (!schema) return { ok: false, code: "unknown_type", message: "Unknown frame type" };
  const parsed = schema.safeParse(raw);
  return parsed.success
    ? { ok: true, frame: parsed.data }
    : { ok: false, code: "bad_frame", message: parsed.error.issues[0]!.message };
}
