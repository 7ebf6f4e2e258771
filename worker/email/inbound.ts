/**
 * The `email()` handler: one inbound mail (Email Workers + postal-mime)
 * becomes one message in the right conversation, or is refused with a reason.
 *
 * Limits are checked before any parsing: the raw size first (from the
 * envelope, without reading the body), then postal-mime's own caps on MIME
 * nesting and header size. Nothing is lost silently: every mail is either
 * stored in a conversation or refused with `setReject` and a reason a human
 * can read (the sending server reports it to the sender), plus a log line;
 * nothing throws out of here but a storage failure, which `index.ts` lets
 * through: Email Routing answers it with a temporary SMTP error, and the
 * sender's server delivers again later. A charset the decoder does not know is decoded as
 * windows-1252 (postal-mime's fallback).
 *
 * What one mail costs is bounded by its size: every step after the parse
 * reads a bounded part of it (parse.ts and html.ts say which), each in time
 * linear in what it reads. When a part is not shown in full, the message
 * says what was left out (`cut`) and the mail as it arrived is kept beside
 * it (`original`, an .eml file in R2), so nothing is lost.
 *
 * A mail whose sender is not verified (sender.ts) is kept, marked with the
 * reason, in a conversation of its own.
 */
import PostalMime, { type Email } from "postal-mime";
import type { Env } from "../env";
import { base64url, randomId } from "../lib/crypto";
import { fileKey, isImage, safeFileName, sniffType } from "../lib/files";
import type { FileRef } from "../protocol";
import { conversationStub, workspaceStub } from "../stubs";
import { checkSender } from "./sender";
import {
  fallbackMessageId,
  isAutomatic,
  MAX_EMAIL_BYTES,
  mailMeta,
  mailText,
  overParseBudget,
  referencedIds,
  REFUSED,
  senderOf,
  tokenFromAddress,
} from "./parse";
import { logWarn } from "../lib/log";

const PARSE_LIMITS = { maxNestingDepth: 20, maxHeadersSize: 256 * 1024, maxRfc822NestingDepth: 2 } as const;
const MAX_ATTACHMENTS = 10;

/** A refusal's detail for the log, as one line of text. */
function describe(detail: unknown): string | undefined {
  if (detail === undefined) return undefined;
  if (detail instanceof Error) return `${detail.name}: ${detail.message}`;
  return typeof detail === "string" ? detail : JSON.stringify(detail);
}

/** Refuses a mail: the reason goes back to the sender, and to the log with what identifies the mail. */
function reject(message: ForwardableEmailMessage, reason: string, detail?: unknown): void {
  logWarn("email.refused", { from: message.from, to: message.to, reason, detail: describe(detail) });
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

/** Stores one file of the conversation in R2, as chat files are stored. */
async function putFile(
  env: Env,
  conversationId: string,
  uploader: string,
  file: Omit<FileRef, "id" | "size">,
  bytes: Uint8Array,
): Promise<FileRef> {
  const ref: FileRef = { id: randomId(), size: bytes.byteLength, ...file };
  await env.ATTACHMENTS.put(fileKey(conversationId, ref.id), bytes, {
    httpMetadata: { contentType: ref.type },
    customMetadata: { name: ref.name, conversationId, uploader },
  });
  return ref;
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
    stored.push(await putFile(env, conversationId, uploader, { name, type, image: isImage(type) }, bytes));
  }
  return { stored, skipped };
}

/** The `email()` handler: one inbound mail → one message in the right conversation, or a refusal with a reason. */
export async function receiveEmail(message: ForwardableEmailMessage, env: Env): Promise<void> {
  if (message.rawSize > MAX_EMAIL_BYTES) return reject(message, REFUSED.tooLarge, `${message.rawSize} bytes`);
  const raw = await readRaw(message.raw, MAX_EMAIL_BYTES);
  if (!raw) return reject(message, REFUSED.tooLarge, "body over the limit");
  const over = overParseBudget(raw);
  if (over) return reject(message, over, `${raw.byteLength} bytes`);
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
  const check = checkSender(email.headers, message.from, address);
  const route = await workspaceStub(env).routeEmail({
    sender: address,
    token: tokenFromAddress(message.to),
    // Its own id first: a mail delivered again (a sender's retry) finds the conversation it opened.
    references: [messageId, ...referencedIds(email)],
    messageId,
    allowNew: !automatic,
    verified: check.verified,
    envelope: message.from,
  });
  // Automatic mail is never answered and never opens a conversation of its own.
  if (!route) {
    return check.verified
      ? reject(message, REFUSED.automatic, { messageId })
      : reject(message, `${REFUSED.unverifiedAutomatic}. ${check.reason}`, { messageId });
  }

  const text = mailText(email);
  const files = await storeAttachments(env, route.conversationId, `email:${address}`, email.attachments);
  const meta = mailMeta(email, sender, message.to, messageId, text, automatic);
  if (!check.verified) meta.unverified = check.reason;
  if (meta.cut) {
    // Part of it is not shown: keep the mail as it arrived, as an .eml file of the conversation.
    const original = { name: "original-message.eml", type: "message/rfc822", image: false } as const;
    meta.original = await putFile(env, route.conversationId, `email:${address}`, original, raw);
  }
  if (files.stored.length) meta.attachments = files.stored;
  if (files.skipped.length) {
    const { skipped } = files;
    meta.skipped = skipped.length > 50 ? [...skipped.slice(0, 50), `… and ${skipped.length - 50} more`] : skipped;
  }

  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(messageId));
  const result = await conversationStub(env, route.conversationId).receiveEmail(
    route.conversationId,
    env.WORKSPACE_ID,
    { id: route.visitorId, name: sender.name || null, email: address },
    `email:${base64url(new Uint8Array(digest))}`,
    text.shown || "(empty message)",
    meta,
    route.token,
  );
  const dropFiles = async () => {
    for (const f of [...files.stored, ...(meta.original ? [meta.original] : [])]) {
      await env.ATTACHMENTS.delete(fileKey(route.conversationId, f.id));
    }
  };
  if (!result.ok) {
    await dropFiles();
    return reject(message, `Not delivered: ${result.message}`, { conversationId: route.conversationId });
  }
  // A redelivered mail: keep the first copy's attachments only.
  if (!result.value.fresh) await dropFiles();
}
