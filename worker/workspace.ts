/**
 * Workspace Durable Object: one instance per workspace.
 *
 * It holds what spans conversations: operators and their sessions, the
 * conversation index behind the panel's columns (Unassigned, Mine, All) and
 * the panel sockets that receive index changes live. Conversation objects
 * report state changes here; ordinary chat messages do not come through
 * (their previews are coalesced by each conversation), so this single object
 * does not become the bottleneck of a busy site.
 *
 * Password hashing runs in the Worker, not here: PBKDF2 is deliberately slow
 * and would stall every panel of the workspace while it runs.
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "./env";
import { randomId, sha256 } from "./lib/crypto";
import { attempt, RefusedError, type Result } from "./lib/result";
import { backoffMs, MAX_WEBHOOK_ATTEMPTS, signWebhook } from "./lib/webhooks";
import type {
  ConversationStatus,
  ConversationSummary,
  Message,
  Operator,
  OperatorPresence,
  OperatorRef,
  OperatorReport,
  OperatorReportResponse,
  PresenceStatus,
  ApiTokenInfo,
  WebhookDeliveryInfo,
  WebhookEvent,
  WebhookInfo,
  PanelServerFrame,
  WorkspaceSettings,
} from "./protocol";
import { newThreadToken } from "./email";
import { migrate } from "./schema/migrate";
import { workspaceMigrations } from "./schema/workspace";

/** How long an operator session lasts. */
export const SESSION_TTL_MS = 30 * 24 * 3600 * 1000;
const DAY_MS = 24 * 3600 * 1000;
/** How often retention looks for conversations that are due. */
const RETENTION_CHECK_MS = 6 * 3600 * 1000;
const RETENTION_BATCH = 50;

/** A figure a conversation reports for Report > Operator. */
export interface OperatorStat {
  kind: "joined" | "message" | "first_response";
  operatorId: string;
  at: number;
  /** Messages: how many; first_response: milliseconds. */
  value: number;
}
/** Rows of "all" sent with the first index frame. */
const ALL_FIRST_PAGE = 100;

/**
 * Index reports are the workspace's busiest traffic, and it is one object.
 * A conversation reports a preview at once after a quiet spell, and while
 * busy at most once per window; the window widens with the number of
 * conversations active at the same time, so reports stay near this rate.
 * (State changes, and a message after a quiet spell, are never held back:
 * the window only thins out previews of conversations that are busy.)
 */
const REPORTS_PER_SECOND = 20;
const REPORT_WINDOW_MIN_MS = 1000;
const REPORT_WINDOW_MAX_MS = 10_000;
/**
 * A conversation counts as active for this long after its last report:
 * longer than the widest window plus its jitter, so a busy conversation
 * never drops out of the count between two of its own reports.
 */
const ACTIVE_FOR_MS = 15_000;

type OperatorRow = {
  id: string;
  name: string;
  email: string;
  password_hash: string;
  admin: number;
  created_at: number;
};

type ConversationRow = {
  id: string;
  status: string;
  visitor_id: string;
  visitor_name: string | null;
  visitor_email: string | null;
  operators: string;
  preview: string;
  preview_role: string;
  last_at: number;
  unread: number;
  created_at: number;
};

export type View = "unassigned" | "assigned" | "mine" | "all";

interface PanelIdentity {
  operatorId: string;
}

function toOperator(r: OperatorRow): Operator {
  return { id: r.id, name: r.name, email: r.email, admin: r.admin === 1, createdAt: r.created_at };
}

function toSummary(r: ConversationRow): ConversationSummary {
  return {
    id: r.id,
    status: r.status as ConversationStatus,
    visitor: { id: r.visitor_id, name: r.visitor_name, email: r.visitor_email },
    operators: JSON.parse(r.operators) as OperatorRef[],
    preview: r.preview,
    previewRole: r.preview_role as ConversationSummary["previewRole"],
    lastAt: r.last_at,
    unread: r.unread,
    createdAt: r.created_at,
  };
}

/**
 * What the workspace answers a conversation's index report: the version it
 * now holds, and whether (and since when) webhooks want message.created.
 */
export interface IndexReportAnswer {
  version: number;
  messages: boolean;
  since: number | null;
  /** How long the conversation should wait between reports while it is busy. */
  windowMs: number;
}

