/**
 * The `email()` handler: one inbound mail (Email Workers + postal-mime)
 * becomes one message in the right conversation, or is refused with a reason.
 *
 * Limits are checked before any parsing: the raw size first (from the
 * envelope, without reading the body), then postal-mime's own caps on MIME
 * nesting and header size. Nothing is lost silently: every mail is either
 * stored in a conversation or refused with `setReject` and a reason a human
 * can read (the sending server reports it to the sender), plus a log line;
 * nothing throws out of here but a storage failure, which `index.ts` turns
 * into a temporary refusal. A charset the decoder does not know is decoded as
 * windows-1252 (postal-mime's fallback).
 */
import PostalMime, { type Email } from "postal-mime";
import type { Env } from "../env";
import { base64url, randomId } from "../lib/crypto";
import { fileKey, isImage, safeFileName, sniffType } from "../lib/files";
import type { FileRef } from "../protocol";
import { conversationStub, workspaceStub } from "../stubs";
import {
  fallbackMessageId,
  isAutomatic,
  MAX_EMAIL_BYTES,
  mailMeta,
  mailText,
  referencedIds,
  REFUSED,
  senderOf,
  tokenFromAddress,
} from "./parse";

const PARSE_LIMITS = { maxNestingDepth: 20, maxHeadersSize: 256 * 1024, maxRfc822NestingDepth: 2 } as const;
const MAX_ATTACHMENTS = 10;

/** Refuses a mail: the reason goes back to the sender, and to the log with what identifies the mail. */
function reject(message: ForwardableEmailMessage, reason: string, detail?: unknown): void {
  console.warn("Email", "refused", JSON.stringify({ from: message.from, to: message.to, reason }), detail ?? "");
  message.setReject(reason);
}

/** The raw bytes, or null as soon as they pass `max` (the rest is never read). */
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

/** Stores the mail's attachments in R2 like chat files, with the same content checks; names what was skipped. */
async function storeAttachments(
  env: Env,
  conversationId: string,
  uploader: string,
  attachments: Email["attachments"],
): Promise<{ stored: FileRef[]; skipped: string[] }> {
  const stored: FileRef[] = [];
  const skipped: string[] = [];
  for (const a of attachments) {
    const name = safeFileName(a.filename ?? "attachment");
    if (stored.length >= MAX_ATTACHMENTS) {
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
    await env.ATTACHMENTS.put(fileKey(conversationId, file.id), bytes, {
      httpMetadata: { contentType: type },
      customMetadata: { name, conversationId, uploader },
    });
    stored.push(file);
  }
  return { stored, skipped };
}

/** The `email()` handler: one inbound mail → one message in the right conversation, or a refusal with a reason. */
export async function receiveEmail(message: ForwardableEmailMessage, env: Env): Promise<void> {
  if (message.rawSize > MAX_EMAIL_BYTES) return reject(message, REFUSED.tooLarge, `${message.rawSize} bytes`);
  const raw = await readRaw(message.raw, MAX_EMAIL_BYTES);
  if (!raw) return reject(message, REFUSED.tooLarge, "body over the limit");
  let email: Email;
  try {
    email = await PostalMime.parse(raw, PARSE_LIMITS);
  } catch (err) {
    return reject(message, REFUSED.unparseable, err);
  }

  const automatic = isAutomatic(email.headers, message.from);
  const sender = senderOf(email, message.from);
  if (!sender) return reject(message, REFUSED.noSender, { from: email.from ?? null });
  const address = sender.address;
  const messageId = email.messageId?.trim() || (await fallbackMessageId(raw));
  const route = await workspaceStub(env).routeEmail({
    sender: address,
    token: tokenFromAddress(message.to),
    // Its own id first: a mail delivered again (a sender's retry) finds the conversation it opened.
    references: [messageId, ...referencedIds(email)],
    messageId,
    allowNew: !automatic,
  });
  // Automatic mail is never answered and never opens a conversation of its own.
  if (!route) return reject(message, REFUSED.automatic, { messageId });

  const text = mailText(email);
  const files = await storeAttachments(env, route.conversationId, `email:${address}`, email.attachments);
  const meta = mailMeta(email, sender, message.to, messageId, text, automatic);
  if (files.stored.length) meta.attachments = files.stored;
  if (files.skipped.length) {
    const { skipped } = files;
    meta.skipped = skipped.length > 50 ? [...skipped.slice(0, 50), `… and ${skipped.length - 50} more`] : skipped;
  }

  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(messageId));
  const result = await conversationStub(env, route.conversationId).receiveEmail(
    route.conversationId,
    env.SITE_KEY,
    { id: route.visitorId, name: sender.name || null, email: address },
    `email:${base64url(new Uint8Array(digest))}`,
    text.shown || "(empty message)",
    meta,
    route.token,
  );
  const dropFiles = async () => {
    for (const f of files.stored) await env.ATTACHMENTS.delete(fileKey(route.conversationId, f.id));
  };
  if (!result.ok) {
    await dropFiles();
    return reject(message, `Not delivered: ${result.message}`, { conversationId: route.conversationId });
  }
  // A redelivered mail: keep the first copy's attachments only.
  if (!result.value.fresh) await dropFiles();
}
