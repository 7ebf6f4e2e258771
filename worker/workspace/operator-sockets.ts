/**
 * Every socket an operator holds, and ending them when the right they were
 * opened with ends: an operator removed, a session signed out (or all of an
 * operator's sessions at once).
 *
 * Panels are this object's own sockets (panel-sockets.ts). Conversation
 * sockets live in the conversations' objects, so the Worker records here
 * which conversations each session opened a socket on, at the moment it
 * admits the upgrade (the same call that checks the session, so it costs
 * nothing extra); ending a session tells exactly those conversations. Should
 * that word be lost (an instance dying mid-way), each conversation asks
 * again on its own at a bounded rate (conversation/access.ts), and a
 * session's expiry travels with the socket.
 */
import type { GrantEnd } from "../lib/grants";
import { conversationStub } from "../stubs";
import type { WorkspaceContext } from "./context";
import type { PanelSockets } from "./panel-sockets";
import { logWarn } from "../lib/log";

export class OperatorSockets {
  constructor(
    private readonly w: WorkspaceContext,
    private readonly panels: PanelSockets,
  ) {}

  /** Records that session `sessionId` of `operatorId` opens a socket on conversation `conversationId`. */
  track(sessionId: string, operatorId: string, conversationId: string): void {
    this.w.sql.exec(
      "INSERT OR IGNORE INTO operator_sockets (session_id, operator_id, conversation_id) VALUES (?, ?, ?)",
      sessionId,
      operatorId,
      conversationId,
    );
    // Rows of this operator's sessions that have ended by expiry are of no more use.
    this.w.sql.exec(
      `DELETE FROM operator_sockets WHERE operator_id = ?
         AND session_id NOT IN (SELECT token_hash FROM sessions WHERE operator_id = ? AND expires_at > ?)`,
      operatorId,
      operatorId,
      Date.now(),
    );
  }

  /**
   * Ends the sockets of one session of `operatorId`, or of all their sessions
   * (`sessionId` null): their panels close now, and every conversation they
   * opened a socket on is told to close it. Call once the session rows are
   * gone (so a late upgrade is refused too).
   */
  end(operatorId: string, why: GrantEnd, sessionId: string | null = null): void {
    this.panels.end(operatorId, sessionId, why);
    const rows = this.w.sql
      .exec<{ conversation_id: string }>(
        sessionId
          ? "DELETE FROM operator_sockets WHERE operator_id = ? AND session_id = ? RETURNING conversation_id"
          : "DELETE FROM operator_sockets WHERE operator_id = ? RETURNING conversation_id",
        ...(sessionId ? [operatorId, sessionId] : [operatorId]),
      )
      .toArray();
    const conversations = [...new Set(rows.map((r) => r.conversation_id))];
    if (conversations.length === 0) return;
    this.w.ctx.waitUntil(this.tell(conversations, operatorId, sessionId, why));
  }

  private async tell(conversations: string[], operatorId: string, sessionId: string | null, why: GrantEnd) {
    const results = await Promise.allSettled(
      conversations.map((id) => conversationStub(this.w.env, id).endOperatorSockets(operatorId, sessionId, why)),
    );
    const failed = results.filter((r) => r.status === "rejected").length;
    // Those conversations still refuse the session on the socket's next frames (they re-check it).
    if (failed > 0) logWarn("session_end.not_told", { operatorId, sessionId, conversations: failed });
  }
}
