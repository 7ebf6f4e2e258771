/**
 * The one rule for text people send us, applied the same way on every path:
 * the visitor's and the operators' sockets, the panel's HTTP routes,
 * `/api/v1`, the survey page and the display text of inbound mail.
 *
 * The rule: control characters are stripped, never refused. C0 controls
 * (U+0000–U+001F except tab and newline) and DEL cannot be seen, cannot be
 * typed on purpose and break terminals, logs and mail headers; a paste from
 * a terminal or a PDF carries them by accident, and refusing the whole
 * message for an invisible character would only make a person retype it.
 * CR LF and lone CR become LF. Everything visible (HTML, bidi marks, emoji)
 * is kept as written: user text is always rendered as text, never as HTML.
 * That is `stripControls`; what people type is also trimmed (`cleanText`),
 * and a one-line field they type (a name, a page title) has any run of
 * whitespace, newlines included, folded into one space (`cleanLine`), so no
 * mail header can be split. A name someone else passes on (a mail's sender
 * name) gets that same one-line rule (`passedName`), cut to length rather
 * than refused. A mail's subject gets the rule alone: it is shown as the
 * sender wrote it. Passwords are secrets, not text, and are never altered.
 */
import * as z from "zod";
import { LIMITS } from "../protocol";

const CONTROLS = /[\u0000-\u0008\u000B-\u001F\u007F]/g;
const EMAIL = /^[^\s@<>()"',;]+@[^\s@<>()"',;]+\.[^\s@<>()"',;]+$/;

/** The rule itself: LF line ends, no control characters; nothing else is touched. */
export function stripControls(s: string): string {
  return s.replace(/\r\n?/g, "\n").replace(CONTROLS, "");
}

/** Multi-line text a person typed: the rule, then trimmed. */
export function cleanText(s: string): string {
  return stripControls(s).trim();
}

/** One line of text a person typed (a name, a title): as `cleanText`, whitespace runs folded to one space. */
export function cleanLine(s: string): string {
  return cleanText(s).replace(/\s+/g, " ");
}

/**
 * A name passed on by someone other than its owner: a mail's sender name.
 * The rule of every name (`cleanLine`, as `personName` applies to a name
 * typed in the chat), but a name over `LIMITS.nameChars` is cut rather than
 * refused, as there is no one to ask again. Null when nothing is left.
 */
export function passedName(s: string): string | null {
  const name = cleanLine(s);
  if (name.length <= LIMITS.nameChars) return name || null;
  // Never half of a surrogate pair.
  const high = name.charCodeAt(LIMITS.nameChars - 1);
  const end = high >= 0xd800 && high <= 0xdbff ? LIMITS.nameChars - 1 : LIMITS.nameChars;
  return name.slice(0, end).trimEnd() || null;
}

/** Plausible enough to write to: one @, something on both sides with a dot after it, no spaces or brackets. */
export function isEmail(s: string): boolean {
  return s.length <= LIMITS.emailChars && EMAIL.test(s);
}

/** Words of a refusal; `label` names the field as people see it. */
const between = (label: string, min: number, max: number) => `${label} must be ${min}–${max} characters`;

/** Multi-line text: cleaned first, then 1–`max` characters (so the limit counts what is stored). */
function text(max: number, words: { empty: string; tooLong: string; type?: string }) {
  return z
    .string({ error: words.type ?? words.empty })
    .overwrite(cleanText)
    .min(1, { error: words.empty })
    .max(max, { error: words.tooLong });
}

/** One line of text (a name, a title): cleaned, whitespace folded, `min`–`max` characters. */
export function line(label: string, min: number, max: number) {
  return z
    .string({ error: `${label} is required` })
    .overwrite(cleanLine)
    .min(min, { error: between(label, min, max) })
    .max(max, { error: between(label, min, max) });
}

/** A chat message's text, from a socket frame or `/api/v1`. */
export const messageText = text(LIMITS.messageChars, {
  empty: "Message is empty",
  tooLong: `Message is longer than ${LIMITS.messageChars} characters`,
  type: "text is required (a string)",
});

/** A survey comment: may be empty after cleaning (no comment), at most `LIMITS.commentChars`. */
export const surveyComment = z
  .string({ error: "rate.comment must be a string" })
  .overwrite(cleanText)
  .max(LIMITS.commentChars, { error: `Comment is longer than ${LIMITS.commentChars} characters` });

/** A visitor's name as they or an operator give it. */
export const personName = line("Name", 1, LIMITS.nameChars);

/** An email address as typed: trimmed, then checked. */
export const emailAddress = z
  .string({ error: "email must be a string" })
  .trim()
  .refine(isEmail, { error: "That email address does not look right" });

/** What a client-made idempotency key may be. */
export const CLIENT_ID = new RegExp(`^[A-Za-z0-9_:.-]{1,${LIMITS.clientIdChars}}$`);

/** A client-made idempotency key of a message. */
export const clientId = z
  .string({ error: `clientId must be 1–${LIMITS.clientIdChars} characters of [A-Za-z0-9_:.-]` })
  .regex(CLIENT_ID, {
    error: `clientId must be 1–${LIMITS.clientIdChars} characters of [A-Za-z0-9_:.-]`,
  });
