/**
 * The email channel: inbound mail (Email Workers + postal-mime) becomes
 * conversation messages; operator replies go out through the `send_email`
 * binding as MIME built by mimetext.
 *
 * Inbound limits are checked before any parsing: the raw size first (from
 * the envelope, without reading the body), then postal-mime's own caps on
 * MIME nesting and header size. Nothing is lost silently: every mail is
 * either stored in a conversation or refused with `setReject` and a reason a
 * human can read (the sending server reports it to the sender), plus a log
 * line; nothing throws out of here. Real mail is odd: a charset the decoder
 * does not know is decoded as windows-1252 (postal-mime's fallback), a
 * missing Message-ID gets one derived from the bytes (so a redelivery is
 * still recognised), and an unusable From falls back to the envelope sender.
 *
 * Threading never merges two people: a reply joins a conversation only when
 * its token address or its In-Reply-To/References match AND the sender is
 * that conversation's address.
 */
import PostalMime, { type Email } from "postal-mime";
import { createMimeMessage, Mailbox } from "mimetext/browser";
import sanitizeHtml from "sanitize-html";
import type { Env } from "./env";
import { base64url, randomId } from "./lib/crypto";
import { fileKey, isImage, safeFileName, sniffType } from "./lib/files";
import { workspaceStub } from "./lib/http";
import type { EmailMeta, FileRef } from "./protocol";
import { conversationStub } from "./routes/conversations";

