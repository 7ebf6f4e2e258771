/**
 * Reporting to the workspace: this conversation's summary for the panel's
 * index, the figures for Report > Operator, and new messages for
 * message.created webhooks, all in one call (`upsertConversation`).
 *
 * State changes (new, joined, left, requeued) are reported at once. Previews
 * of ordinary messages go at once too when the conversation has been quiet;
 * within a burst they are coalesced, so a busy conversation costs the
 * workspace at most one report per window (the workspace names the window),
 * not one per message. The coalescing state is `c.memory.report` (see
 * context.ts); the durable alarm is the backstop for anything an evicted
 * instance did not get to report.
 *
 * What an evicted instance knew of its reports is gone, so a change the
 * backstop covers also leaves a durable mark (`meta.reportPending`), written
 * in the same event as the change and cleared by a report that leaves
 * nothing behind. A woken instance reports only while the mark stands: the
 * backstop of a change already reported wakes the conversation, but costs
 * the workspace nothing (at 2,000 conversations these repeats were most of
 * the thread before any message was sent; see README, Performance). And a
 * report that leaves nothing behind takes the backstop back (unless a
 * revocation waits for the alarm), so it does not wake the conversation at
 * all.
 */
import type { ConversationSummary, Message, Role } from "../protocol";
import type { ConversationContext } from "./context";
import { revocationsKept } from "./access";
import { after } from "./log";
import { conversationState } from "./state";
import { logError } from "../lib/log";

/** Back-off when the workspace could not be told. */
const RETRY_MS = 5000;
/**
 * The alarm that reports changes an evicted instance did not get to report:
 * BACKSTOP_MS after the change, plus up to BACKSTOP_SPREAD of it more at
 * random, so the backstops of conversations that changed together (a burst
 * of visitors, an operator joining many) do not all come due together.
 */
const BACKSTOP_MS = 30_000;
const BACKSTOP_SPREAD = 0.5;
const PREVIEW_CHARS = 140;
/** New messages carried by one report for message.created webhooks. */
const WEBHOOK_MESSAGES_PER_REPORT = 200;
/** Operator figures carried by one report. */
const STATS_PER_REPORT = 500;

/** A figure for Report > Operator. */
type StatKind = "joined" | "message" | "first_response";

/** Tells the workspace (now, or coalesced if `immediate` is false) that the summary changed. */
export function touchIndex(c: ConversationContext, immediate: boolean): void {
  if (!c.meta.started) return;
  const report = c.memory.report;
  report.dirty = (report.dirty ?? 0) + 1;
  const now = Date.now();
  if (immediate) {
    // State changes are on their way before this event ends, so whoever
    // hears of the change next (an HTTP response, an ack) finds the index current.
    c.ctx.waitUntil(flushIndex(c));
  } else {
    // Previews start after the current event (the ack and the broadcast go first). Quiet means nothing on its
    // way or planned: a conversation that wrote on through its window has its report planned already, and the
    // window running out must not send it early (busy conversations would all report a window after the last).
    const quiet = report.inFlight === 0 && report.timer === null && now - report.lastAt >= report.windowMs;
    reportAfter(c, quiet ? 0 : nextReportAt(c) - now);
    // A quiet preview goes now and needs no backstop: the row is in the index already, a failed report sets
    // the retry alarm, and the next message reports again. Without this every conversation of a busy site
    // woke from hibernation every BACKSTOP_MS for nothing (bench/load.mjs --profile: alarms were 7% of the
    // thread at 2,000 conversations).
    if (quiet) return;
  }
  backstop(c, now);
}

/**
 * The durable backstop: should this instance go away before it reports a
 * state change or a held-back preview, the mark says so and the alarm wakes
 * the conversation to report. The mark is written once until a clean report
 * clears it (writing it again changes nothing, and costs nothing); the alarm
 * is armed only when none is due within the latest a backstop may be drawn
 * for, so once per backstop, not per message (an alarm write costs more than
 * the report).
 */
