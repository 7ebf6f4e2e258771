/**
 * Pacing of index reports. They are the workspace's busiest traffic, and
 * the workspace is one object. A conversation reports a preview at once
 * after a quiet spell, and while busy at most once per window; the window
 * widens with the number of conversations active at the same time, so
 * reports stay near REPORTS_PER_SECOND. (State changes, and a message after
 * a quiet spell, are never held back: the window only thins out previews of
 * conversations that are busy.)
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

  /** Notes a report from conversation `id`; answers how long it should wait between reports while busy. */
  note(id: string): number {
    const now = Date.now();
    this.reporters.set(id, now);
    if (now - this.prunedAt >= PRUNE_EVERY_MS) {
      for (const [key, at] of this.reporters) if (now - at > ACTIVE_FOR_MS) this.reporters.delete(key);
      this.prunedAt = now;
    }
    const wanted = Math.round((this.reporters.size / REPORTS_PER_SECOND) * 1000);
    return Math.min(REPORT_WINDOW_MAX_MS, Math.max(REPORT_WINDOW_MIN_MS, wanted));
  }
}
