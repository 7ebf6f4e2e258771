/**
 * The message log: rows in `messages` under gap-free sequence numbers, and
 * their translation to the wire's `Message`. Only storage here; who may
 * write what, and what a write changes, is in assignment.ts.
 */
import { randomId } from "../lib/crypto";
import type { Delivery, EmailMeta, FileRef, Message } from "../protocol";
import type { ConversationContext } from "./context";
import { writtenByStorage } from "./meta";

/** A `messages` row as stored. */
type MessageRow = {
  seq: number;
  client_id: string;
  kind: string;
  author_role: string;
  author_id: string;
  author_name: string;
  text: string;
  event: string | null;
  rating: number | null;
  file: string | null;
  channel: string;
  email: string | null;
  delivery: string | null;
  at: number;
};

/** Optional parts of a stored message beyond its text. */
export type MessageExtra = Pick<Message, "event" | "rating" | "file" | "channel" | "email" | "delivery">;

/** A stored row as the wire's `Message`. */
export function toMessage(r: MessageRow): Message {
  const m: Message = {
    seq: r.seq,
    clientId: r.client_id,
    kind: r.kind as Message["kind"],
    author: { role: r.author_role as Message["author"]["role"], id: r.author_id, name: r.author_name },
    text: r.text,
    at: r.at,
  };
  if (r.event) m.event = r.event as "joined" | "left" | "rated";
  if (r.event === "rated") m.rating = r.rating ?? 0;
  if (r.file) m.file = JSON.parse(r.file) as FileRef;
  if (r.channel === "email") m.channel = "email";
  if (r.email) m.email = JSON.parse(r.email) as EmailMeta;
  if (r.delivery) m.delivery = JSON.parse(r.delivery) as Delivery;
  return m;
}

/** The last sequence number (0 while the log is empty). */
export function lastSeq(c: ConversationContext): number {
  return c.hot.lastSeq;
}

/** Messages with seq < beforeSeq, newest `limit` of them, ascending. */
export function page(
  c: ConversationContext,
  beforeSeq: number,
  limit: number,
): { messages: Message[]; hasMore: boolean } {
  const rows = c.sql
    .exec<MessageRow>("SELECT * FROM messages WHERE seq < ? ORDER BY seq DESC LIMIT ?", beforeSeq, limit + 1)
    .toArray();
  const hasMore = rows.length > limit;
  return { messages: rows.slice(0, limit).reverse().map(toMessage), hasMore };
}

/** Up to `limit` messages after `afterSeq`, ascending. */
export function after(c: ConversationContext, afterSeq: number, limit: number): Message[] {
  return c.sql
    .exec<MessageRow>("SELECT * FROM messages WHERE seq > ? ORDER BY seq ASC LIMIT ?", afterSeq, limit)
    .toArray()
    .map(toMessage);
}

/** The stored row of a client's message, if that clientId was used. */
export function byClientId(c: ConversationContext, clientId: string): MessageRow | undefined {
  return c.sql.exec<MessageRow>("SELECT * FROM messages WHERE client_id = ?", clientId).toArray()[0];
}

/** The stored row of message `seq`. */
export function bySeq(c: ConversationContext, seq: number): MessageRow | undefined {
  return c.sql.exec<MessageRow>("SELECT * FROM messages WHERE seq = ?", seq).toArray()[0];
}

/**
 * Appends a message under the next sequence number, or returns null when
 * `clientId` is already in the log (nothing is written then, and no number
 * is taken). One statement does both the dedupe and the insert: the common
 * case, a new message, reads nothing first. Runs synchronously (no await
 * between reading the last number and inserting), so two messages can never
 * take the same number and the log has no gaps.
 */
export function append(
  c: ConversationContext,
  clientId: string,
  kind: Message["kind"],
  author: Message["author"],
  text: string,
  extra: MessageExtra = {},
): Message | null {
  const seq = lastSeq(c) + 1;
  const at = Date.now();
  const written = c.sql.exec(
    `INSERT INTO messages (seq, client_id, kind, author_role, author_id, author_name, text, event, rating, file, channel, email, delivery, at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (client_id) DO NOTHING`,
    seq,
    clientId,
    kind,
    author.role,
    author.id,
    author.name,
    text,
    extra.event ?? null,
    extra.rating ?? null,
    extra.file ? JSON.stringify(extra.file) : null,
    extra.channel ?? "chat",
    extra.email ? JSON.stringify(extra.email) : null,
    extra.delivery ? JSON.stringify(extra.delivery) : null,
    at,
  ).rowsWritten;
  if (written === 0) return null;
  // Every stored file (chat or email attachment, a mail kept as it arrived) is findable by id for serving.
  const email = extra.email;
  for (const f of [
    ...(extra.file ? [extra.file] : []),
    ...(email?.attachments ?? []),
    ...(email?.original ? [email.original] : []),
  ]) {
    c.sql.exec("INSERT INTO attachments (file_id, seq, meta) VALUES (?, ?, ?)", f.id, seq, JSON.stringify(f));
  }
  const hot = c.hot;
  hot.lastSeq = seq;
  hot.lastAt = at;
  // An operator's text or file is a reply: its insert also moved the read mark (a trigger, schema.ts), which the hot
  // copy now agrees with. And what the index's summary would read back (index-report.ts), as its queries count it:
  // the newest text or file message; a visitor's message is one more unread, a reply leaves none.
  if (kind === "text" || kind === "file") {
    hot.latest = { text, role: author.role, kind };
    if (author.role === "operator") {
      writtenByStorage(hot.meta, "lastReadSeq", seq);
      hot.unread = { mark: seq, n: 0 };
    }
  }
  if (author.role === "visitor" && hot.unread) hot.unread.n++;
  const message: Message = { seq, clientId, kind, author, text, at };
  if (extra.event) message.event = extra.event;
  if (extra.rating) message.rating = extra.rating;
  if (extra.file) message.file = extra.file;
  if (extra.channel === "email") message.channel = "email";
  if (extra.email) message.email = extra.email;
  if (extra.delivery) message.delivery = extra.delivery;
  return message;
}

/** A system event in the log ("Ada joined", "Rated 4/5"), under a fresh client id. */
export function appendEvent(
  c: ConversationContext,
  author: { id: string; name: string },
  text: string,
  extra: MessageExtra & { event: NonNullable<MessageExtra["event"]> },
): Message {
  const message = append(
    c,
    `event:${randomId()}`,
    "event",
    { role: "system", id: author.id, name: author.name },
    text,
    extra,
  );
  if (message === null) throw new Error("An event's fresh client id was already in the log");
  return message;
}

/** The attachment `fileId`, as stored with its message. */
export function attachment(c: ConversationContext, fileId: string): FileRef | null {
  const row = c.sql.exec<{ meta: string }>("SELECT meta FROM attachments WHERE file_id = ?", fileId).toArray()[0];
  return row ? (JSON.parse(row.meta) as FileRef) : null;
}
