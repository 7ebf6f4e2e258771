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
import sanitizeHtml from "sanitize-html";
import { base64url } from "../lib/crypto";
import type { EmailMeta } from "../protocol";
import { cleanText, stripControls } from "../validate/text";

/** Largest inbound mail we accept (Email Routing itself stops at 25 MiB). */
export const MAX_EMAIL_BYTES = 10 * 1024 * 1024;
/** Longest text kept of one mail; the rest is cut, saying how much. */
const MAX_TEXT = 64 * 1024;

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
 */
export function trimQuoted(text: string): string {
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
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
      (/^>/.test(line) && lines.slice(i).every((l) => /^>|^\s*$/.test(l)))
    ) {
      cut = i;
      break;
    }
  }
  const shown = lines.slice(0, cut).join("\n").trim();
  return shown || text.trim();
}

/**
 * Sanitises mail HTML with sanitize-html: no script, no style, no images or
 * any other remote resource, no event handlers; links keep only http(s) and
 * mailto. The panel also renders it in a sandboxed iframe with a CSP.
 */
function sanitizeEmailHtml(html: string): string {
  return sanitizeHtml(html, {
    allowedTags: [
      "a",
      "b",
      "blockquote",
      "br",
      "caption",
      "code",
      "div",
      "em",
      "h1",
      "h2",
      "h3",
      "h4",
      "h5",
      "h6",
      "hr",
      "i",
      "li",
      "ol",
      "p",
      "pre",
      "s",
      "small",
      "span",
      "strong",
      "sub",
      "sup",
      "table",
      "tbody",
      "td",
      "tfoot",
      "th",
      "thead",
      "tr",
      "u",
      "ul",
    ],
    allowedAttributes: {
      a: ["href", "title", "target", "rel"],
      td: ["colspan", "rowspan"],
      th: ["colspan", "rowspan"],
    },
    allowedSchemes: ["http", "https", "mailto"],
    allowProtocolRelative: false,
    disallowedTagsMode: "discard",
    nonTextTags: ["script", "style", "textarea", "option", "noscript", "title", "head"],
    transformTags: {
      a: sanitizeHtml.simpleTransform("a", { target: "_blank", rel: "noopener noreferrer nofollow" }),
    },
  }).slice(0, 256 * 1024);
}

/** Plain text of an HTML-only mail, for display and previews: tags dropped, entities decoded, blocks on their own lines. */
export function htmlToText(html: string): string {
  const withBreaks = html.replace(/<(br|\/p|\/div|\/li|\/tr|\/h[1-6])\b[^>]*>/gi, "\n$&");
  const stripped = sanitizeHtml(withBreaks, {
    allowedTags: [],
    allowedAttributes: {},
    nonTextTags: ["script", "style", "title", "head"],
  });
  const named: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: " " };
  return stripped
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
      if (e[0] === "#") {
        const code = e[1] === "x" || e[1] === "X" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
        return Number.isFinite(code) && code > 0 && code < 0x110000 ? String.fromCodePoint(code) : m;
      }
      return named[e.toLowerCase()] ?? m;
    })
    .replace(/\u00a0/g, " ")
    .replace(/[ \t]+\n/g, "\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}

function mailbox(value: Email["from"]): { name: string; address: string } | null {
  if (!value) return null;
  if (value.address) return { name: value.name ?? "", address: value.address };
  const first = value.group?.[0];
  return first ? { name: first.name ?? "", address: first.address } : null;
}

/** Plausible enough to write back to: one @, something on both sides, no spaces or brackets. */
function usableAddress(address: string): boolean {
  return /^[^\s@<>()[\],;:"]+@[^\s@<>()[\],;:"]+\.[^\s@<>()[\],;:"]+$/.test(address);
}

/**
 * Who wrote the mail: the From header's mailbox, or the envelope sender when
 * the header has none that can be answered (no From, `"" <>`, a group, junk).
 * The display name loses its control characters, as all text we store does.
 */
export function senderOf(email: Email, envelopeFrom: string): { name: string; address: string } | null {
  const header = mailbox(email.from);
  const name = stripControls(header?.name ?? "");
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
} as const;

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

/**
 * What a conversation shows of a mail: the new part of the reply (or the text
 * of an HTML-only mail), and the full text when quoted history was trimmed
 * off. Both are cleaned by the one text rule every message follows.
 */
export function mailText(email: Pick<Email, "text" | "html">): { shown: string; fullText: string } {
  const fullText = cleanText(truncated(email.text ?? "", MAX_TEXT));
  const shown = trimQuoted(fullText) || (email.html ? cleanText(truncated(htmlToText(email.html), MAX_TEXT)) : "");
  return { shown, fullText };
}

/** The envelope the panel shows above a mail (without attachments, which are stored first). */
export function mailMeta(
  email: Pick<Email, "subject" | "html">,
  sender: { name: string; address: string },
  to: string,
  messageId: string,
  text: { shown: string; fullText: string },
  automatic: boolean,
): EmailMeta {
  const meta: EmailMeta = {
    subject: stripControls(email.subject ?? "").slice(0, 300) || "(no subject)",
    from: { name: sender.name.slice(0, 120), address: sender.address },
    to,
    messageId,
  };
  if (email.html) meta.html = sanitizeEmailHtml(email.html);
  if (text.shown !== text.fullText) meta.fullText = text.fullText;
  if (automatic) meta.auto = true;
  return meta;
}

/** At most `max` characters, saying how much was cut rather than cutting silently. */
function truncated(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}\n\n[… ${text.length - max} more characters not shown]`;
}
