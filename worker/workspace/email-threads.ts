/**
 * Email threading: which conversation an inbound mail belongs to.
 *
 * Each conversation on the Email channel has a thread: the sender's address
 * and a token that goes into the reply address (`support+<token>@…`), and
 * the Message-IDs of the mails in it, so a reply finds its conversation by
 * its To address or by In-Reply-To/References. A match counts only from the
 * conversation's own sender, so two people are never merged.
 *
 * A mail whose sender is not verified (email/sender.ts: the envelope does not
 * align with From, or our receiving server's checks failed) is never threaded
 * by token or references: anyone can write Alice's address in From and her
 * Message-ID in In-Reply-To. It opens a conversation of its own, marked, and
 * only a redelivery of that same mail (same envelope sender, same
 * Message-ID) finds that conversation again. Its thread is still Alice's
 * address, so a verified mail from Alice herself (say, "I never wrote
 * this", in answer to a reply she got) joins it.
 */
import { newThreadToken } from "../email/outbound";
import { randomId } from "../lib/crypto";
import type { WorkspaceContext } from "./context";

type Thread = { conversation_id: string; visitor_id: string; sender: string; token: string };

/** Where an inbound mail goes. */
export interface RoutedEmail {
  conversationId: string;
  visitorId: string;
  token: string;
}

/** An inbound mail's threading facts, as the email handler read them. */
export interface InboundEmail {
  sender: string;
  token: string | null;
  references: string[];
  messageId: string;
  /** False for auto-replies and bounces: they may join a thread but never start one. */
  allowNew: boolean;
  /** The envelope sender aligns with From and our server's checks agree (email/sender.ts). */
  verified: boolean;
  /** The envelope sender (`MAIL FROM`), which tells a redelivery of an unverified mail from a copy. */
  envelope: string;
}

/** The email_threads and email_message_ids tables. */
export class EmailThreads {
  constructor(private readonly w: WorkspaceContext) {}

  /**
   * Finds the conversation of an inbound mail: by the token in the address
   * it was sent to, then by its references; else a new conversation (unless
   * `allowNew` is false: then null). Records the mail's Message-ID either way.
   * A mail whose sender is not verified goes to `routeUnverified` instead.
   */
  route(input: InboundEmail): RoutedEmail | null {
    if (!input.verified) return this.routeUnverified(input);
    let thread: Thread | undefined;
    if (input.token) {
      thread = this.w.sql
        .exec<Thread>("SELECT * FROM email_threads WHERE token = ? AND sender = ?", input.token, input.sender)
        .toArray()[0];
    }
    for (const ref of input.references) {
      if (thread) break;
      thread = this.byMessageId(ref, input.sender);
    }
    if (!thread) {
      if (!input.allowNew) return null;
      thread = this.open(input.sender);
    }
    this.recordMessageId(thread.conversation_id, input.messageId);
    return { conversationId: thread.conversation_id, visitorId: thread.visitor_id, token: thread.token };
  }

  /**
   * A mail whose sender is not verified: a new conversation (never one by
   * token or references), unless it is a redelivery of the same mail. Its
   * Message-ID is recorded under a key of its own, so neither it nor a
   * forged copy of it can lead another mail into a thread.
   */
  private routeUnverified(input: InboundEmail): RoutedEmail | null {
    if (!input.allowNew) return null;
    const key = `unverified ${input.envelope.toLowerCase()} ${input.messageId}`;
    let thread = this.byMessageId(key, input.sender);
    if (!thread) {
      thread = this.open(input.sender);
      this.recordMessageId(thread.conversation_id, key);
    }
    return { conversationId: thread.conversation_id, visitorId: thread.visitor_id, token: thread.token };
  }

  /** The thread token of a conversation (made on first use) so email replies find their way back. */
  ensure(conversationId: string, visitorId: string, sender: string): string {
    const existing = this.w.sql
      .exec<{ token: string }>("SELECT token FROM email_threads WHERE conversation_id = ?", conversationId)
      .toArray()[0];
    if (existing) return existing.token;
    const token = newThreadToken();
    this.insert({ conversation_id: conversationId, visitor_id: visitorId, sender: sender.toLowerCase(), token });
    return token;
  }

  /** Remembers a Message-ID of the conversation (a mail received, or a reply we sent). */
  recordMessageId(conversationId: string, messageId: string): void {
    this.w.sql.exec(
      "INSERT OR IGNORE INTO email_message_ids (message_id, conversation_id) VALUES (?, ?)",
      messageId,
      conversationId,
    );
  }

  /** Conversations whose thread is with this sender. */
  conversationsOf(sender: string): string[] {
    return this.w.sql
      .exec<{ id: string }>("SELECT conversation_id AS id FROM email_threads WHERE sender = ?", sender)
      .toArray()
      .map((r) => r.id);
  }

  /** Forgets a deleted conversation's thread. Call inside the deletion's transaction. */
  forgetConversation(id: string): void {
    this.w.sql.exec("DELETE FROM email_threads WHERE conversation_id = ?", id);
    this.w.sql.exec("DELETE FROM email_message_ids WHERE conversation_id = ?", id);
  }

  /** The thread with `sender` that recorded `messageId`. */
  private byMessageId(messageId: string, sender: string): Thread | undefined {
    return this.w.sql
      .exec<Thread>(
        `SELECT t.* FROM email_message_ids m JOIN email_threads t ON t.conversation_id = m.conversation_id
         WHERE m.message_id = ? AND t.sender = ?`,
        messageId,
        sender,
      )
      .toArray()[0];
  }

  /** A new conversation's thread with `sender`. */
  private open(sender: string): Thread {
    const thread = { conversation_id: randomId(), visitor_id: randomId(), sender, token: newThreadToken() };
    this.insert(thread);
    return thread;
  }

  private insert(thread: Thread): void {
    this.w.sql.exec(
      "INSERT INTO email_threads (conversation_id, visitor_id, sender, token) VALUES (?, ?, ?, ?)",
      thread.conversation_id,
      thread.visitor_id,
      thread.sender,
      thread.token,
    );
  }
}
