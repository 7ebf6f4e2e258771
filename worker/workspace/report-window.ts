/**
 * Pacing of index reports. They are the workspace's busiest traffic, and
 * the workspace is one object. A conversation reports a preview at once
 * after a quiet spell, and while busy at most once per window; the window
 * widens with the number of conversations active at the same time, so
 * reports stay near REPORTS_PER_SECOND. (State changes, and a message after
 * a quiet spell, are never held back: the window only thins out previews of
 * conversations that are busy.)
 *
 * The widest window, 30 s, keeps that rate up to 600 active conversations
 * (a busy one's preview is then at most a minute old). At 2,000
 * (bench/load.mjs --conversations 2000) a window capped at 10 s let through
 * about 120 reports a second, and those reports (each an RPC, a row
 * written and a frame to every panel) were most of Microchat's thread
 * beyond storing and relaying messages (docs/performance-log.md,
 * 2026-12-05 afternoon). It is no wider than the conversation's backstop
 * alarm (index-report.ts), which comes due 30-45 s after a held-back change
 * and would report it then anyway.
 *
 * A visitor waiting in Unassigned is what operators watch for: such a
 * conversation always gets the shortest window, so the visitor's further
 * messages reach the panels (and the operators' notifications) within
 * about a second or two whatever the load. Waiting conversations are few
 * next to the ones being answered.
 */

const REPORTS_PER_SECOND = 20;
const REPORT_WINDOW_MIN_MS = 1000;
const REPORT_WINDOW_MAX_MS = 30_000;
/**
 * A conversation counts as active for this long after its last report:
 * longer than the widest window plus its jitter (up to a window more), so a
 * busy conversation never drops out of the count between two of its own
 * reports.
 */
const ACTIVE_FOR_MS = 75_000;
/** How often stale reporters are dropped from the count. */
const PRUNE_EVERY_MS = 1000;

/** The conversations that reported lately, and the window that follows from their number. */
export class ReportWindow {
  /**
   * Conversation id → time of its last report. Memory only: after
   * hibernation the count starts from zero and fills again within one
   * window, which at worst lets a few reports through early.
   */
  private readonly reporters = new Map<string, number>();
  private prunedAt = 0;

  /**
   * Notes a report from conversation `id`; answers how long it should wait
   * between reports while busy: the shortest window while it waits in
   * Unassigned (`waiting`), else the one that follows from the count.
   */
  note(id: string, waiting: boolean): number {
    const now = Date.now();
    this.reporters.set(id, now);
    if (now - this.prunedAt >= PRUNE_EVERY_MS) {
      for (const [key, at] of this.reporters) if (now - at > ACTIVE_FOR_MS) this.reporters.delete(key);
      this.prunedAt = now;
    }
    if (waiting) return REPORT_WINDOW_MIN_MS;
    const wanted = Math.round((this.reporters.size / REPORTS_PER_SECOND) * 1000);
    return Math.min(REPORT_WINDOW_MAX_MS, Math.max(REPORT_WINDOW_MIN_MS, wanted));
  }
}