function backstop(c: ConversationContext, now: number): void {
  c.meta.reportPending = true;
  const alarmAt = c.memory.alarmAt;
  if (alarmAt === null || alarmAt > now + BACKSTOP_MS * (1 + BACKSTOP_SPREAD)) {
    c.ctx.waitUntil(c.armAlarm(now + BACKSTOP_MS * (1 + BACKSTOP_SPREAD * Math.random())));
  }
}

/** Queues a figure for Report > Operator; it goes with the next (coalesced) report. */
export function queueStat(c: ConversationContext, kind: StatKind, operatorId: string, value: number): void {
  statQueued(c);
  c.sql.exec(
    "INSERT INTO pending_stats (kind, operator_id, at, value) VALUES (?, ?, ?, ?)",
    kind,
    operatorId,
    Date.now(),
    value,
  );
}

/**
 * Notes a figure queued in pending_stats, by queueStat or by SQLite itself
 * (a reply's "message" figure is written by its insert; see schema.ts).
 */
export function statQueued(c: ConversationContext): void {
  c.memory.report.statsPending = true;
  c.memory.report.statsQueued++;
}

/**
 * When a busy conversation reports next: a window after the last report,
 * plus up to a window more at random, so conversations that started
 * together (a burst of visitors, a deploy) do not report in lock-step.
 * The share is drawn once, as the last report started (`report.jitter`):
 * drawn again with each message, the soonest of many draws would win and
 * busy conversations would all report again near the window's start.
 */
function nextReportAt(c: ConversationContext): number {
  const report = c.memory.report;
  return report.lastAt + report.windowMs * (1 + report.jitter);
}

/** Reports in `ms` (an in-memory timer: cheap and exact), unless one is planned sooner. */
function reportAfter(c: ConversationContext, ms: number): void {
  const report = c.memory.report;
  const due = Date.now() + Math.max(0, ms);
  if (report.timer !== null) {
    if (report.timer.due <= due) return;
    clearTimeout(report.timer.handle);
  }
  const handle = setTimeout(
    () => {
      report.timer = null;
      c.ctx.waitUntil(flushIndex(c));
    },
    Math.max(0, ms),
  );
  report.timer = { due, handle };
}

function summary(c: ConversationContext, version: number): ConversationSummary & { version: number } {
  // Read from the log once per instance, then kept current by each append (log.ts): a report after a message
  // (most reports) runs no query for what that message changed.
  const hot = c.hot;
  if (hot.latest === undefined) {
    const row = c.sql
      .exec<{ text: string; author_role: Message["author"]["role"]; kind: "text" | "file" }>(
        "SELECT text, author_role, kind FROM messages WHERE kind IN ('text', 'file') ORDER BY seq DESC LIMIT 1",
      )
      .toArray()[0];
    hot.latest = row ? { text: row.text, role: row.author_role, kind: row.kind } : null;
  }
  const mark = c.meta.lastReadSeq;
  if (hot.unread?.mark !== mark) {
    const n = c.sql
      .exec<{ n: number }>("SELECT COUNT(*) AS n FROM messages WHERE author_role = 'visitor' AND seq > ?", mark)
      .one().n;
    hot.unread = { mark, n };
  }
  const last = hot.latest;
  const unread = hot.unread.n;
  const state = conversationState(c);
  return {
    id: state.id,
    status: state.status,
    visitor: state.visitor,
    operators: state.operators,
    preview: last ? (last.kind === "file" ? `📎 ${last.text}` : last.text).slice(0, PREVIEW_CHARS) : "",
    previewRole: (last?.role as Role | undefined) ?? "visitor",
    lastAt: c.hot.lastAt ?? state.createdAt,
    unread,
    createdAt: state.createdAt,
    version,
  };
}