export class Workspace extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    void ctx.blockConcurrencyWhile(async () => {
      migrate(this.sql, workspaceMigrations);
    });
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('{"type":"ping"}', '{"type":"pong"}'));
  }

  // -------------------------------------------------------------------------
  // Operators and sessions

  async needsSetup(): Promise<boolean> {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM operators").one().n === 0;
  }

  /**
   * Creates the first admin. Atomic: two setup requests racing each other
   * cannot both succeed, because this runs without awaiting in between.
   */
  async setup(input: {
    name: string;
    email: string;
    passwordHash: string;
  }): Promise<Result<{ operator: Operator; token: string }>> {
    return attempt(async () => {
      if (!(await this.needsSetup())) throw new RefusedError(409, "already_set_up", "This workspace is already set up");
      const operator = this.insertOperator({ ...input, admin: true });
      return { operator, token: await this.createSession(operator.id) };
    });
  }

  private insertOperator(input: { name: string; email: string; passwordHash: string; admin: boolean }): Operator {
    const exists = this.sql.exec("SELECT 1 FROM operators WHERE email = ?", input.email).toArray().length > 0;
    if (exists) throw new RefusedError(409, "email_taken", "An operator with that email already exists");
    const row: OperatorRow = {
      id: randomId(),
      name: input.name,
      email: input.email,
      password_hash: input.passwordHash,
      admin: input.admin ? 1 : 0,
      created_at: Date.now(),
    };
    this.sql.exec(
      "INSERT INTO operators (id, name, email, password_hash, admin, created_at) VALUES (?, ?, ?, ?, ?, ?)",
      row.id,
      row.name,
      row.email,
      row.password_hash,
      row.admin,
      row.created_at,
    );
    return toOperator(row);
  }

  /** The stored password hash for an email, for the Worker to verify. */
  async credentials(email: string): Promise<{ operatorId: string; passwordHash: string } | null> {
    const row = this.sql
      .exec<{ id: string; password_hash: string }>("SELECT id, password_hash FROM operators WHERE email = ?", email)
      .toArray()[0];
    return row ? { operatorId: row.id, passwordHash: row.password_hash } : null;
  }

  /** Starts a session; the raw token goes to the cookie, only its hash is stored. */
  async createSession(operatorId: string): Promise<string> {
    const token = randomId() + randomId();
    const now = Date.now();
    this.sql.exec("DELETE FROM sessions WHERE expires_at < ?", now);
    this.sql.exec(
      "INSERT INTO sessions (token_hash, operator_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
      await sha256(token),
      operatorId,
      now,
      now + SESSION_TTL_MS,
    );
    return token;
  }

  async endSession(token: string): Promise<void> {
    this.sql.exec("DELETE FROM sessions WHERE token_hash = ?", await sha256(token));
  }

  /** The operator a session token belongs to, or null if unknown or expired. */
  async authenticate(token: string): Promise<Operator | null> {
    if (typeof token !== "string" || token.length !== 44) return null;
    const hash = await sha256(token);
    const row = this.sql
      .exec<OperatorRow>(
        "SELECT o.* FROM sessions s JOIN operators o ON o.id = s.operator_id WHERE s.token_hash = ? AND s.expires_at > ?",
        hash,
        Date.now(),
      )
      .toArray()[0];
    return row ? toOperator(row) : null;
  }

  // -------------------------------------------------------------------------
  // API tokens (REST API): shown once, stored as a hash, acting as their creator

  async createToken(actor: Operator, name: string): Promise<Result<{ token: string; info: ApiTokenInfo }>> {
    return attempt(async () => {
      this.requireAdmin(actor);
      const token = `mct_${randomId()}${randomId()}`;
      const info: ApiTokenInfo = {
        id: randomId(),
        name,
        operatorId: actor.id,
        createdAt: Date.now(),
        lastUsedAt: null,
      };
      this.sql.exec(
        "INSERT INTO api_tokens (id, name, token_hash, operator_id, created_at) VALUES (?, ?, ?, ?, ?)",
        info.id,
        name,
        await sha256(token),
        actor.id,
        info.createdAt,
      );
      return { token, info };
    });
  }

  async listTokens(actor: Operator): Promise<Result<ApiTokenInfo[]>> {
    return attempt(() => {
      this.requireAdmin(actor);
      return this.sql
        .exec<{ id: string; name: string; operator_id: string; created_at: number; last_used_at: number | null }>(
          "SELECT id, name, operator_id, created_at, last_used_at FROM api_tokens WHERE revoked_at IS NULL ORDER BY created_at",
        )
        .toArray()
        .map((r) => ({
          id: r.id,
          name: r.name,
          operatorId: r.operator_id,
          createdAt: r.created_at,
          lastUsedAt: r.last_used_at,
        }));
    });
  }

  async revokeToken(actor: Operator, id: string): Promise<Result<null>> {
    return attempt(() => {
      this.requireAdmin(actor);
      const done = this.sql.exec(
        "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
        Date.now(),
        id,
      );
      if (done.rowsWritten === 0) throw new RefusedError(404, "not_found", "No such token");
      return null;
    });
  }

  /** The operator an API token acts as, or null (unknown, revoked, or its operator removed). */
  async authenticateToken(token: string): Promise<Operator | null> {
    if (typeof token !== "string" || !/^mct_[A-Za-z0-9_-]{44}$/.test(token)) return null;
    const hash = await sha256(token);
    const row = this.sql
      .exec<OperatorRow & { token_id: string }>(
        `SELECT o.*, t.id AS token_id FROM api_tokens t JOIN operators o ON o.id = t.operator_id
         WHERE t.token_hash = ? AND t.revoked_at IS NULL`,
        hash,
      )
      .toArray()[0];
    if (!row) return null;
    this.sql.exec("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", Date.now(), row.token_id);
    return toOperator(row);
  }

  async listOperators(): Promise<Operator[]> {
    return this.sql.exec<OperatorRow>("SELECT * FROM operators ORDER BY created_at").toArray().map(toOperator);
  }

  async addOperator(
    actor: Operator,
    input: { name: string; email: string; passwordHash: string; admin: boolean },
  ): Promise<Result<Operator>> {
    return attempt(() => {
      this.requireAdmin(actor);
      const operator = this.insertOperator(input);
      this.broadcastPresence();
      return operator;
    });
  }

  async removeOperator(actor: Operator, operatorId: string): Promise<Result<null>> {
    return attempt(() => this.remove(actor, operatorId));
  }

  private remove(actor: Operator, operatorId: string): null {
    this.requireAdmin(actor);
    if (operatorId === actor.id) throw new RefusedError(400, "cannot_remove_self", "You cannot remove yourself");
    const exists = this.sql.exec("SELECT 1 FROM operators WHERE id = ?", operatorId).toArray().length > 0;
    if (!exists) throw new RefusedError(404, "not_found", "No such operator");
    this.ctx.storage.transactionSync(() => {
      this.sql.exec("DELETE FROM sessions WHERE operator_id = ?", operatorId);
      this.sql.exec("DELETE FROM operators WHERE id = ?", operatorId);
    });
    // A removed operator's open panels stop receiving anything at once.
    for (const ws of this.ctx.getWebSockets(`op:${operatorId}`)) {
      try {
        ws.close(4003, "Operator removed");
      } catch {
        // Already closed.
      }
    }
    this.broadcastPresence();
    return null;
  }

  private requireAdmin(actor: Operator): void {
    // Re-read from storage: the caller's copy may predate a demotion.
    const row = this.sql.exec<{ admin: number }>("SELECT admin FROM operators WHERE id = ?", actor.id).toArray()[0];
    if (!row || row.admin !== 1) throw new RefusedError(403, "forbidden", "Only admins can manage operators");
  }

  // -------------------------------------------------------------------------
  // Conversation index

  /**
   * How many conversations wait in Unassigned: counted once per instance,
   * then kept by the two places that change a status (a report, a removal),
   * so panels show the true number even when they hold only the newest 200.
   */
  private waiting: number | null = null;

  private waitingCount(): number {
    this.waiting ??= this.sql
      .exec<{ n: number }>("SELECT COUNT(*) AS n FROM conversations WHERE status = 'unassigned'")
      .one().n;
    return this.waiting;
  }

  /**
   * Adjusts the waiting count by a status change (already written) and tells
   * the panels. An instance that has not counted yet (woken from hibernation
   * with panels still connected) counts now, the change included.
   */
  private statusChanged(before: string | undefined, after: string | undefined): void {
    const delta = (after === "unassigned" ? 1 : 0) - (before === "unassigned" ? 1 : 0);
    if (delta === 0) return;
    if (this.waiting === null) this.waitingCount();
    else this.waiting += delta;
    this.broadcast({ type: "waiting", waiting: this.waiting! });
  }

  /** Conversations that reported lately (id → when), kept in memory only. */
  private reporters = new Map<string, number>();
  private reportersPrunedAt = 0;

  /** Notes a report from `id`; answers the reporting window for the number of active conversations. */
  private reportWindow(id: string): number {
    const now = Date.now();
    this.reporters.set(id, now);
    if (now - this.reportersPrunedAt >= 1000) {
      for (const [key, at] of this.reporters) if (now - at > ACTIVE_FOR_MS) this.reporters.delete(key);
      this.reportersPrunedAt = now;
    }
    const wanted = Math.round((this.reporters.size / REPORTS_PER_SECOND) * 1000);
    return Math.min(REPORT_WINDOW_MAX_MS, Math.max(REPORT_WINDOW_MIN_MS, wanted));
  }

  /**
   * Called by Conversation objects. `version` increases with every report
   * from one conversation, so a slow, older report never overwrites a newer one.
   */
  async upsertConversation(
    summary: ConversationSummary & { version: number },
    stats: OperatorStat[] = [],
    messages: Message[] = [],
  ): Promise<IndexReportAnswer> {
    // Figures for Report > Operator ride along with index reports and are
    // added to daily aggregates, so a report never rescans conversations.
    const queueMessages = () => {
      for (const message of messages) {
        this.queueEvent("message.created", { conversationId: summary.id, message }, message.at);
      }
    };
    const since = this.subscriptions()
      .filter((h) => h.events.includes("message.created"))
      .reduce<number | null>((min, h) => (min === null || h.createdAt < min ? h.createdAt : min), null);
    const windowMs = this.reportWindow(summary.id);
    const answer = (version: number): IndexReportAnswer => ({ version, messages: since !== null, since, windowMs });
    const current = this.sql
      .exec<{ v: number }>("SELECT version AS v FROM index_versions WHERE id = ?", summary.id)
      .toArray()[0];
    if (current && current.v >= summary.version) {
      // An older summary than ours; its figures and messages are still news.
      if (stats.length > 0) this.ctx.storage.transactionSync(() => this.addStats(stats));
      queueMessages();
      return answer(current.v);
    }
    const before = this.sql
      .exec<{ status: string; last_at: number; operators: string }>(
        "SELECT status, last_at, operators FROM conversations WHERE id = ?",
        summary.id,
      )
      .toArray()[0];
    const operators = JSON.stringify(summary.operators);
    this.ctx.storage.transactionSync(() => {
      if (stats.length > 0) this.addStats(stats);
      this.sql.exec(
        "INSERT INTO index_versions (id, version) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET version = excluded.version",
        summary.id,
        summary.version,
      );
      this.sql.exec(
        `INSERT INTO conversations (id, status, visitor_id, visitor_name, visitor_email, operators, preview, preview_role, last_at, unread, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET status = excluded.status, visitor_name = excluded.visitor_name,
           visitor_email = excluded.visitor_email, operators = excluded.operators, preview = excluded.preview,
           preview_role = excluded.preview_role, last_at = excluded.last_at, unread = excluded.unread`,
        summary.id,
        summary.status,
        summary.visitor.id,
        summary.visitor.name,
        summary.visitor.email,
        operators,
        summary.preview,
        summary.previewRole,
        summary.lastAt,
        summary.unread,
        summary.createdAt,
      );
      if (before?.operators !== operators) {
        this.sql.exec("DELETE FROM assignments WHERE conversation_id = ?", summary.id);
        for (const op of summary.operators) {
          this.sql.exec("INSERT INTO assignments (conversation_id, operator_id) VALUES (?, ?)", summary.id, op.id);
        }
      }
    });
    const { version: _version, ...conversation } = summary;
    this.broadcast({ type: "upsert", conversation });
    this.statusChanged(before?.status, summary.status);
    this.notifyIfWaiting(before, conversation);
    if (!before) this.queueEvent("conversation.created", { conversation });
    queueMessages();
    return answer(summary.version);
  }

  /**
   * Removes a deleted conversation from the index and from email threading.
   * A tombstone version keeps a late report from the conversation from
   * putting it back. Ratings keep their number only: no text, no link.
   */
  async forgetConversation(id: string): Promise<void> {
    const before = this.sql.exec<{ status: string }>("SELECT status FROM conversations WHERE id = ?", id).toArray()[0];
    this.ctx.storage.transactionSync(() => {
      this.sql.exec("DELETE FROM conversations WHERE id = ?", id);
      this.sql.exec("DELETE FROM assignments WHERE conversation_id = ?", id);
      this.sql.exec(
        "INSERT INTO index_versions (id, version) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET version = excluded.version",
        id,
        Number.MAX_SAFE_INTEGER,
      );
      this.sql.exec("DELETE FROM email_threads WHERE conversation_id = ?", id);
      this.sql.exec("DELETE FROM email_message_ids WHERE conversation_id = ?", id);
      this.sql.exec("DELETE FROM verified_users WHERE conversation_id = ?", id);
      this.forgetRatings(id);
    });
    this.broadcast({ type: "remove", id });
    this.statusChanged(before?.status, undefined);
    this.queueEvent("conversation.deleted", { conversationId: id });
  }

  /** Ratings of a deleted conversation keep their number only: no text, no link to a person. */
  private forgetRatings(id: string): void {
    this.sql.exec("UPDATE ratings SET comment = NULL, conversation_id = NULL WHERE conversation_id = ?", id);
  }

  // -------------------------------------------------------------------------
  // Report > Operator

  private bump(operatorId: string, at: number, joined: number, messages: number): void {
    this.sql.exec(
      `INSERT INTO operator_daily (operator_id, day, joined, messages) VALUES (?, ?, ?, ?)
       ON CONFLICT(operator_id, day) DO UPDATE SET joined = joined + excluded.joined, messages = messages + excluded.messages`,
      operatorId,
      Math.floor(at / DAY_MS),
      joined,
      messages,
    );
  }

  private addStats(stats: OperatorStat[]): void {
    // Counts are summed per operator and day first: one write per pair, not per message.
    const daily = new Map<string, { operatorId: string; at: number; joined: number; messages: number }>();
    for (const st of stats) {
      if (st.kind === "first_response") continue;
      const key = `${st.operatorId}\u0000${Math.floor(st.at / DAY_MS)}`;
      const d = daily.get(key) ?? { operatorId: st.operatorId, at: st.at, joined: 0, messages: 0 };
      if (st.kind === "joined") d.joined += 1;
      else d.messages += st.value;
      daily.set(key, d);
    }
    for (const d of daily.values()) this.bump(d.operatorId, d.at, d.joined, d.messages);
    for (const st of stats) {
      if (st.kind === "first_response")
        this.sql.exec(
          "INSERT INTO first_responses (operator_id, at, ms) VALUES (?, ?, ?)",
          st.operatorId,
          st.at,
          st.value,
        );
    }
  }

  /** A visitor's rating, credited to every operator of that stretch. Idempotent per survey id. */
  async recordRating(input: {
    id: string;
    conversationId: string;
    rating: number;
    comment: string | null;
    operatorIds: string[];
    at: number;
  }): Promise<void> {
    if (!Number.isInteger(input.rating) || input.rating < 1 || input.rating > 5) return;
    const seen = this.sql.exec("SELECT 1 FROM ratings WHERE id = ?", input.id).toArray().length > 0;
    if (seen) return;
    const day = Math.floor(input.at / DAY_MS);
    const r = input.rating;
    this.ctx.storage.transactionSync(() => {
      this.sql.exec(
        "INSERT INTO ratings (id, conversation_id, rating, comment, at) VALUES (?, ?, ?, ?, ?)",
        input.id,
        input.conversationId,
        r,
        input.comment,
        input.at,
      );
      for (const operatorId of new Set(input.operatorIds)) {
        this.sql.exec(
          `INSERT INTO operator_daily (operator_id, day, ratings, rating_sum, r1, r2, r3, r4, r5) VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?)
           ON CONFLICT(operator_id, day) DO UPDATE SET ratings = ratings + 1, rating_sum = rating_sum + excluded.rating_sum,
             r1 = r1 + excluded.r1, r2 = r2 + excluded.r2, r3 = r3 + excluded.r3, r4 = r4 + excluded.r4, r5 = r5 + excluded.r5`,
          operatorId,
          day,
          r,
          Number(r === 1),
          Number(r === 2),
          Number(r === 3),
          Number(r === 4),
          Number(r === 5),
        );
      }
    });
    this.queueEvent("rating.submitted", {
      conversationId: input.conversationId,
      rating: input.rating,
      comment: input.comment,
      operatorIds: [...new Set(input.operatorIds)],
    });
  }

  /** Report > Operator for [from, to): whole UTC days, from the daily aggregates. */
  async operatorReport(from: number, to: number): Promise<OperatorReportResponse> {
    const d0 = Math.floor(from / DAY_MS);
    const d1 = Math.ceil(to / DAY_MS);
    type Row = {
      operator_id: string;
      ratings: number;
      rating_sum: number;
      r1: number;
      r2: number;
      r3: number;
      r4: number;
      r5: number;
      joined: number;
      messages: number;
    };
    const sums = new Map(
      this.sql
        .exec<Row>(
          `SELECT operator_id, SUM(ratings) AS ratings, SUM(rating_sum) AS rating_sum, SUM(r1) AS r1, SUM(r2) AS r2,
             SUM(r3) AS r3, SUM(r4) AS r4, SUM(r5) AS r5, SUM(joined) AS joined, SUM(messages) AS messages
           FROM operator_daily WHERE day >= ? AND day < ? GROUP BY operator_id`,
          d0,
          d1,
        )
        .toArray()
        .map((r) => [r.operator_id, r]),
    );
    const operators: OperatorReport[] = this.sql
      .exec<{ id: string; name: string }>("SELECT id, name FROM operators ORDER BY name")
      .toArray()
      .map((op) => {
        const r = sums.get(op.id);
        const n = this.sql
          .exec<{ n: number }>(
            "SELECT COUNT(*) AS n FROM first_responses WHERE operator_id = ? AND at >= ? AND at < ?",
            op.id,
            d0 * DAY_MS,
            d1 * DAY_MS,
          )
          .one().n;
        let median: number | null = null;
        if (n > 0) {
          // Median over this operator's index range only: two middle values when n is even.
          const mid = this.sql
            .exec<{ ms: number }>(
              "SELECT ms FROM first_responses WHERE operator_id = ? AND at >= ? AND at < ? ORDER BY ms LIMIT ? OFFSET ?",
              op.id,
              d0 * DAY_MS,
              d1 * DAY_MS,
              n % 2 === 0 ? 2 : 1,
              Math.floor((n - 1) / 2),
            )
            .toArray()
            .map((x) => x.ms);
          median = mid.reduce((a, b) => a + b, 0) / mid.length;
        }
        return {
          id: op.id,
          name: op.name,
          averageRating: r && r.ratings > 0 ? Math.round((r.rating_sum / r.ratings) * 100) / 100 : null,
          ratings: r?.ratings ?? 0,
          distribution: [r?.r1 ?? 0, r?.r2 ?? 0, r?.r3 ?? 0, r?.r4 ?? 0, r?.r5 ?? 0],
          conversationsJoined: r?.joined ?? 0,
          messagesSent: r?.messages ?? 0,
          medianFirstResponseMs: median,
        };
      });
    // Ratings per day across the workspace (each rating once, not once per credited operator).
    const byDay = new Map(
      this.sql
        .exec<{ day: number; n: number; total: number }>(
          // Numbers bind as REAL: CAST makes the division a whole day.
          "SELECT CAST(at / ? AS INTEGER) AS day, COUNT(*) AS n, SUM(rating) AS total FROM ratings WHERE at >= ? AND at < ? GROUP BY day",
          DAY_MS,
          d0 * DAY_MS,
          d1 * DAY_MS,
        )
        .toArray()
        .map((r) => [Math.floor(r.day), r]),
    );
    const series: OperatorReportResponse["series"] = [];
    for (let d = d0; d < d1 && series.length < 400; d++) {
      const r = byDay.get(d);
      series.push({
        day: new Date(d * DAY_MS).toISOString().slice(0, 10),
        ratings: r?.n ?? 0,
        average: r ? Math.round((r.total / r.n) * 100) / 100 : null,
      });
    }
    return { from: d0 * DAY_MS, to: d1 * DAY_MS, operators, series };
  }

  /** Conversations of one visitor (by id) or one email address, for an erasure request. */
  async conversationsOf(who: { visitorId?: string; email?: string }): Promise<string[]> {
    const ids = new Set<string>();
    if (who.visitorId) {
      for (const r of this.sql.exec<{ id: string }>(
        "SELECT id FROM conversations WHERE visitor_id = ?",
        who.visitorId,
      )) {
        ids.add(r.id);
      }
    }
    if (who.email) {
      for (const r of this.sql.exec<{ id: string }>(
        "SELECT id FROM conversations WHERE visitor_email = ? COLLATE NOCASE",
        who.email,
      )) {
        ids.add(r.id);
      }
      for (const r of this.sql.exec<{ id: string }>(
        "SELECT conversation_id AS id FROM email_threads WHERE sender = ?",
        who.email,
      )) {
        ids.add(r.id);
      }
    }
    return [...ids];
  }

  /** Other conversations with this visitor email (any case), newest first: the contact's other threads. */
  async conversationsByEmail(email: string, exceptId: string, limit: number): Promise<ConversationSummary[]> {
    return this.sql
      .exec<ConversationRow>(
        "SELECT * FROM conversations WHERE visitor_email = ? COLLATE NOCASE AND id != ? ORDER BY last_at DESC LIMIT ?",
        email,
        exceptId,
        limit,
      )
      .toArray()
      .map(toSummary);
  }

  /**
   * One page of a view, newest first. The cursor is the last row seen:
   * `before` (its lastAt) and `beforeId` (its id, which breaks ties between
   * conversations with the same lastAt, so paging never skips or repeats one).
   */
  async listConversations(
    view: View,
    operatorId: string,
    before: number | null,
    limit: number,
    beforeId: string | null = null,
  ): Promise<{ conversations: ConversationSummary[]; hasMore: boolean }> {
    const at = before ?? Number.MAX_SAFE_INTEGER;
    // With no id, everything at exactly `before` is excluded (the older cursor behaviour).
    const id = beforeId ?? "";
    const n = Math.min(Math.max(limit, 1), 200) + 1;
    let rows: ConversationRow[];
    if (view === "unassigned" || view === "assigned") {
      rows = this.sql
        .exec<ConversationRow>(
          `SELECT * FROM conversations WHERE status = ? AND (last_at < ? OR (last_at = ? AND id < ?))
           ORDER BY last_at DESC, id DESC LIMIT ?`,
          view,
          at,
          at,
          id,
          n,
        )
        .toArray();
    } else if (view === "mine") {
      rows = this.sql
        .exec<ConversationRow>(
          `SELECT c.* FROM assignments a JOIN conversations c ON c.id = a.conversation_id
           WHERE a.operator_id = ? AND (c.last_at < ? OR (c.last_at = ? AND c.id < ?))
           ORDER BY c.last_at DESC, c.id DESC LIMIT ?`,
          operatorId,
          at,
          at,
          id,
          n,
        )
        .toArray();
    } else {
      rows = this.sql
        .exec<ConversationRow>(
          `SELECT * FROM conversations WHERE last_at < ? OR (last_at = ? AND id < ?)
           ORDER BY last_at DESC, id DESC LIMIT ?`,
          at,
          at,
          id,
          n,
        )
        .toArray();
    }
    const hasMore = rows.length === n;
    return { conversations: rows.slice(0, n - 1).map(toSummary), hasMore };
  }

  // -------------------------------------------------------------------------
  // Verified site users (Microchat.setUser with a valid hash)

  /**
   * The conversation of a verified user: the one bound to their id, or, the
   * first time, the one the caller is in now (if it is not someone else's).
   * Lets a logged-in customer see the same conversation on another device.
   */
  async bindVerifiedUser(
    userId: string,
    current: { visitorId: string; conversationId: string } | null,
  ): Promise<{ visitorId: string; conversationId: string }> {
    const bound = this.sql
      .exec<{ visitor_id: string; conversation_id: string }>(
        "SELECT visitor_id, conversation_id FROM verified_users WHERE user_id = ?",
        userId,
      )
      .toArray()[0];
    if (bound) return { visitorId: bound.visitor_id, conversationId: bound.conversation_id };
    const taken =
      current !== null &&
      this.sql.exec("SELECT 1 FROM verified_users WHERE conversation_id = ?", current.conversationId).toArray().length >
        0;
    const chosen = current && !taken ? current : { visitorId: randomId(), conversationId: randomId() };
    this.sql.exec(
      "INSERT INTO verified_users (user_id, visitor_id, conversation_id) VALUES (?, ?, ?)",
      userId,
      chosen.visitorId,
      chosen.conversationId,
    );
    return chosen;
  }

  // -------------------------------------------------------------------------
  // Webhooks

  async addWebhook(url: string, events: WebhookEvent[]): Promise<{ webhook: WebhookInfo; secret: string }> {
    const webhook: WebhookInfo = { id: randomId(), url, events, createdAt: Date.now() };
    const secret = `whsec_${randomId()}${randomId()}`;
    this.sql.exec(
      "INSERT INTO webhooks (id, url, secret, events, created_at) VALUES (?, ?, ?, ?, ?)",
      webhook.id,
      url,
      secret,
      JSON.stringify(events),
      webhook.createdAt,
    );
    this.hooks = null;
    return { webhook, secret };
  }

  async listWebhooks(): Promise<WebhookInfo[]> {
    return this.sql
      .exec<{ id: string; url: string; events: string; created_at: number }>(
        "SELECT id, url, events, created_at FROM webhooks ORDER BY created_at",
      )
      .toArray()
      .map((r) => ({ id: r.id, url: r.url, events: JSON.parse(r.events) as WebhookEvent[], createdAt: r.created_at }));
  }

  async removeWebhook(id: string): Promise<boolean> {
    const gone = this.sql.exec("DELETE FROM webhooks WHERE id = ?", id).rowsWritten > 0;
    this.hooks = null;
    this.sql.exec("DELETE FROM webhook_deliveries WHERE webhook_id = ?", id);
    return gone;
  }

  /** The 50 most recent deliveries of a webhook, for the admins' log. */
  async webhookDeliveries(id: string): Promise<WebhookDeliveryInfo[]> {
    return this.sql
      .exec<{
        id: string;
        event: string;
        status: string;
        attempts: number;
        last_error: string | null;
        response_status: number | null;
        created_at: number;
        delivered_at: number | null;
      }>(
        `SELECT id, event, status, attempts, last_error, response_status, created_at, delivered_at
         FROM webhook_deliveries WHERE webhook_id = ? ORDER BY created_at DESC LIMIT 50`,
        id,
      )
      .toArray()
      .map((r) => ({
        id: r.id,
        event: r.event as WebhookEvent,
        status: r.status as WebhookDeliveryInfo["status"],
        attempts: r.attempts,
        lastError: r.last_error,
        responseStatus: r.response_status,
        createdAt: r.created_at,
        deliveredAt: r.delivered_at,
      }));
  }

  /** Queues an event for every webhook that wants it (data as JSON text); the alarm delivers them. */
  async emit(event: WebhookEvent, data: string): Promise<void> {
    this.queueEvent(event, JSON.parse(data) as object);
  }

  /** Webhook subscriptions, read once and kept until one is added or removed. */
  private hooks: { id: string; events: WebhookEvent[]; createdAt: number }[] | null = null;

  private subscriptions(): { id: string; events: WebhookEvent[]; createdAt: number }[] {
    this.hooks ??= this.sql
      .exec<{ id: string; events: string; created_at: number }>("SELECT id, events, created_at FROM webhooks")
      .toArray()
      .map((h) => ({ id: h.id, events: JSON.parse(h.events) as WebhookEvent[], createdAt: h.created_at }));
    return this.hooks;
  }

  /**
   * Queues `event` for every webhook subscribed to it. `happenedAt`, when
   * given, skips webhooks created after the fact (a report catching up on
   * older messages does not replay them to a new subscriber).
   */
  private queueEvent(event: WebhookEvent, data: object, happenedAt?: number): void {
    const hooks = this.subscriptions().filter(
      (h) => h.events.includes(event) && (happenedAt === undefined || h.createdAt <= happenedAt),
    );
    if (hooks.length === 0) return;
    const now = Date.now();
    for (const h of hooks) {
      const id = randomId();
      const payload = JSON.stringify({ id, event, createdAt: now, data });
      this.sql.exec(
        "INSERT INTO webhook_deliveries (id, webhook_id, event, payload, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        id,
        h.id,
        event,
        payload,
        now,
        now,
      );
    }
    this.ctx.waitUntil(this.armAlarm(now));
  }

  /** Sends due deliveries; failures are retried with backoff, then marked failed. */
  private async deliverWebhooks(): Promise<void> {
    const due = this.sql
      .exec<{ id: string; url: string; secret: string; payload: string; attempts: number; event: string }>(
        `SELECT d.id, w.url, w.secret, d.payload, d.attempts, d.event FROM webhook_deliveries d
         JOIN webhooks w ON w.id = d.webhook_id
         WHERE d.status = 'pending' AND d.next_attempt_at <= ? ORDER BY d.next_attempt_at LIMIT 25`,
        Date.now(),
      )
      .toArray();
    await Promise.all(
      due.map(async (d) => {
        const attempts = d.attempts + 1;
        let status: number | null = null;
        let error: string | null = null;
        try {
          const res = await fetch(d.url, {
            method: "POST",
            headers: {
              "Content-Type": "application/json",
              "User-Agent": "Microchat-Webhooks/1",
              "Microchat-Event": d.event,
              "Microchat-Delivery": d.id,
              "Microchat-Signature": await signWebhook(d.secret, d.payload),
            },
            body: d.payload,
            redirect: "manual",
            signal: AbortSignal.timeout(10_000),
          });
          status = res.status;
          await res.body?.cancel();
          if (res.status < 200 || res.status >= 300) error = `HTTP ${res.status}`;
        } catch (err) {
          error = err instanceof Error ? err.message.slice(0, 200) : "request failed";
        }
        if (error === null) {
          this.sql.exec(
            "UPDATE webhook_deliveries SET status = 'delivered', attempts = ?, response_status = ?, delivered_at = ?, last_error = NULL WHERE id = ?",
            attempts,
            status,
            Date.now(),
            d.id,
          );
        } else {
          const gaveUp = attempts >= MAX_WEBHOOK_ATTEMPTS;
          this.sql.exec(
            "UPDATE webhook_deliveries SET status = ?, attempts = ?, response_status = ?, last_error = ?, next_attempt_at = ? WHERE id = ?",
            gaveUp ? "failed" : "pending",
            attempts,
            status,
            error,
            Date.now() + backoffMs(attempts),
            d.id,
          );
        }
      }),
    );
    // Keep the log bounded: delivered/failed entries older than 7 days go.
    this.sql.exec(
      "DELETE FROM webhook_deliveries WHERE status != 'pending' AND created_at < ?",
      Date.now() - 7 * DAY_MS,
    );
  }

  // -------------------------------------------------------------------------
  // Retention and the alarm

  /** One alarm serves webhooks and retention: it is re-armed to the earliest thing due. */
  private async armAlarm(at: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }

  /** Turning retention on schedules a check right away. */
  private async armRetention(): Promise<void> {
    if (Number(this.setting("retention_days") ?? 0) > 0) {
      this.putSetting("retention_next_at", String(Date.now()));
      await this.armAlarm(Date.now() + 60_000);
    }
  }

  /**
   * Retention: deletes conversations inactive for longer than the setting,
   * a bounded batch per run; runs again soon while more are due.
   */
  private async runRetention(): Promise<number | null> {
    const days = Number(this.setting("retention_days") ?? 0);
    if (days <= 0) return null;
    const nextAt = Number(this.setting("retention_next_at") ?? 0);
    if (nextAt > Date.now()) return nextAt;
    const cutoff = Date.now() - days * DAY_MS;
    const due = this.sql
      .exec<{ id: string }>(
        "SELECT id FROM conversations WHERE last_at < ? ORDER BY last_at LIMIT ?",
        cutoff,
        RETENTION_BATCH,
      )
      .toArray()
      .map((r) => r.id);
    for (const id of due) {
      const stub = this.env.CONVERSATION.get(this.env.CONVERSATION.idFromName(id));
      const result = await stub.erase(id, this.env.SITE_KEY);
      if (!result.ok && result.code !== "not_found") continue;
      await this.forgetConversation(id);
    }
    const next = Date.now() + (due.length === RETENTION_BATCH ? 1000 : RETENTION_CHECK_MS);
    this.putSetting("retention_next_at", String(next));
    return next;
  }

  override async alarm(): Promise<void> {
    await this.deliverWebhooks();
    const retentionNext = await this.runRetention();
    const nextDelivery = this.sql
      .exec<{ at: number | null }>("SELECT MIN(next_attempt_at) AS at FROM webhook_deliveries WHERE status = 'pending'")
      .one().at;
    const next = [retentionNext, nextDelivery].filter((x): x is number => x !== null);
    if (next.length > 0) await this.ctx.storage.setAlarm(Math.max(Date.now() + 1000, Math.min(...next)));
  }

  // -------------------------------------------------------------------------
  // Settings

  private putSetting(key: string, value: string): void {
    this.sql.exec(
      "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
      key,
      value,
    );
  }

  private setting(key: string): string | null {
    return (
      this.sql.exec<{ value: string }>("SELECT value FROM settings WHERE key = ?", key).toArray()[0]?.value ?? null
    );
  }

  async getSettings(): Promise<WorkspaceSettings> {
    return {
      emailAddress: this.setting("email_address") ?? this.env.EMAIL_ADDRESS ?? null,
      emailName: this.setting("email_name") ?? this.env.WORKSPACE_NAME,
      retentionDays: Number(this.setting("retention_days") ?? 0),
      surveyByEmail: this.setting("survey_by_email") === "1",
    };
  }

  async updateSettings(actor: Operator, input: Partial<WorkspaceSettings>): Promise<Result<WorkspaceSettings>> {
    return attempt(async () => {
      this.requireAdmin(actor);
      const put = (key: string, value: string) => this.putSetting(key, value);
      if (input.emailAddress) put("email_address", input.emailAddress);
      if (input.emailName) put("email_name", input.emailName);
      if (input.surveyByEmail !== undefined) put("survey_by_email", input.surveyByEmail ? "1" : "0");
      if (input.retentionDays !== undefined) {
        put("retention_days", String(input.retentionDays));
        await this.armRetention();
      }
      return this.getSettings();
    });
  }

  // -------------------------------------------------------------------------
  // Email threading

  /**
   * Finds the conversation an inbound mail belongs to: by the token in the
   * address it was sent to, then by In-Reply-To/References. A match counts
   * only if the sender is that conversation's own address, so two people are
   * never merged. No match: a new conversation (unless `allowNew` is false,
   * for auto-replies and bounces). Records the mail's Message-ID either way.
   */
  async routeEmail(input: {
    sender: string;
    token: string | null;
    references: string[];
    messageId: string;
    allowNew: boolean;
  }): Promise<{ conversationId: string; visitorId: string; token: string } | null> {
    type Thread = { conversation_id: string; visitor_id: string; sender: string; token: string };
    let thread: Thread | undefined;
    if (input.token) {
      thread = this.sql
        .exec<Thread>("SELECT * FROM email_threads WHERE token = ? AND sender = ?", input.token, input.sender)
        .toArray()[0];
    }
    for (const ref of input.references) {
      if (thread) break;
      thread = this.sql
        .exec<Thread>(
          `SELECT t.* FROM email_message_ids m JOIN email_threads t ON t.conversation_id = m.conversation_id
           WHERE m.message_id = ? AND t.sender = ?`,
          ref,
          input.sender,
        )
        .toArray()[0];
    }
    if (!thread) {
      if (!input.allowNew) return null;
      thread = { conversation_id: randomId(), visitor_id: randomId(), sender: input.sender, token: newThreadToken() };
      this.sql.exec(
        "INSERT INTO email_threads (conversation_id, visitor_id, sender, token) VALUES (?, ?, ?, ?)",
        thread.conversation_id,
        thread.visitor_id,
        thread.sender,
        thread.token,
      );
    }
    this.sql.exec(
      "INSERT OR IGNORE INTO email_message_ids (message_id, conversation_id) VALUES (?, ?)",
      input.messageId,
      thread.conversation_id,
    );
    return { conversationId: thread.conversation_id, visitorId: thread.visitor_id, token: thread.token };
  }

  /** The thread token of a conversation (made on first use) so email replies find their way back. */
  async ensureEmailThread(conversationId: string, visitorId: string, sender: string): Promise<string> {
    const existing = this.sql
      .exec<{ token: string }>("SELECT token FROM email_threads WHERE conversation_id = ?", conversationId)
      .toArray()[0];
    if (existing) return existing.token;
    const token = newThreadToken();
    this.sql.exec(
      "INSERT INTO email_threads (conversation_id, visitor_id, sender, token) VALUES (?, ?, ?, ?)",
      conversationId,
      visitorId,
      sender.toLowerCase(),
      token,
    );
    return token;
  }

  /** Remembers the Message-ID of a reply we sent, for threading the answer to it. */
  async recordEmailId(conversationId: string, messageId: string): Promise<void> {
    this.sql.exec(
      "INSERT OR IGNORE INTO email_message_ids (message_id, conversation_id) VALUES (?, ?)",
      messageId,
      conversationId,
    );
  }

  // -------------------------------------------------------------------------
  // Panel sockets

  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return Response.json(
        { error: { code: "bad_request", message: "Expected a WebSocket upgrade" } },
        { status: 426 },
      );
    }
    const operatorId = request.headers.get("X-Microchat-Actor-Id") ?? "";
    const exists = this.sql.exec("SELECT 1 FROM operators WHERE id = ?", operatorId).toArray().length > 0;
    if (!exists) return Response.json({ error: { code: "unauthorized", message: "Not signed in" } }, { status: 401 });

    const pair = new WebSocketPair();
    const server = pair[1];
    this.ctx.acceptWebSocket(server, ["panel", `op:${operatorId}`]);
    server.serializeAttachment({ operatorId } satisfies PanelIdentity);

    const unassigned = await this.listConversations("unassigned", operatorId, null, 200);
    const mine = await this.listConversations("mine", operatorId, null, 200);
    const all = await this.listConversations("all", operatorId, null, ALL_FIRST_PAGE);
    server.send(
      JSON.stringify({
        type: "index",
        unassigned: unassigned.conversations,
        mine: mine.conversations,
        all: all.conversations,
        allHasMore: all.hasMore,
        unassignedHasMore: unassigned.hasMore,
        mineHasMore: mine.hasMore,
        waiting: this.waitingCount(),
        operators: this.presence(),
      } satisfies PanelServerFrame),
    );
    this.broadcastPresence();
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  override async webSocketMessage(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
    const who = ws.deserializeAttachment() as PanelIdentity | null;
    if (!who) return ws.close(1011, "Lost identity");
    const fail = (code: "bad_json" | "bad_frame" | "too_large" | "unknown_type", message: string) =>
      ws.send(JSON.stringify({ type: "error", code, message } satisfies PanelServerFrame));
    if (typeof data !== "string") return fail("bad_frame", "Binary frames are not supported");
    if (data.length > 4096) return fail("too_large", "Frame too large");
    let frame: unknown;
    try {
      frame = JSON.parse(data);
    } catch {
      return fail("bad_json", "Frame is not valid JSON");
    }
    if (typeof frame !== "object" || frame === null || !("type" in frame))
      return fail("bad_frame", "Frame needs a type");
    if (frame.type !== "more") return fail("unknown_type", "Unknown frame type");
    const f = frame as { view?: unknown; beforeLastAt?: unknown; beforeId?: unknown; limit?: unknown };
    const view = f.view ?? "all";
    if (view !== "all" && view !== "unassigned" && view !== "mine") {
      return fail("bad_frame", 'more.view must be "unassigned", "mine" or "all"');
    }
    if (typeof f.beforeLastAt !== "number" || !Number.isFinite(f.beforeLastAt)) {
      return fail("bad_frame", "more.beforeLastAt must be a number");
    }
    const limit = typeof f.limit === "number" && Number.isInteger(f.limit) ? f.limit : ALL_FIRST_PAGE;
    const beforeId = typeof f.beforeId === "string" && f.beforeId.length <= 64 ? f.beforeId : null;
    const page = await this.listConversations(view, who.operatorId, f.beforeLastAt, limit, beforeId);
    ws.send(
      JSON.stringify({
        type: "page",
        view,
        conversations: page.conversations,
        hasMore: page.hasMore,
      } satisfies PanelServerFrame),
    );
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, "Closed");
    } catch {
      // Already closed.
    }
    this.broadcastPresence(ws);
  }

  private presence(except?: WebSocket): OperatorPresence[] {
    const online = new Set<string>();
    for (const ws of this.ctx.getWebSockets("panel")) {
      if (ws === except || ws.readyState !== WebSocket.OPEN) continue;
      const who = ws.deserializeAttachment() as PanelIdentity | null;
      if (who) online.add(who.operatorId);
    }
    return this.sql
      .exec<{ id: string; name: string; away: number }>("SELECT id, name, away FROM operators ORDER BY name")
      .toArray()
      .map((r) => ({ id: r.id, name: r.name, online: online.has(r.id), status: r.away ? "away" : "online" }));
  }

  /** Whether anyone can answer a visitor now: an operator with the panel open and not away. */
  async availability(): Promise<boolean> {
    return this.presence().some((p) => p.online && p.status === "online");
  }

  /** An operator sets themselves online or away. */
  async setStatus(operatorId: string, status: PresenceStatus): Promise<void> {
    this.sql.exec("UPDATE operators SET away = ? WHERE id = ?", status === "away" ? 1 : 0, operatorId);
    this.broadcastPresence();
  }

  /**
   * Tells online, non-away operators that a visitor wrote in Unassigned:
   * a new conversation, one requeued after everyone left, or a further
   * message while it waits.
   */
  private notifyIfWaiting(before: { status: string; last_at: number } | undefined, after: ConversationSummary): void {
    if (after.status !== "unassigned" || after.previewRole !== "visitor") return;
    const reason = !before
      ? "new"
      : before.status !== "unassigned"
        ? "requeued"
        : after.lastAt > before.last_at
          ? "message"
          : null;
    if (!reason) return;
    const away = new Set(
      this.sql
        .exec<{ id: string }>("SELECT id FROM operators WHERE away = 1")
        .toArray()
        .map((r) => r.id),
    );
    const text = JSON.stringify({ type: "notify", conversation: after, reason } satisfies PanelServerFrame);
    for (const ws of this.ctx.getWebSockets("panel")) {
      const who = ws.deserializeAttachment() as PanelIdentity | null;
      if (!who || away.has(who.operatorId)) continue;
      try {
        ws.send(text);
      } catch {
        // closed
      }
    }
  }

  private broadcastPresence(except?: WebSocket): void {
    this.broadcast({ type: "presence", operators: this.presence(except) }, except);
  }

  private broadcast(frame: PanelServerFrame, except?: WebSocket): void {
    const text = JSON.stringify(frame);
    for (const ws of this.ctx.getWebSockets("panel")) {
      if (ws === except) continue;
      try {
        ws.send(text);
      } catch {
        // Closed; ignore.
      }
    }
  }
}
