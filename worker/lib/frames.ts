/**
 * Validation of frames arriving on a conversation socket. Every field is
 * checked for type, size and shape before anything touches storage; the
 * result is a typed frame or an error the socket can answer with.
 */
import { LIMITS, type ClientFrame, type ErrorCode } from "../protocol";

export type FrameResult =
  { ok: true; frame: ClientFrame } | { ok: false; code: ErrorCode; message: string; clientId?: string };

const CLIENT_ID = /^[A-Za-z0-9_:.-]+$/;
const EMAIL = /^[^\s@<>()"',;]+@[^\s@<>()"',;]+\.[^\s@<>()"',;]+$/;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isSeq(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

function bad(message: string, clientId?: string): FrameResult {
  return clientId ? { ok: false, code: "bad_frame", message, clientId } : { ok: false, code: "bad_frame", message };
}

/** Removes control characters (except newline and tab) and trims. */
export function cleanText(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s
    .replace(/\r\n?/g, "\n")
    .replace(/[\u0000-\u0008\u000B-\u001F\u007F]/g, "")
    .trim();
}

export function cleanName(s: string): string {
  return cleanText(s).replace(/\s+/g, " ");
}

export function isEmail(s: string): boolean {
  return s.length <= LIMITS.emailChars && EMAIL.test(s);
}

export function validateClientFrame(raw: unknown): FrameResult {
  if (!isRecord(raw) || typeof raw.type !== "string") return bad("A frame is an object with a string `type`");
  switch (raw.type) {
    case "hello":
      if (!isSeq(raw.lastSeq)) return bad("hello.lastSeq must be a non-negative integer");
      return { ok: true, frame: { type: "hello", lastSeq: raw.lastSeq } };
    case "send": {
      const clientId = raw.clientId;
      if (
        typeof clientId !== "string" ||
        clientId.length < 1 ||
        clientId.length > LIMITS.clientIdChars ||
        !CLIENT_ID.test(clientId)
      ) {
        return bad(`send.clientId must be 1–${LIMITS.clientIdChars} characters of [A-Za-z0-9_:.-]`);
      }
      if (typeof raw.text !== "string") return bad("send.text must be a string", clientId);
      const text = cleanText(raw.text);
      if (text.length === 0) return bad("Message is empty", clientId);
      if (text.length > LIMITS.messageChars) {
        return {
          ok: false,
          code: "too_large",
          message: `Message is longer than ${LIMITS.messageChars} characters`,
          clientId,
        };
      }
      if (raw.channel !== undefined && raw.channel !== "chat" && raw.channel !== "email") {
        return bad('send.channel must be "chat" or "email"', clientId);
      }
      return raw.channel === "email"
        ? { ok: true, frame: { type: "send", clientId, text, channel: "email" } }
        : { ok: true, frame: { type: "send", clientId, text } };
    }
    case "history": {
      if (!isSeq(raw.beforeSeq)) return bad("history.beforeSeq must be a non-negative integer");
      if (raw.limit !== undefined && !(isSeq(raw.limit) && raw.limit >= 1))
        return bad("history.limit must be a positive integer");
      const frame: ClientFrame = { type: "history", beforeSeq: raw.beforeSeq };
      if (typeof raw.limit === "number") frame.limit = raw.limit;
      return { ok: true, frame };
    }
    case "read":
      if (!isSeq(raw.seq)) return bad("read.seq must be a non-negative integer");
      return { ok: true, frame: { type: "read", seq: raw.seq } };
    case "profile": {
      const frame: { type: "profile"; name?: string; email?: string } = { type: "profile" };
      if (raw.name !== undefined) {
        if (typeof raw.name !== "string") return bad("profile.name must be a string");
        const name = cleanName(raw.name);
        if (name.length === 0 || name.length > LIMITS.nameChars)
          return bad(`Name must be 1–${LIMITS.nameChars} characters`);
        frame.name = name;
      }
      if (raw.email !== undefined) {
        if (typeof raw.email !== "string") return bad("profile.email must be a string");
        const email = raw.email.trim();
        if (!isEmail(email)) return bad("That email address does not look right");
        frame.email = email;
      }
      if (frame.name === undefined && frame.email === undefined) return bad("profile needs a name or an email");
      return { ok: true, frame };
    }
    case "rate": {
      if (typeof raw.surveyId !== "string" || raw.surveyId.length > 64) return bad("rate.surveyId is required");
      if (typeof raw.rating !== "number" || !Number.isInteger(raw.rating) || raw.rating < 1 || raw.rating > 5) {
        return bad("rate.rating must be a whole number from 1 to 5");
      }
      const frame: ClientFrame = { type: "rate", surveyId: raw.surveyId, rating: raw.rating };
      if (raw.comment !== undefined) {
        if (typeof raw.comment !== "string") return bad("rate.comment must be a string");
        const comment = cleanText(raw.comment);
        if (comment.length > LIMITS.commentChars) {
          return { ok: false, code: "too_large", message: `Comment is longer than ${LIMITS.commentChars} characters` };
        }
        if (comment) frame.comment = comment;
      }
      return { ok: true, frame };
    }
    case "dismissSurvey":
      if (typeof raw.surveyId !== "string" || raw.surveyId.length > 64)
        return bad("dismissSurvey.surveyId is required");
      return { ok: true, frame: { type: "dismissSurvey", surveyId: raw.surveyId } };
    default:
      return { ok: false, code: "unknown_type", message: "Unknown frame type" };
  }
}
