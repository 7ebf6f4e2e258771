/**
 * The Email channel of a conversation: a visitor's mail stored as their
 * message, and an operator's reply (text or file) stored with an envelope,
 * then sent with `send_email` and its delivery state recorded on the message.
 *
 * Every write here is stored (and acked) first and delivered afterwards, in
 * `waitUntil`: an ack means "stored", and the delivery frame follows.
 */
import { EmailMessage } from "cloudflare:email";
import { buildReply, MAX_OUTBOUND_EMAIL_BYTES, replySubject, tokenAddress } from "../email/outbound";
import { refuse } from "../errors";
import { randomId } from "../lib/crypto";
import { fileKey } from "../lib/files";
import type { Channel, Delivery, EmailMeta, FileRef } from "../protocol";
import { recheckListeners } from "./access";
import { store, type Stored } from "./assignment";
import type { ConversationContext } from "./context";
import { bySeq, toMessage, type MessageExtra } from "./log";
import { broadcast, type SocketIdentity } from "./sockets";
import { logError } from "../lib/log";

/** Stores an inbound mail as the visitor's message (the Worker's email handler found the conversation). */
export function receiveEmail(
  c: ConversationContext,
  visitor: { id: string; name: string | null; email: string },
  clientId: string,
  text: string,
  email: EmailMeta,
  token: string,
): Stored {
  const meta = c.meta;
  if (meta.visitorEmail === null) meta.visitorEmail = visitor.email;
  if (meta.visitorName === null && visitor.name) meta.visitorName = visitor.name;
  meta.emailToken = token;
  const who: SocketIdentity = { role: "visitor", id: visitor.id, name: visitor.name ?? visitor.email };
  const result = store(c, who, clientId, "text", text, { channel: "email", email });
  publish(c, result);
  return result;
}

/**
 * Checks that an email reply can go out (the visitor has an address, the
 * workspace has a sending address) and makes sure the conversation has a
 * thread token for its Reply-To address. Call before `post` on the Email channel.
 */
export async function prepareEmail(c: ConversationContext): Promise<void> {
  const meta = c.meta;
  const to = meta.visitorEmail;
  if (!to) refuse("no_email", "This visitor has not given an email address");
  const settings = await c.callWorkspace((workspace) => workspace.getSettings());
  if (!settings.emailAddress) refuse("no_sender", "Set the workspace email address first (Settings)");
  const token = await c.callWorkspace((workspace) => workspace.ensureEmailThread(meta.id!, meta.visitorId!, to));
  meta.emailToken = token;
  meta.emailFrom = settings.emailAddress;
  meta.emailName = settings.emailName;
}

/**
 * Stores a message on `channel` (`prepareEmail` must have run for email):
 * chat as it is, email with the envelope of a reply, delivery "sending".
 */
export function post(
  c: ConversationContext,
  who: SocketIdentity,
  clientId: string,
  kind: "text" | "file",
  text: string,
  channel: Channel,
  file?: FileRef,
): Stored {
  const extra: MessageExtra = channel === "email" ? envelope(c) : {};
  return store(c, who, clientId, kind, text, file ? { file, ...extra } : extra);
}

/** Tells everyone but `except` of a freshly stored message, and sends it if it is an email reply. */
export function publish(c: ConversationContext, result: Stored, except?: WebSocket): void {
  if (!result.fresh) return;
  broadcast(c, { type: "message", message: result.message }, except);
  recheckListeners(c);
  if (result.message.delivery) c.ctx.waitUntil(deliver(c, result.message.seq));
}

/** The envelope of an outbound reply; delivery starts as "sending". */
function envelope(c: ConversationContext): MessageExtra {
  const meta = c.meta;
  const from = meta.emailFrom!;
  const domain = from.slice(from.lastIndexOf("@") + 1);
  const lastInbound = c.sql
    .exec<{ email: string }>(
      "SELECT email FROM messages WHERE channel = 'email' AND author_role = 'visitor' ORDER BY seq DESC LIMIT 1",
    )
    .toArray()[0];
  const subject = lastInbound
    ? (JSON.parse(lastInbound.email) as EmailMeta).subject
    : `Your conversation with ${c.env.WORKSPACE_NAME}`;
  return {
    channel: "email",
    email: {
      subject: replySubject(subject),
      from: { name: meta.emailName ?? c.env.WORKSPACE_NAME, address: from },
      to: meta.visitorEmail!,
      messageId: `<${randomId()}@${domain}>`,
    },
    delivery: { state: "sending" },
  };
}

/** Sends the stored email message `seq` and records how it went. */
async function deliver(c: ConversationContext, seq: number): Promise<void> {
  const row = bySeq(c, seq);
  if (!row?.email) return;
  const meta = c.meta;
  const message = toMessage(row);
  const email = message.email!;
  const ids = c.sql
    .exec<{ id: string }>(
      "SELECT json_extract(email, '$.messageId') AS id FROM messages WHERE channel = 'email' AND seq < ? ORDER BY seq DESC LIMIT 20",
      seq,
    )
    .toArray()
    .map((r) => r.id)
    .reverse();
  const lastInbound = c.sql
    .exec<{ id: string }>(
      "SELECT json_extract(email, '$.messageId') AS id FROM messages WHERE channel = 'email' AND author_role = 'visitor' AND seq < ? ORDER BY seq DESC LIMIT 1",
      seq,
    )
    .toArray()[0];
  let delivery: Delivery;
  try {
    let attachment: { name: string; type: string; bytes: Uint8Array } | undefined;
    if (message.file) {
      const object = await c.env.ATTACHMENTS.get(fileKey(meta.id!, message.file.id));
      if (!object) throw new Error("the attachment is missing");
      attachment = {
        name: message.file.name,
        type: message.file.type,
        bytes: new Uint8Array(await object.arrayBuffer()),
      };
    }
    const raw = buildReply({
      from: email.from,
      to: email.to,
      replyTo: tokenAddress(email.from.address, meta.emailToken!),
      subject: email.subject,
      text: message.kind === "file" ? `${message.author.name} sent you a file: ${message.file?.name}` : message.text,
      messageId: email.messageId,
      inReplyTo: lastInbound?.id ?? null,
      references: ids,
      attachment,
    });
    if (raw.length > MAX_OUTBOUND_EMAIL_BYTES) throw new Error("the email would be larger than 5 MB");
    await c.env.SEND_EMAIL.send(new EmailMessage(email.from.address, email.to, raw));
    delivery = { state: "sent" };
  } catch (err) {
    logError("email.delivery_failed", { conversationId: meta.id }, err);
    delivery = { state: "failed", error: err instanceof Error ? err.message : "sending failed" };
  }
  if (delivery.state === "sent") {
    // The mail went out, so it is "sent" whatever happens next. Its Message-ID lets an answer that lost the Reply-To
    // address still find this conversation by its References; should recording it fail, that address still does.
    try {
      await c.callWorkspace((workspace) => workspace.recordEmailId(meta.id!, email.messageId));
    } catch (err) {
      logError("email.message_id_not_recorded", { conversationId: meta.id }, err);
    }
  }
  c.sql.exec("UPDATE messages SET delivery = ? WHERE seq = ?", JSON.stringify(delivery), seq);
  broadcast(c, { type: "delivery", seq, delivery });
}
