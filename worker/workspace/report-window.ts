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
 * A visitor waiting in Unassigned is what operators watch for, so waiting
 * conversations are paced among themselves: by their own count, up to the
 * 10 s every conversation had at most before. While few wait (as they do
 * next to the ones being answered) each gets a second whatever else is
 * going on, so the visitor's further messages reach the panels and the
 * operators' notifications within a second or two; and a flood of waiting
 * conversations costs the workspace no more than it did before.
 */

const REPORTS_PER_SECOND = 20;
const REPORT_WINDOW_MIN_MS = 1000;
const REPORT_WINDOW_MAX_MS = 30_000;
/** The widest window of a conversation waiting in Unassigned. */
const WAITING_WINDOW_MAX_MS = 10_000;
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
   * Conversation id → time of its last report; `waiting`, those whose last
   * report found them waiting in Unassigned. Memory only: after hibernation
   * the counts start from zero and fill again within one window, which at
   * worst lets a few reports through early.
   */
  private readonly reporters = new Map<string, number>();
  private readonly waiting = new Map<string, number>();
  private prunedAt = 0;

  /**
   * Notes a report from conversation `id` (`waiting`: it waits in
   * Unassigned); answers how long it should wait between reports while busy.
   */
  note(id: string, waiting: boolean): number {
    const now = Date.now();
    this.reporters.set(id, now);
    if (waiting) this.waiting.set(id, now);
    else this.waiting.delete(id);
    if (now - this.prunedAt >= PRUNE_EVERY_MS) {
      for (const count of [this.reporters, this.waiting]) {
        for (const [key, at] of count) if (now - at > ACTIVE_FOR_MS) count.delete(key);
      }
      this.prunedAt = now;
    }
    return waiting ? paced(this.waiting.size, WAITING_WINDOW_MAX_MS) : paced(this.reporters.size, REPORT_WINDOW_MAX_MS);
  }
}

/** The window that keeps `active` conversations near REPORTS_PER_SECOND, from a second up to `max`. */
function paced(active: number, max: number): number {
  const wanted = Math.round((active / REPORTS_PER_SECOND) * 1000);
  return Math.min(max, Math.max(REPORT_WINDOW_MIN_MS, wanted));
}
