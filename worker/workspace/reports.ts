/**
 * Report > Operator: ratings and per-operator daily aggregates.
 *
 * Figures arrive with conversations' index reports (joins, messages, first
 * responses) and with survey answers (ratings), and are added to daily rows
 * at once, so a report over any range reads aggregates and never rescans
 * conversations.
 */
import type { OperatorReport, OperatorReportResponse } from "../protocol";
import type { WorkspaceContext } from "./context";
import type { Operators } from "./operators";
import type { Webhooks } from "./webhooks";

const DAY_MS = 24 * 3600 * 1000;
/** The longest daily series a report returns. */
const MAX_SERIES_DAYS = 400;

/** A figure a conversation reports for Report > Operator. */
export interface OperatorStat {
  kind: "joined" | "message" | "first_response";
  operatorId: string;
  at: number;
  /** Messages: how many; first_response: milliseconds. */
  value: number;
}

/** A visitor's answer to the satisfaction survey. */
export interface RatingInput {
  /** The survey's id: a rating is counted once per survey. */
  id: string;
  conversationId: string;
  rating: number;
  comment: string | null;
  /** Every operator of the stretch being rated; each is credited. */
  operatorIds: string[];
  at: number;
}

type DailyRow = {
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

const round2 = (n: number) => Math.round(n * 100) / 100;

/** Ratings and operator figures, and the report built from them. */
export class Reports {
  constructor(
    private readonly w: WorkspaceContext,
    private readonly operators: Operators,
    private readonly webhooks: Webhooks,
  ) {}

  /** Adds reported figures to the aggregates. Call inside the report's transaction. */
  addStats(stats: OperatorStat[]): void {
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
    for (const d of daily.values()) {
      this.w.sql.exec(
        `INSERT INTO operator_daily (operator_id, day, joined, messages) VALUES (?, ?, ?, ?)
         ON CONFLICT(operator_id, day) DO UPDATE SET joined = joined + excluded.joined, messages = messages + excluded.messages`,
        d.operatorId,
        Math.floor(d.at / DAY_MS),
        d.joined,
        d.messages,
      );
    }
    for (const st of stats) {
      if (st.kind === "first_response")
        this.w.sql.exec(
          "INSERT INTO first_responses (operator_id, at, ms) VALUES (?, ?, ?)",
          st.operatorId,
          st.at,
          st.value,
        );
    }
  }

  /** A visitor's rating, credited to every operator of that stretch. Idempotent per survey id. */
  recordRating(input: RatingInput): void {
    if (!Number.isInteger(input.rating) || input.rating < 1 || input.rating > 5) return;
    const seen = this.w.sql.exec("SELECT 1 FROM ratings WHERE id = ?", input.id).toArray().length > 0;
    if (seen) return;
    const day = Math.floor(input.at / DAY_MS);
    const r = input.rating;
    const operatorIds = [...new Set(input.operatorIds)];
    this.w.ctx.storage.transactionSync(() => {
      this.w.sql.exec(
        "INSERT INTO ratings (id, conversation_id, rating, comment, at) VALUES (?, ?, ?, ?, ?)",
        input.id,
        input.conversationId,
        r,
        input.comment,
        input.at,
      );
      for (const operatorId of operatorIds) {
        this.w.sql.exec(
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
    this.webhooks.queue("rating.submitted", {
      conversationId: input.conversationId,
      rating: input.rating,
      comment: input.comment,
      operatorIds,
    });
  }

  /** Ratings of a deleted conversation keep their number only: no text, no link to a person. */
  forgetConversation(id: string): void {
    this.w.sql.exec("UPDATE ratings SET comment = NULL, conversation_id = NULL WHERE conversation_id = ?", id);
  }

  /** Report > Operator for [from, to): whole UTC days, from the daily aggregates. */
  operatorReport(from: number, to: number): OperatorReportResponse {
    const d0 = Math.floor(from / DAY_MS);
    const d1 = Math.ceil(to / DAY_MS);
    const sums = new Map(
      this.w.sql
        .exec<DailyRow>(
          `SELECT operator_id, SUM(ratings) AS ratings, SUM(rating_sum) AS rating_sum, SUM(r1) AS r1, SUM(r2) AS r2,
             SUM(r3) AS r3, SUM(r4) AS r4, SUM(r5) AS r5, SUM(joined) AS joined, SUM(messages) AS messages
           FROM operator_daily WHERE day >= ? AND day < ? GROUP BY operator_id`,
          d0,
          d1,
        )
        .toArray()
        .map((r) => [r.operator_id, r]),
    );
    const operators: OperatorReport[] = this.operators.roster().map((op) => {
      const r = sums.get(op.id);
      return {
        id: op.id,
        name: op.name,
        averageRating: r && r.ratings > 0 ? round2(r.rating_sum / r.ratings) : null,
        ratings: r?.ratings ?? 0,
        distribution: [r?.r1 ?? 0, r?.r2 ?? 0, r?.r3 ?? 0, r?.r4 ?? 0, r?.r5 ?? 0],
        conversationsJoined: r?.joined ?? 0,
        messagesSent: r?.messages ?? 0,
        medianFirstResponseMs: this.medianFirstResponse(op.id, d0 * DAY_MS, d1 * DAY_MS),
      };
    });
    return { from: d0 * DAY_MS, to: d1 * DAY_MS, operators, series: this.dailySeries(d0, d1) };
  }

  /** The median first response of one operator in [from, to), read over its index range only. */
  private medianFirstResponse(operatorId: string, from: number, to: number): number | null {
    const n = this.w.sql
      .exec<{ n: number }>(
        "SELECT COUNT(*) AS n FROM first_responses WHERE operator_id = ? AND at >= ? AND at < ?",
        operatorId,
        from,
        to,
      )
      .one().n;
    if (n === 0) return null;
    // The two middle values when n is even.
    const mid = this.w.sql
      .exec<{ ms: number }>(
        "SELECT ms FROM first_responses WHERE operator_id = ? AND at >= ? AND at < ? ORDER BY ms LIMIT ? OFFSET ?",
        operatorId,
        from,
        to,
        n % 2 === 0 ? 2 : 1,
        Math.floor((n - 1) / 2),
      )
      .toArray()
      .map((x) => x.ms);
    return mid.reduce((a, b) => a + b, 0) / mid.length;
  }

  /** Ratings per day across the workspace (each rating once, not once per credited operator). */
  private dailySeries(d0: number, d1: number): OperatorReportResponse["series"] {
    const byDay = new Map(
      this.w.sql
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
    for (let d = d0; d < d1 && series.length < MAX_SERIES_DAYS; d++) {
      const r = byDay.get(d);
      series.push({
        day: new Date(d * DAY_MS).toISOString().slice(0, 10),
        ratings: r?.n ?? 0,
        average: r ? round2(r.total / r.n) : null,
      });
    }
    return series;
  }
}
