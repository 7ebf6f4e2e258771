/**
 * Retention: when an admin sets it, conversations inactive for longer than
 * the setting are deleted (messages, files and index entry), a bounded
 * batch per run of the alarm, again soon while more are due.
 */
import { logError } from "../lib/log";
import { conversationStub } from "../stubs";
import type { WorkspaceContext } from "./context";
import type { ConversationIndex } from "./conversation-index";
import type { AlarmHandle, Scheduler, ScheduledJob } from "./scheduler";
import type { Settings } from "./settings";

const DAY_MS = 24 * 3600 * 1000;
/** How often retention looks for conversations that are due. */
const RETENTION_CHECK_MS = 6 * 3600 * 1000;
/** Conversations deleted per run. */
const RETENTION_BATCH = 50;
/** A full batch means more are due: look again this soon. */
const RETENTION_AGAIN_MS = 1000;
/** How soon the first check runs after retention is turned on. */
const FIRST_CHECK_MS = 60_000;

/** Deletion of inactive conversations; a job of the workspace's alarm. */
export class Retention implements ScheduledJob {
  private readonly alarm: AlarmHandle;

  constructor(
    private readonly w: WorkspaceContext,
    private readonly settings: Settings,
    private readonly index: ConversationIndex,
    scheduler: Scheduler,
  ) {
    this.alarm = scheduler.register(this);
  }

  /** Called after the setting changed: turning retention on schedules a check. */
  async settingChanged(): Promise<void> {
    if (this.settings.retentionDays() > 0) {
      this.settings.put("retention_next_at", Date.now());
      await this.alarm.arm(Date.now() + FIRST_CHECK_MS);
    }
  }

  /** Deletes one batch of conversations past the limit, if a check is due. */
  async run(): Promise<void> {
    const days = this.settings.retentionDays();
    if (days <= 0) return;
    if ((this.settings.get("retention_next_at") ?? 0) > Date.now()) return;
    const due = this.index.inactiveSince(Date.now() - days * DAY_MS, RETENTION_BATCH);
    let forgotten = 0;
    for (const id of due) {
      // Left in the index when the conversation refused or failed (its files could not be listed): the next
      // check tries again, and one such conversation holds up none of the others.
      let result;
      try {
        result = await conversationStub(this.w.env, id).erase(id, this.w.env.WORKSPACE_ID);
      } catch (err) {
        logError("retention.erase_failed", { conversationId: id }, err);
        continue;
      }
      if (!result.ok && result.code !== "not_found") continue;
      this.index.forget(id);
      forgotten++;
    }
    // A whole batch gone means more may be due: look again soon. A batch that failed waits for the next check.
    const next = Date.now() + (forgotten === RETENTION_BATCH ? RETENTION_AGAIN_MS : RETENTION_CHECK_MS);
    this.settings.put("retention_next_at", next);
  }

  /** The next check, while retention is on. */
  nextAt(): number | null {
    return this.settings.retentionDays() > 0 ? (this.settings.get("retention_next_at") ?? null) : null;
  }
}
