/**
 * The conversation index behind the panel's lists (Unassigned, Mine, All):
 * one summary row per conversation, kept by the conversations' own reports.
 *
 * Conversation objects report state changes here; ordinary chat messages
 * do not come through one by one (each conversation coalesces its previews,
 * paced by the report window), so this single object does not become the
 * bottleneck of a busy site. Every change is pushed to the open panels.
 *
 * Reports that arrive close together are applied together (`queue`, then
 * `settle`): up to REPORTS_PER_BATCH of them, gathered for at most
 * BATCH_MS, are written in one event, so in one SQLite commit, and each is
 * answered only after that write (the output gate holds the answer until
 * it is durable). At 2,000 conversations, where nearly every message is
 * reported on its own, one commit per report was the single largest cost
 * of the shared thread (README, Performance). Anything that reads the
 * index, or forgets a conversation, settles the queue first, so a report
 * that arrived before is seen, as if it had been applied on arrival.
 */
import type { ConversationStatus, ConversationSummary, Message, OperatorRef, PagedView } from "../protocol";
import type { WorkspaceContext } from "./context";
import type { EmailThreads } from "./email-threads";
import type { IndexLists, PanelSockets } from "./panel-sockets";
import { ReportWindow } from "./report-window";
import type { OperatorStat, Reports } from "./reports";
import type { VerifiedUsers } from "./verified-users";
import type { Webhooks } from "./webhooks";

/** A list of the index: the panel's three, and "assigned" for the REST API. */
export type IndexView = PagedView | "assigned";

/** The largest page of a list. */
const MAX_PAGE = 200;

/** The version a deleted conversation's row is left at: no report is newer. */
const DELETED = Number.MAX_SAFE_INTEGER;

/** How long the first report of a batch waits for others. */
const BATCH_MS = 20;
/** The most reports applied in one event (a longer queue goes on in the next): a bound on one event's length. */
const REPORTS_PER_BATCH = 100;

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

/** Whether a report would leave row `r` as it is: every column a report updates holds the same value. */
function sameRow(r: ConversationRow, s: ConversationSummary, operators: string): boolean {
  return (
    r.status === s.status &&
    r.visitor_name === s.visitor.name &&
    r.visitor_email === s.visitor.email &&
    r.operators === operators &&
    r.preview === s.preview &&
    r.preview_role === s.previewRole &&
    r.last_at === s.lastAt &&
    r.unread === s.unread
  );
}

/** One conversation's report, as `report` takes it. */
type Report = [summary: ConversationSummary & { version: number }, stats: OperatorStat[], messages: Message[]];

/** A report waiting in the queue, and how to answer its sender. */
interface Queued {
  report: Report;
  resolve(answer: IndexReportAnswer): void;
  reject(err: unknown): void;
}

/** The modules a change of the index reaches. */
interface IndexDeps {
  panels: PanelSockets;
  webhooks: Webhooks;
  reports: Reports;
  threads: EmailThreads;
  verified: VerifiedUsers;
}

