/**
 * Verified site users (`Microchat.setUser` with a valid hash): a logged-in
 * customer keeps one conversation across devices, bound to their user id.
 */
import { randomId } from "../lib/crypto";
import type { WorkspaceContext } from "./context";

/** A visitor identity and their conversation. */
export interface VisitorBinding {
  visitorId: string;
  conversationId: string;
}

/** The verified_users table. */
export class VerifiedUsers {
  constructor(private readonly w: WorkspaceContext) {}

  /**
   * The conversation of a verified user: the one bound to their id, or, the
   * first time, the one the caller is in now (if it is not someone else's).
   */
  bind(userId: string, current: VisitorBinding | null): VisitorBinding {
    const bound = this.w.sql
      .exec<{ visitor_id: string; conversation_id: string }>(
        "SELECT visitor_id, conversation_id FROM verified_users WHERE user_id = ?",
        userId,
      )
      .toArray()[0];
    if (bound) return { visitorId: bound.visitor_id, conversationId: bound.conversation_id };
    const taken =
      current !== null &&
      this.w.sql.exec("SELECT 1 FROM verified_users WHERE conversation_id = ?", current.conversationId).toArray()
        .length > 0;
    const chosen = current && !taken ? current : { visitorId: randomId(), conversationId: randomId() };
    this.w.sql.exec(
      "INSERT INTO verified_users (user_id, visitor_id, conversation_id) VALUES (?, ?, ?)",
      userId,
      chosen.visitorId,
      chosen.conversationId,
    );
    return chosen;
  }

  /**
   * A user whose bound conversation turned out to be deleted (its unbinding
   * was lost) gets a new one: deleting a conversation never locks a person
   * out. Returns the binding as it now is.
   */
  rebind(userId: string, deletedConversationId: string): VisitorBinding {
    this.w.sql.exec(
      "UPDATE verified_users SET visitor_id = ?, conversation_id = ? WHERE user_id = ? AND conversation_id = ?",
      randomId(),
      randomId(),
      userId,
      deletedConversationId,
    );
    return this.bind(userId, null);
  }

  /** Unbinds a deleted conversation. Call inside the deletion's transaction. */
  forgetConversation(id: string): void {
    this.w.sql.exec("DELETE FROM verified_users WHERE conversation_id = ?", id);
  }
}