/** Sends the summary, queued figures and new messages; on failure, the alarm retries. */
export async function flushIndex(c: ConversationContext): Promise<void> {
  const meta = c.meta;
  const report = c.memory.report;
  if (!meta.started || meta.deleted) return;
  // After a wake-up the mark says whether a change waits (none written yet: unknown, so report).
  if (report.dirty === null) report.dirty = meta.reportPending === false ? 0 : 1;
  const dirty = report.dirty;
  if (dirty === 0) return;
  report.inFlight++;
  report.lastAt = Date.now();
  report.jitter = Math.random();
  report.version = Math.max(report.version + 1, Date.now() * 1000);
  const version = report.version;
  const body = summary(c, version);
  // Figures and messages go with one report at a time: one still on its way holds them (see context.ts).
  const takeStats = report.statsPending !== false && !report.statsInFlight;
  const statsQueued = report.statsQueued;
  const stats = !takeStats
    ? []
    : c.sql
        .exec<{ rowid: number; kind: StatKind; operator_id: string; at: number; value: number }>(
          "SELECT rowid, kind, operator_id, at, value FROM pending_stats ORDER BY rowid LIMIT ?",
          STATS_PER_REPORT,
        )
        .toArray();
  // New messages since the last report, for message.created webhooks
  // (bounded per report; skipped while no webhook wants them).
  const takeMessages = report.wantsMessages === true && !report.messagesInFlight;
  const fresh = takeMessages ? after(c, meta.reportedSeq, WEBHOOK_MESSAGES_PER_REPORT) : [];
  if (stats.length > 0) report.statsInFlight = true;
  if (fresh.length > 0) report.messagesInFlight = true;
  try {
    const answer = await c.callWorkspace((workspace) =>
      workspace.upsertConversation(
        body,
        stats.map((r) => ({ kind: r.kind, operatorId: r.operator_id, at: r.at, value: r.value })),
        fresh,
      ),
    );
    if (stats.length > 0) c.sql.exec("DELETE FROM pending_stats WHERE rowid <= ?", stats[stats.length - 1]!.rowid);
    // Figures queued while this report was on its way, or left behind by a full batch, go with the next one.
    if (takeStats) report.statsPending = stats.length === STATS_PER_REPORT || report.statsQueued !== statsQueued;
    if (fresh.length > 0) meta.reportedSeq = fresh[fresh.length - 1]!.seq;
    // A full batch may have left more behind, and a report that went meanwhile left them to this one: report again
    // after the window.
    const more =
      (takeStats && report.statsPending === true) ||
      fresh.length === WEBHOOK_MESSAGES_PER_REPORT ||
      (fresh.length > 0 && c.hot.lastSeq > meta.reportedSeq);
    if (more) report.dirty = (report.dirty ?? 0) + 1;
    if (answer.messages && report.wantsMessages !== true) {
      // Webhooks want messages (news to this instance): report those from
      // the subscription on, not an old backlog, and soon.
      const floor =
        c.sql.exec<{ s: number | null }>("SELECT MAX(seq) AS s FROM messages WHERE at < ?", answer.since ?? 0).one()
          .s ?? 0;
      if (floor > meta.reportedSeq) meta.reportedSeq = floor;
      report.dirty = (report.dirty ?? 0) + 1;
    }
    report.wantsMessages = answer.messages;
    report.windowMs = answer.windowMs;
    if (answer.version > report.version) {
      // The workspace holds a newer version than our clock gave: go on from its number and report again.
      report.version = answer.version;
      report.dirty = (report.dirty ?? 0) + 1;
    }
    // Clear only if nothing changed while we were waiting; otherwise report
    // the newer summary after the window.
    if (report.dirty === dirty && !more) {
      report.dirty = 0;
      meta.reportPending = false;
      // Nothing is left for the backstop: take it back, or it wakes this conversation for nothing.
      c.ctx.waitUntil(c.dropAlarm(() => meta.reportPending !== false || revocationsKept(c)));
    } else {
      reportAfter(c, nextReportAt(c) - Date.now());
      // The timer is memory only: the mark and the alarm keep what is left for a later instance.
      backstop(c, Date.now());
    }
  } catch (err) {
    logError("index_report.failed_retrying", { conversationId: meta.id }, err);
    await c.armAlarm(Date.now() + RETRY_MS);
  } finally {
    report.inFlight--;
    if (stats.length > 0) report.statsInFlight = false;
    if (fresh.length > 0) report.messagesInFlight = false;
  }
}
