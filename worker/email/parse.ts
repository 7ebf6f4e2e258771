/**
 * Pure functions over a parsed mail (postal-mime's `Email`) and its
 * headers: who sent it, whether it is automatic, which thread it answers,
 * what of it to show. No bindings and no storage, so each is tested alone.
 *
 * Real mail is odd: a missing Message-ID gets one derived from the bytes (so
 * a redelivery is still recognised), and an unusable From falls back to the
 * envelope sender. Threading never merges two people: the workspace joins a
 * reply to a conversation only when its token address or its references
 * match AND the sender is that conversation's address.
 */
import type { Email } from "postal-mime";
import { base64url } from "../lib/crypto";
import type { EmailMeta } from "../protocol";
import { cleanText, passedName, stripControls } from "../validate/text";
import { htmlToText, sanitizeEmailHtml } from "./html";

/** Largest inbound mail we accept (Email Routing itself stops at 25 MiB). */
export const MAX_EMAIL_BYTES = 10 * 1024 * 1024;
/** Longest text kept of one mail; the rest is cut, saying how much. */
const MAX_TEXT = 64 * 1024;
/**
 * The parser's budget. postal-mime's cost is per line (each is awaited, and
 * each line of a plain part is a separate piece of a Blob) and, far more, per
 * MIME part, so a mail of 10 MB of `>\r\n` (3.5 million lines) or of empty
 * parts costs many times what 10 MB of prose does. Before parsing, one pass
 * counts the lines (LF, as postal-mime splits them) and the lines that begin
 * with `--` (every MIME boundary does), stopping as soon as either is over:
 * then the mail is refused with the reason. Prose averages 60–90 bytes a
 * line and base64 77, so a real mail is far inside this.
 */
export const MAIL_LINES = { free: 50_000, bytesPerLine: 32, maxDashLines: 2_000 } as const;

/** Mail no one should answer: auto-replies, bounces, mailing lists. */
export function isAutomatic(headers: { key: string; value: string }[], envelopeFrom: string): boolean {
  const get = (k: string) =>
    headers
      .find((h) => h.key === k)
      ?.value.trim()
      .toLowerCase();
  const from = envelopeFrom.trim().toLowerCase();
  if (from === "" || from === "<>" || from.startsWith("mailer-daemon@") || from.startsWith("postmaster@")) return true;
  const autoSubmitted = get("auto-submitted");
  if (autoSubmitted && autoSubmitted !== "no") return true;
  const precedence = get("precedence");
  if (precedence && ["bulk", "list", "junk", "auto_reply"].includes(precedence)) return true;
  return ["list-id", "list-unsubscribe", "x-autoreply", "x-autorespond", "x-auto-response-suppress"].some(
    (k) => get(k) !== undefined && (k !== "x-auto-response-suppress" || /all|oof|autoreply/.test(get(k)!)),
  );
}

/**
 * Splits the new part of a reply from the quoted history below it, for
 * display. The full text is kept beside it.
 *
 * One pass from the end first finds where the run of quoted (`>`) and blank
 * lines that ends the text begins; then one pass from the top finds the
 * first line that starts the history. Each line is looked at a fixed number
 * of times, so the cost is linear in the text (it used to ask, for every
 * quoted line, whether all the lines after it were quoted: `>` × 24,000 and
 * one line of text took half a minute).
 */
export function trimQuoted(text: string): string {
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  let quotedTail = lines.length;
  while (quotedTail > 0 && /^>|^\s*$/.test(lines[quotedTail - 1]!)) quotedTail--;
  let cut = lines.length;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    const next = (lines[i + 1] ?? "").trim();
    if (
      /^-{2,}\s*Original Message\s*-{2,}$/i.test(line) ||
      /^_{5,}$/.test(line) ||
      (/^On .+/i.test(line) && /wrote:$/i.test(line)) ||
      (/^On .+/i.test(line) && /wrote:$/i.test(`${line} ${next}`)) ||
      (/^From: /i.test(line) && /^(Sent|Date): /i.test(next)) ||
      (/^>/.test(line) && i >= quotedTail)
    ) {
      cut = i;
      break;
    }
  }
  const shown = lines.slice(0, cut).join("\n").trim();
  return shown || text.trim();
}

function mailbox(value: Email["from"]): { name: string; address: string } | null {
  if (!value) return null;
  if (value.address) return { name: value.name ?? "", address: value.address };
  const first = value.group?.[0];
  return first ? { name: first.name ?? "", address: first.address } : null;
}

/**
 * Plausible enough to write back to: one @, something on both sides, no
 * spaces or brackets, at most 254 characters. (The length comes first: the
 * pattern backtracks over the dots of a long domain, quadratically.)
 */
