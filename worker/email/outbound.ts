/**
 * Outbound mail: an operator's reply (or the survey link) as raw MIME for
 * the `send_email` binding, built here (RFC 5322 headers, RFC 2047 encoded
 * words, RFC 2231 file names, base64 parts in 76-character lines). Replies
 * carry threading headers and a Reply-To with the conversation's thread
 * token, so the visitor's answer finds its conversation again. Linear in the
 * size of the mail; no header can carry a line break from its input.
 */

/** Cloudflare's limit for one message sent with `send_email`. */
export const MAX_OUTBOUND_EMAIL_BYTES = 5 * 1024 * 1024;

/** Text as HTML text: the reply's HTML part shows exactly what was typed. */
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
  /** `auto-generated` for mail no person wrote (the survey link), so auto-responders leave it alone. Default `no`. */
  autoSubmitted?: "no" | "auto-generated";
}

const CRLF = "\r\n";

/** Base64 of `bytes`, in chunks (no quadratic string building). */
function base64(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    out += btoa(String.fromCharCode(...bytes.subarray(i, i + 0x8000)));
  }
  return out;
}

/** A base64 body in lines of 76 characters (RFC 2045). */
function base64Body(bytes: Uint8Array): string {
  const b64 = base64(bytes);
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
  return lines.join(CRLF);
}

/** One line: control characters (and so any line break) become spaces. */
function oneLine(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f]+/g, " ").trim();
}

/**
 * A header value as RFC 2047 encoded words when it is not plain printable
 * ASCII: UTF-8 in base64, each word at most 75 characters and never split
 * inside a character, words on folded lines.
 */
function encodedWords(value: string): string {
  const text = oneLine(value);
  if (/^[\x20-\x7e]*$/.test(text)) return text;
  const words: string[] = [];
  let chunk: number[] = [];
  const flush = () => {
    if (chunk.length) words.push(`=?UTF-8?B?${base64(new Uint8Array(chunk))}?=`);
    chunk = [];
  };
  const encoder = new TextEncoder();
  for (const ch of text) {
    const bytes = encoder.encode(ch);
    // 45 bytes → 60 base64 characters, + 12 for =?UTF-8?B??= : within 75.
    if (chunk.length + bytes.length > 45) flush();
    chunk.push(...bytes);
  }
  flush();
  return words.join(`${CRLF} `);
}

/** `Name <address>`, the name quoted or encoded as needed. */
function mailbox(name: string, address: string): string {
  const shown = oneLine(name);
  const addr = `<${oneLine(address).replace(/[<>\s]/g, "")}>`;
  if (!shown) return addr;
  if (/^[\x20-\x7e]*$/.test(shown)) return `"${shown.replace(/["\\]/g, "\\$&")}" ${addr}`;
  return `${encodedWords(shown)} ${addr}`;
}

/** A `filename` parameter: plain when it can be, else RFC 2231 (`filename*=UTF-8''…`). */
function fileParameter(key: string, name: string): string {
  const shown = oneLine(name) || "file";
  if (/^[\x20-\x7e]*$/.test(shown) && !/["\\]/.test(shown)) return `${key}="${shown}"`;
  const encoded = [...new TextEncoder().encode(shown)]
    .map((b) =>
      /[A-Za-z0-9._-]/.test(String.fromCharCode(b))
        ? String.fromCharCode(b)
        : `%${b.toString(16).toUpperCase().padStart(2, "0")}`,
    )
    .join("");
  return `${key}*=UTF-8''${encoded}`;
}

/** The date as RFC 5322 wants it: `Tue, 01 Dec 2026 10:00:00 +0000`. */
function mailDate(at: Date): string {
  return at.toUTCString().replace(/GMT$/, "+0000");
}

/** Builds the raw MIME of a reply (text + HTML parts, threading headers, optional attachment). */
export function buildReply(mail: OutboundEmail, at = new Date()): string {
  const boundary = (kind: string) => `=_${kind}_${crypto.randomUUID().replace(/-/g, "")}`;
  const encoder = new TextEncoder();
  const headers = [
    `From: ${mailbox(mail.from.name, mail.from.address)}`,
    `To: ${mailbox("", mail.to)}`,
    `Reply-To: ${mailbox("", mail.replyTo)}`,
    `Subject: ${encodedWords(mail.subject)}`,
    `Date: ${mailDate(at)}`,
    `Message-ID: ${oneLine(mail.messageId)}`,
    ...(mail.inReplyTo ? [`In-Reply-To: ${oneLine(mail.inReplyTo)}`] : []),
    ...(mail.references.length ? [`References: ${mail.references.map(oneLine).join(" ")}`] : []),
    `Auto-Submitted: ${mail.autoSubmitted ?? "no"}`,
    "MIME-Version: 1.0",
  ];
  // Base64 parts: the text is UTF-8 and may hold any character; 7bit would mangle it.
  const part = (type: string, body: string) =>
    [
      `Content-Type: ${type}; charset=UTF-8`,
      "Content-Transfer-Encoding: base64",
      "",
      base64Body(encoder.encode(body)),
    ].join(CRLF);
  const alternative = boundary("alt");
  const bodyParts = [
    part("text/plain", mail.text),
    part("text/html", `<div style="font-family:sans-serif;white-space:pre-wrap">${escapeHtml(mail.text)}</div>`),
  ];
  const alternativeBody = [...bodyParts.map((p) => `--${alternative}${CRLF}${p}`), `--${alternative}--`].join(CRLF);
  const alternativeType = `multipart/alternative; boundary="${alternative}"`;
  if (!mail.attachment) {
    return [...headers, `Content-Type: ${alternativeType}`, "", alternativeBody, ""].join(CRLF);
  }
  const mixed = boundary("mixed");
  const file = mail.attachment;
  const type = /^[a-z0-9.+-]+\/[a-z0-9.+-]+$/i.test(file.type) ? file.type : "application/octet-stream";
  const attachment = [
    `Content-Type: ${type}; ${fileParameter("name", file.name)}`,
    "Content-Transfer-Encoding: base64",
    `Content-Disposition: attachment; ${fileParameter("filename", file.name)}`,
    "",
    base64Body(file.bytes),
  ].join(CRLF);
  return [
    ...headers,
    `Content-Type: multipart/mixed; boundary="${mixed}"`,
    "",
    `--${mixed}`,
    `Content-Type: ${alternativeType}`,
    "",
    alternativeBody,
    `--${mixed}`,
    attachment,
    `--${mixed}--`,
    "",
  ].join(CRLF);
}

/** The subject of a reply: `Re: ` once, never `Re: Re: `. */
export function replySubject(subject: string): string {
  return /^re:/i.test(subject.trim()) ? subject.trim() : `Re: ${subject.trim()}`;
}

/** `support@example.com` + token → `support+token@example.com`. */
export function tokenAddress(address: string, token: string): string {
  const at = address.lastIndexOf("@");
  const local = address.slice(0, at).split("+")[0];
  return `${local}+${token}@${address.slice(at + 1)}`;
}

/** A 16-character lowercase token: survives mail systems that lowercase local parts. */
export function newThreadToken(): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz234567";
  return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => alphabet[b % 32]).join("");
}