/** The conversations, assignments and index_versions tables, and the waiting count. */
export class ConversationIndex implements IndexLists {
  /**
   * How many conversations wait in Unassigned: counted once per instance,
   * then kept by the two places that change a status (a report, a removal),
   * so panels show the true number even when they hold only the newest 200.
   * Memory only: an instance woken from hibernation counts again.
   */
  private waiting: number | null = null;
  private readonly window = new ReportWindow();
  /** Reports received and not yet applied (memory only: each one's sender is still waiting for its answer). */
  private queued: Queued[] = [];
  /** The timer that settles the queue, while one is set. */
  private settling: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly w: WorkspaceContext,
    private readonly to: IndexDeps,
  ) {}

  waitingCount(): number {
    this.waiting ??= this.w.sql
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
    this.to.panels.broadcast({ type: "waiting", waiting: this.waiting! });
  }

  /**
   * Takes a conversation's report into the queue; the answer comes once it
   * has been applied, with the reports that arrived within BATCH_MS of it.
   */
  queue(...report: Report): Promise<IndexReportAnswer> {
    return new Promise((resolve, reject) => {
      this.queued.push({ report, resolve, reject });
      this.settling ??= setTimeout(() => this.settleSome(), BATCH_MS);
    });
  }

  /** Applies every queued report now (before anything reads or changes the index). */
  settle(): void {
    this.apply(this.queued.length);
  }

  /** The timer's turn: applies a batch, and leaves the rest, if any, to the next event. */
  private settleSome(): void {
    this.settling = null;
    this.apply(REPORTS_PER_BATCH);
  }

  /** Applies the first `n` queued reports, in their order; one that fails is refused alone. */
  private apply(n: number): void {
    const batch = this.queued.splice(0, n);
    if (this.queued.length > 0) this.settling ??= setTimeout(() => this.settleSome(), 0);
    for (const item of batch) {
      try {
        item.resolve(this.report(...item.report));
      } catch (err) {
        item.reject(err);
      }
    }
  }

  /**
   * A conversation's report. `version` increases with every report from one
   * conversation, so a slow, older report never overwrites a newer one.
   * Figures for Report > Operator ride along and are added to the daily
   * aggregates; messages ride along while a webhook wants them.
   */
  report(
    summary: ConversationSummary & { version: number },
    stats: OperatorStat[],
    messages: Message[],
  ): IndexReportAnswer {
    const queueMessages = () => {
      for (const message of messages) {
        this.to.webhooks.queue("message.created", { conversationId: summary.id, message }, message.at);
      }
    };
    const since = this.to.webhooks.wantedSince("message.created");
    const windowMs = this.window.note(summary.id, summary.status === "unassigned");
    const answer = (version: number): IndexReportAnswer => ({ version, messages: since !== null, since, windowMs });
    const current = this.w.sql
      .exec<{ v: number }>("SELECT version AS v FROM index_versions WHERE id = ?", summary.id)
      .toArray()[0];
    if (current && current.v >= summary.version) {
      // An older summary than ours: its figures are still news, and so are its messages, unless the
      // conversation has been deleted since (a report in flight when it was): what it said goes nowhere then.
      if (stats.length > 0) this.w.ctx.storage.transactionSync(() => this.to.reports.addStats(stats));
      if (current.v !== DELETED) queueMessages();
      return answer(current.v);
    }
    const before = this.w.sql
      .exec<ConversationRow>("SELECT * FROM conversations WHERE id = ?", summary.id)
      .toArray()[0];
    const operators = JSON.stringify(summary.operators);
    if (before && sameRow(before, summary, operators)) {
      // Nothing the row shows changed (the backstop alarm of a conversation woken from hibernation reports
      // what was already reported): the version is taken, so an older report still cannot apply, but no
      // row is written and no panel is told.
      this.w.ctx.storage.transactionSync(() => {
        if (stats.length > 0) this.to.reports.addStats(stats);
        this.setVersion(summary.id, summary.version);
      });
      queueMessages();
      return answer(summary.version);
    }
    this.w.ctx.storage.transactionSync(() => {
      if (stats.length > 0) this.to.reports.addStats(stats);
      this.setVersion(summary.id, summary.version);
      this.w.sql.exec(
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
        this.w.sql.exec("DELETE FROM assignments WHERE conversation_id = ?", summary.id);
        for (const op of summary.operators) {
          this.w.sql.exec("INSERT INTO assignments (conversation_id, operator_id) VALUES (?, ?)", summary.id, op.id);
        }
      }
    });
    const { version: _version, ...conversation } = summary;
    this.to.panels.broadcast({ type: "upsert", conversation });
    this.statusChanged(before?.status, summary.status);
    this.notifyIfWaiting(before, conversation);
    if (!before) this.to.webhooks.queue("conversation.created", { conversation });
    queueMessages();
    return answer(summary.version);
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
    if (reason) this.to.panels.broadcastToAvailable({ type: "notify", conversation: after, reason });
  }

  private setVersion(id: string, version: number): void {
    this.w.sql.exec(
      "INSERT INTO index_versions (id, version) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET version = excluded.version",
      id,
      version,
    );
  }

  /**
   * Removes a deleted conversation from the index, email threading and
   * verified users. A tombstone version keeps a late report from the
   * conversation from putting it back. Ratings keep their number only.
   */
  forget(id: string): void {
    // A report received before the deletion is applied first: its messages and its creation reach webhooks.
    this.settle();
    const before = this.w.sql
      .exec<{ status: string }>("SELECT status FROM conversations WHERE id = ?", id)
      .toArray()[0];
    this.w.ctx.storage.transactionSync(() => {
      this.w.sql.exec("DELETE FROM conversations WHERE id = ?", id);
      this.w.sql.exec("DELETE FROM assignments WHERE conversation_id = ?", id);
      this.setVersion(id, DELETED);
      this.to.threads.forgetConversation(id);
      this.to.verified.forgetConversation(id);
      this.to.reports.forgetConversation(id);
    });
    this.to.panels.broadcast({ type: "remove", id });
    this.statusChanged(before?.status, undefined);
    this.to.webhooks.queue("conversation.deleted", { conversationId: id });
  }

  /** Conversations of one visitor (by id) or one email address (as contact or mail sender). */
  conversationsOf(who: { visitorId?: string; email?: string }): string[] {
    this.settle();
    const ids = new Set<string>();
    if (who.visitorId) {
      for (const r of this.w.sql.exec<{ id: string }>(
        "SELECT id FROM conversations WHERE visitor_id = ?",
        who.visitorId,
      )) {
        ids.add(r.id);
      }
    }
    if (who.email) {
      for (const r of this.w.sql.exec<{ id: string }>(
        "SELECT id FROM conversations WHERE visitor_email = ? COLLATE NOCASE",
        who.email,
      )) {
        ids.add(r.id);
      }
      for (const id of this.to.threads.conversationsOf(who.email)) ids.add(id);
    }
    return [...ids];
  }

  /** Conversations inactive since before `cutoff`, oldest first: what retention deletes. */
  inactiveSince(cutoff: number, limit: number): string[] {
    this.settle();
    return this.w.sql
      .exec<{ id: string }>("SELECT id FROM conversations WHERE last_at < ? ORDER BY last_at LIMIT ?", cutoff, limit)
      .toArray()
      .map((r) => r.id);
  }

  /** Other conversations with this visitor email (any case), newest first: the contact's other threads. */
  byEmail(email: string, exceptId: string, limit: number): ConversationSummary[] {
    this.settle();
    return this.w.sql
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
   * One page of a list, newest first. The cursor is the last row seen:
   * `before` (its lastAt) and `beforeId` (its id, which breaks ties between
   * conversations with the same lastAt, so paging never skips or repeats one).
   */
  page(
    view: IndexView,
    operatorId: string,
    before: number | null,
    limit: number,
    beforeId: string | null = null,
  ): { conversations: ConversationSummary[]; hasMore: boolean } {
    this.settle();
    const at = before ?? Number.MAX_SAFE_INTEGER;
    // With no id, everything at exactly `before` is excluded (the older cursor behaviour).
    const id = beforeId ?? "";
    const n = Math.min(Math.max(limit, 1), MAX_PAGE) + 1;
    let rows: ConversationRow[];
    if (view === "unassigned" || view === "assigned") {
      rows = this.w.sql
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
      rows = this.w.sql
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
      rows = this.w.sql
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
}
