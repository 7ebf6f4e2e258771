/**
 * Every socket an operator holds, and ending them when the right they were
 * opened with ends: an operator removed, a session signed out (or all of an
 * operator's sessions at once).
 *
 * Panels are this object's own sockets (panel-sockets.ts). Conversation
 * sockets live in the conversations' objects, so the Worker records here
 * which conversations each session opened a socket on, at the moment it
 * admits the upgrade (the same call that checks the session, so it costs
 * nothing extra); ending a session tells exactly those conversations.
 *
 * The word goes through an outbox (`socket_ends`), written in the same
 * event that ends the session: it is sent at once, and whatever was not
 * heard (a conversation that failed, an instance that died mid-way) is sent
 * again by the alarm, with a growing wait, until it is heard or every socket
 * it is about has run out of time anyway. Each conversation also asks again
 * on its own after a while (conversation/access.ts), and a session's expiry
 * travels with the socket.
 */
import type { GrantEnd } from "../lib/grants";
import { conversationStub } from "../stubs";
import type { WorkspaceContext } from "./context";
import { SESSION_TTL_MS } from "./operators";
import type { PanelSockets } from "./panel-sockets";
import type { AlarmHandle, Scheduler, ScheduledJob } from "./scheduler";
import { logWarn } from "../lib/log";

/** The first wait before telling a conversation again; it doubles with each attempt, up to RETRY_MAX_MS. */
const RETRY_FIRST_MS = 5_000;
const RETRY_MAX_MS = 5 * 60_000;
/** Words sent again per alarm. */
const RETRY_BATCH = 100;

/** One conversation still to be told. */
type SocketEnd = {
  id: number;
  conversation_id: string;
  operator_id: string;
  session_id: string | null;
  why: GrantEnd;
  attempts: number;
};

export class OperatorSockets implements ScheduledJob {
  private readonly alarm: AlarmHandle;

  constructor(
    private readonly w: WorkspaceContext,
    private readonly panels: PanelSockets,
    scheduler: Scheduler,
  ) {
    this.alarm = scheduler.register(this);
  }

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
   * opened a socket on is told to close it, through the outbox. Call once
   * the session rows are gone (so a late upgrade is refused too).
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
    const now = Date.now();
    const words = conversations.map((conversationId) => {
      const id = this.w.sql
        .exec<{ id: number }>(
          `INSERT INTO socket_ends (conversation_id, operator_id, session_id, why, next_at, until)
           VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
          conversationId,
          operatorId,
          sessionId,
          why,
          now + RETRY_FIRST_MS,
          now + SESSION_TTL_MS,
        )
        .one().id;
      return { id, conversation_id: conversationId, operator_id: operatorId, session_id: sessionId, why, attempts: 0 };
    });
    // Told at once; should this instance go before every conversation has heard, the alarm sends what is left.
    this.w.ctx.waitUntil(Promise.all([this.alarm.arm(now + RETRY_FIRST_MS), this.tell(words)]));
  }

  /** Sends again the words that are due (the alarm). */
  async run(): Promise<void> {
    const now = Date.now();
    this.w.sql.exec("DELETE FROM socket_ends WHERE until <= ?", now);
    const due = this.w.sql
      .exec<SocketEnd>(
        `SELECT id, conversation_id, operator_id, session_id, why, attempts FROM socket_ends
         WHERE next_at <= ? ORDER BY next_at LIMIT ?`,
        now,
        RETRY_BATCH,
      )
      .toArray();
    await this.tell(due);
  }

  nextAt(): number | null {
    return this.w.sql.exec<{ at: number | null }>("SELECT MIN(next_at) AS at FROM socket_ends").one().at;
  }

  /** Tells each conversation; a word heard is done with, one not heard waits longer for its next try. */
  private async tell(words: SocketEnd[]): Promise<void> {
    const results = await Promise.allSettled(
      words.map((word) =>
        conversationStub(this.w.env, word.conversation_id).endOperatorSockets(
          word.operator_id,
          word.session_id,
          word.why,
        ),
      ),
    );
    let failed = 0;
    results.forEach((result, i) => {
      const word = words[i]!;
      if (result.status === "fulfilled") {
        this.w.sql.exec("DELETE FROM socket_ends WHERE id = ?", word.id);
        return;
      }
      failed++;
      const wait = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** word.attempts);
      this.w.sql.exec(
        "UPDATE socket_ends SET attempts = attempts + 1, next_at = ? WHERE id = ?",
        Date.now() + wait,
        word.id,
      );
    });
    if (failed > 0) {
      // Those conversations are told again later; meanwhile they refuse the session once their last word of it is old.
      logWarn("session_end.not_told", { operatorId: words[0]!.operator_id, conversations: failed });
    }
  }
}