function usableAddress(address: string): boolean {
  return address.length <= 254 && /^[^\s@<>()[\],;:"]+@[^\s@<>()[\],;:"]+\.[^\s@<>()[\],;:"]+$/.test(address);
}

/**
 * Who wrote the mail: the From header's mailbox, or the envelope sender when
 * the header has none that can be answered (no From, `"" <>`, a group, junk).
 * The display name follows the rule of every name (validate/text.ts
 * `passedName`: one line, no control characters, at most 80 characters);
 * "" when there is none.
 */
export function senderOf(email: Email, envelopeFrom: string): { name: string; address: string } | null {
  const header = mailbox(email.from);
  const name = passedName(header?.name ?? "") ?? "";
  for (const address of [header?.address, envelopeFrom]) {
    const a = (address ?? "").trim().toLowerCase();
    if (usableAddress(a)) return { name, address: a };
  }
  return null;
}

/**
 * The Message-ID of a mail that has none: derived from its bytes, so the same
 * mail delivered twice (a sender's retry) is stored once.
 */
export async function fallbackMessageId(raw: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", raw));
  return `<${base64url(digest)}@microchat.invalid>`;
}

/** Why a mail was not taken; the words the sender's server reports back. */
export const REFUSED = {
  tooLarge: `Message too large: the limit is ${MAX_EMAIL_BYTES / (1024 * 1024)} MB`,
  unparseable: "Message could not be parsed: malformed, too deeply nested, or headers too large",
  noSender: "Message has no usable sender address (From or envelope sender)",
  automatic:
    "Automatic mail (auto-reply, bounce or mailing list) is accepted only as a reply in an existing conversation",
  tooManyLines: `Message has too many lines for its size: the limit is ${MAIL_LINES.free.toLocaleString("en")} lines plus one for every ${MAIL_LINES.bytesPerLine} bytes`,
  tooManyParts: `Message has too many MIME parts: the limit is ${MAIL_LINES.maxDashLines.toLocaleString("en")} lines beginning with "--"`,
  unverifiedAutomatic:
    "Automatic mail (auto-reply, bounce or mailing list) is accepted only from a verified sender, as a reply in an existing conversation",
} as const;

/** Why a mail is over the parser's budget (`MAIL_LINES`), or null when it is within it. */
export function overParseBudget(raw: Uint8Array): string | null {
  const maxLines = MAIL_LINES.free + Math.floor(raw.byteLength / MAIL_LINES.bytesPerLine);
  let lines = 0;
  let dashLines = 0;
  for (let at = 0; at < raw.byteLength;) {
    if (raw[at] === 0x2d && raw[at + 1] === 0x2d && ++dashLines > MAIL_LINES.maxDashLines) return REFUSED.tooManyParts;
    const end = raw.indexOf(0x0a, at);
    if (end < 0) break;
    if (++lines > maxLines) return REFUSED.tooManyLines;
    at = end + 1;
  }
  return null;
}

/** Message-IDs named by In-Reply-To and References. */
export function referencedIds(email: Email): string[] {
  const text = `${email.inReplyTo ?? ""} ${email.references ?? ""}`;
  return [...new Set(text.match(/<[^<>\s]{1,250}>/g) ?? [])].slice(0, 50);
}

/** `support+<token>@domain` → token. */
export function tokenFromAddress(address: string): string | null {
  const m = /^[^+@]+\+([a-z0-9]{16})@/i.exec(address.trim());
  return m ? m[1]!.toLowerCase() : null;
}

/** What a conversation shows of a mail's text, and what of it was not kept, in words. */
export interface MailText {
  /** The new part of the reply, or the text of an HTML-only mail. */
  shown: string;
  /** The whole text (up to `MAX_TEXT`), quoted history included. */
  fullText: string;
  cut: string[];
}

/**
 * What a conversation shows of a mail: the new part of the reply (or the text
 * of an HTML-only mail), and the full text when quoted history was trimmed
 * off. Both are cleaned by the one text rule every message follows. Each
 * step reads a bounded amount: the first `MAX_TEXT` characters of the text,
 * the first `MAX_HTML_READ` of the HTML (html.ts).
 */
export function mailText(email: Pick<Email, "text" | "html">): MailText {
  const cut: string[] = [];
  const fullText = cleanText(truncated(email.text ?? "", MAX_TEXT, "text", cut));
  let shown = trimQuoted(fullText);
  if (!shown && email.html) {
    const html = htmlToText(email.html);
    cut.push(...html.cut);
    shown = cleanText(truncated(html.text, MAX_TEXT, "text of the HTML", cut));
  }
  return { shown, fullText, cut };
}

/** The envelope the panel shows above a mail (without attachments, which are stored first). */
export function mailMeta(
  email: Pick<Email, "subject" | "html">,
  sender: { name: string; address: string },
  to: string,
  messageId: string,
  text: MailText,
  automatic: boolean,
): EmailMeta {
  const meta: EmailMeta = {
    subject: stripControls(email.subject ?? "").slice(0, 300) || "(no subject)",
    from: { name: sender.name, address: sender.address },
    to,
    messageId,
  };
  const cut = [...text.cut];
  if (email.html) {
    const html = sanitizeEmailHtml(email.html);
    meta.html = html.html;
    cut.push(...html.cut);
  }
  if (text.shown !== text.fullText) meta.fullText = text.fullText;
  if (automatic) meta.auto = true;
  // The text and the HTML are read by the same bounds, so they may say the same thing.
  if (cut.length) meta.cut = [...new Set(cut)];
  return meta;
}

/** At most `max` characters, saying how much was cut (in the text, and in `cut`) rather than cutting silently. */
function truncated(text: string, max: number, what: string, cut: string[]): string {
  if (text.length <= max) return text;
  // Never half a character: a cut between the two halves of a surrogate pair (an emoji) ends before the pair.
  const end = isHighSurrogate(text.charCodeAt(max - 1)) ? max - 1 : max;
  cut.push(
    `The ${what} is ${text.length.toLocaleString("en")} characters long; the first ${end.toLocaleString("en")} are shown.`,
  );
  return `${text.slice(0, end)}\n\n[… ${text.length - end} more characters not shown]`;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