/** Largest inbound mail we accept (Email Routing itself stops at 25 MiB). */
export const MAX_EMAIL_BYTES = 10 * 1024 * 1024;
/** Cloudflare's limit for a message sent with `send_email`. */
export const MAX_OUTBOUND_EMAIL_BYTES = 5 * 1024 * 1024;
const PARSE_LIMITS = { maxNestingDepth: 20, maxHeadersSize: 256 * 1024, maxRfc822NestingDepth: 2 } as const;
const MAX_TEXT = 64 * 1024;
const MAX_ATTACHMENTS = 10;

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
export function sanitizeEmailHtml(html: string): string {
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
 */
function senderOf(email: Email, envelopeFrom: string): { name: string; address: string } | null {
  const header = mailbox(email.from);
  const name = header?.name ?? "";
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

/** Refuses a mail: the reason goes back to the sender, and to the log with what identifies the mail. */
function refuse(message: ForwardableEmailMessage, reason: string, detail?: unknown): void {
  console.warn("Email", "refused", JSON.stringify({ from: message.from, to: message.to, reason }), detail ?? "");
  message.setReject(reason);
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

/** A 16-character lowercase token: survives mail systems that lowercase local parts. */
export function newThreadToken(): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz234567";
  return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => alphabet[b % 32]).join("");
}

async function readRaw(stream: ReadableStream<Uint8Array>, max: number): Promise<Uint8Array | null> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** The `email()` handler: one inbound mail → one message in the right conversation, or a refusal with a reason. */
export async function receiveEmail(message: ForwardableEmailMessage, env: Env): Promise<void> {
  if (message.rawSize > MAX_EMAIL_BYTES) return refuse(message, REFUSED.tooLarge, `${message.rawSize} bytes`);
  const raw = await readRaw(message.raw, MAX_EMAIL_BYTES);
  if (!raw) return refuse(message, REFUSED.tooLarge, "body over the limit");
  let email: Email;
  try {
    email = await PostalMime.parse(raw, PARSE_LIMITS);
  } catch (err) {
    return refuse(message, REFUSED.unparseable, err);
  }

  const automatic = isAutomatic(email.headers, message.from);
  const sender = senderOf(email, message.from);
  if (!sender) return refuse(message, REFUSED.noSender, { from: email.from ?? null });
  const address = sender.address;
  const messageId = email.messageId?.trim() || (await fallbackMessageId(raw));
  const workspace = workspaceStub(env);
  const route = await workspace.routeEmail({
    sender: address,
    token: tokenFromAddress(message.to),
    // Its own id first: a mail delivered again (a sender's retry) finds the conversation it opened.
    references: [messageId, ...referencedIds(email)],
    messageId,
    allowNew: !automatic,
  });
  // Automatic mail is never answered and never opens a conversation of its own.
  if (!route) return refuse(message, REFUSED.automatic, { messageId });

  const fullText = truncated(email.text ?? "", MAX_TEXT);
  const shown = trimQuoted(fullText) || (email.html ? truncated(htmlToText(email.html), MAX_TEXT) : "");

  // Attachments go to R2 like chat files, with the same content checks.
  const attachments: FileRef[] = [];
  const skipped: string[] = [];
  for (const a of email.attachments) {
    const name = safeFileName(a.filename ?? "attachment");
    if (attachments.length >= MAX_ATTACHMENTS) {
      skipped.push(name);
      continue;
    }
    const bytes =
      typeof a.content === "string" ? new TextEncoder().encode(a.content) : new Uint8Array(a.content as ArrayBuffer);
    const type = bytes.byteLength > 0 ? sniffType(bytes) : null;
    if (!type) {
      skipped.push(name);
      continue;
    }
    const file: FileRef = { id: randomId(), name, size: bytes.byteLength, type, image: isImage(type) };
    await env.ATTACHMENTS.put(fileKey(route.conversationId, file.id), bytes, {
      httpMetadata: { contentType: type },
      customMetadata: { name, conversationId: route.conversationId, uploader: `email:${address}` },
    });
    attachments.push(file);
  }

  const meta: EmailMeta = {
    subject: (email.subject ?? "").slice(0, 300) || "(no subject)",
    from: { name: sender.name.slice(0, 120), address },
    to: message.to,
    messageId,
  };
  if (email.html) meta.html = sanitizeEmailHtml(email.html);
  if (shown !== fullText.trim()) meta.fullText = fullText;
  if (attachments.length) meta.attachments = attachments;
  if (skipped.length)
    meta.skipped = skipped.length > 50 ? [...skipped.slice(0, 50), `… and ${skipped.length - 50} more`] : skipped;
  if (automatic) meta.auto = true;

  const result = await conversationStub(env, route.conversationId).receiveEmail(
    route.conversationId,
    env.SITE_KEY,
    { id: route.visitorId, name: sender.name || null, email: address },
    `email:${base64url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(messageId))))}`,
    shown || "(empty message)",
    meta,
    route.token,
  );
  if (!result.ok) {
    for (const f of attachments) await env.ATTACHMENTS.delete(fileKey(route.conversationId, f.id));
    return refuse(message, `Not delivered: ${result.message}`, { conversationId: route.conversationId });
  }
  // A redelivered mail: keep the first copy's attachments only.
  if (!result.value.fresh) {
    for (const f of attachments) await env.ATTACHMENTS.delete(fileKey(route.conversationId, f.id));
  }
}

/** At most `max` characters, saying how much was cut rather than cutting silently. */
function truncated(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}\n\n[… ${text.length - max} more characters not shown]`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

export interface OutboundEmail {
  from: { name: string; address: string };
  to: string;
  replyTo: string;
  subject: string;
  text: string;
  messageId: string;
  inReplyTo: string | null;
  references: string[];
  attachment?: { name: string; type: string; bytes: Uint8Array };
  /**
   * RFC 3834 Auto-Submitted: "no" (the default) for a person's reply,
   * "auto-generated" for mail the product sends by itself (the survey), so
   * auto-responders do not answer it.
   */
  autoSubmitted?: "no" | "auto-generated";
}

/** Builds the raw MIME of a reply (text + HTML parts, threading headers, optional attachment). */
export function buildReply(mail: OutboundEmail): string {
  const msg = createMimeMessage();
  msg.setSender({ name: mail.from.name, addr: mail.from.address });
  msg.setRecipient(mail.to);
  msg.setSubject(mail.subject);
  msg.setHeader("Reply-To", new Mailbox(mail.replyTo));
  msg.setHeader("Message-ID", mail.messageId);
  if (mail.inReplyTo) msg.setHeader("In-Reply-To", mail.inReplyTo);
  if (mail.references.length) msg.setHeader("References", mail.references.join(" "));
  msg.setHeader("Auto-Submitted", mail.autoSubmitted ?? "no");
  // Base64 parts: the text is UTF-8 and may hold any character; 7bit would mangle it.
  msg.addMessage({ contentType: "text/plain", encoding: "base64", data: msg.toBase64(mail.text) });
  msg.addMessage({
    contentType: "text/html",
    encoding: "base64",
    data: msg.toBase64(`<div style="font-family:sans-serif;white-space:pre-wrap">${escapeHtml(mail.text)}</div>`),
  });
  if (mail.attachment) {
    let bin = "";
    for (const b of mail.attachment.bytes) bin += String.fromCharCode(b);
    msg.addAttachment({ filename: mail.attachment.name, contentType: mail.attachment.type, data: btoa(bin) });
  }
  return msg.asRaw();
}

export function replySubject(subject: string): string {
  return /^re:/i.test(subject.trim()) ? subject.trim() : `Re: ${subject.trim()}`;
}

/** `support@example.com` + token → `support+token@example.com`. */
export function tokenAddress(address: string, token: string): string {
  const at = address.lastIndexOf("@");
  const local = address.slice(0, at).split("+")[0];
  return `${local}+${token}@${address.slice(at + 1)}`;
}
