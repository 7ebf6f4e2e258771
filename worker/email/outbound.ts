/**
 * Outbound mail: an operator's reply (or the survey link) as raw MIME built
 * by mimetext, for the `send_email` binding. Replies carry threading headers
 * and a Reply-To with the conversation's thread token, so the visitor's
 * answer finds its conversation again.
 */
import { createMimeMessage, Mailbox } from "mimetext/browser";

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
