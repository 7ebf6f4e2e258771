/**
 * Whether anyone can answer a visitor now, told to the widgets live.
 *
 * "Anyone" is an operator with a panel open who is not Away (panel
 * sockets are this object's own, so it is known here at once). A visitor's
 * widget asks when it says hello (`watch`), which also records its
 * conversation here; when the answer changes, every conversation recorded
 * is told, and sends it to its visitor's sockets. The record goes when the
 * visitor's last socket closes (`unwatch`), or when a conversation told
 * answers that no visitor is there any more (a socket dropped without a
 * close, by a restart; a conversation erased with the widget open).
 *
 * When it is told:
 * - Coming online, choosing Away, signing out and being removed are told
 *   at once. The last panel closing waits GRACE_MS (the alarm): a panel
 *   that reloads or loses the network for a moment is back before then,
 *   and nobody hears of it.
 * - What the visitors were last told is stored (`told`). A visitor who
 *   says hello while the truth differs from it (during that wait, or after
 *   a restart dropped every panel without a close) is told the truth and
 *   marks the rest as `mixed`: the next change is then told to everyone,
 *   even one back to what was told.
 * - One broadcast runs at a time, reading what to tell before each batch;
 *   a change while it runs makes it start over, so every conversation ends
 *   on the newest answer.
 * - A conversation that cannot be told (its object failed) is told again
 *   by the alarm, RETRY_MS later, up to MAX_ATTEMPTS times for a change;
 *   after that its widget learns the answer when it next reconnects.
 */
import { conversationStub } from "../stubs";
import { logWarn } from "../lib/log";
import type { WorkspaceContext } from "./context";
import type { PanelSockets } from "./panel-sockets";
import type { AlarmHandle, Scheduler, ScheduledJob } from "./scheduler";

/** How long a panel may be gone before visitors hear that nobody is online. */
export const GRACE_MS = 15_000;
/** The wait before a conversation that could not be told is told again. */
export const RETRY_MS = 30_000;
/** Tries to tell one conversation of one change. */
export const MAX_ATTEMPTS = 5;
/** Conversations told at a time. */
const BATCH = 100;

type State = {
  /** What the visitors were last told: 1, 0, or null before anything was told. */
  told: number | null;
  /** When a change to "nobody" is due to be told (a panel closed), or null. */
  pending_at: number | null;
  /** 1 when a visitor was told something else than `told` since. */
  mixed: number;
};

/** A conversation recorded: `watch` counts its hellos, so a record renewed while it was told is not dropped. */
type Watcher = { conversation_id: string; watch: number };

export class VisitorAvailability implements ScheduledJob {
  private readonly alarm: AlarmHandle;
  /** The broadcast running in this instance, and whether a change came after it read what to tell. */
  private telling: Promise<void> | null = null;
  private again = false;

  constructor(
    private readonly w: WorkspaceContext,
    private readonly panels: PanelSockets,
    scheduler: Scheduler,
  ) {
    this.alarm = scheduler.register(this);
  }

  private state(): State {
    return (
      this.w.sql.exec<State>("SELECT told, pending_at, mixed FROM availability WHERE id = 1").toArray()[0] ?? {
        told: null,
        pending_at: null,
        mixed: 0,
      }
    );
  }

  private save(s: State): void {
    this.w.sql.exec(
      `INSERT INTO availability (id, told, pending_at, mixed) VALUES (1, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET told = excluded.told, pending_at = excluded.pending_at, mixed = excluded.mixed`,
      s.told,
      s.pending_at,
      s.mixed,
    );
  }

  /** A visitor of `conversationId` said hello: it is told of every change from now on. Returns whether anyone can answer. */
  watch(conversationId: string): boolean {
    this.w.sql.exec(
      `INSERT INTO availability_watchers (conversation_id) VALUES (?)
       ON CONFLICT (conversation_id) DO UPDATE SET watch = watch + 1, retry_at = NULL, attempts = 0`,
      conversationId,
    );
    const now = this.panels.available();
    const s = this.state();
    if (Number(now) !== s.told && !s.mixed) this.save({ ...s, mixed: 1 });
    return now;
  }

  /** The visitor of `conversationId` closed their last socket. */
  unwatch(conversationId: string): void {
    this.w.sql.exec("DELETE FROM availability_watchers WHERE conversation_id = ?", conversationId);
  }

  /**
   * Presence changed: a panel opened, or closed (`closed`: its socket is no
   * longer open), an operator chose Online or Away, signed out or was removed.
   */
  changed(closed = false): void {
    const now = this.panels.available();
    const s = this.state();
    if (Number(now) === s.told) {
      if (s.pending_at === null && !s.mixed) return;
      // Back before the wait was over: only those told otherwise meanwhile need to hear it (all are told).
      this.save({ told: s.told, pending_at: null, mixed: 0 });
      if (s.mixed) void this.broadcast();
      return;
    }
    if (!now && s.pending_at !== null) {
      // A change to "nobody" already waits: it keeps its time (the alarm is armed again, should it have been lost).
      this.w.ctx.waitUntil(this.alarm.arm(s.pending_at));
      return;
    }
    if (now || !closed) {
      this.save({ told: Number(now), pending_at: null, mixed: 0 });
      void this.broadcast();
      return;
    }
    const at = Date.now() + GRACE_MS;
    this.save({ ...s, pending_at: at });
    this.w.ctx.waitUntil(this.alarm.arm(at));
  }

  /** The alarm: the wait after a panel closed is over (told if nobody came back), and conversations told again. */
  async run(): Promise<void> {
    const s = this.state();
    if (s.pending_at !== null && s.pending_at <= Date.now()) {
      const now = this.panels.available();
      this.save({ told: Number(now), pending_at: null, mixed: 0 });
      await this.broadcast();
    }
    const due = this.w.sql
      .exec<Watcher>(
        "SELECT conversation_id, watch FROM availability_watchers WHERE retry_at <= ? ORDER BY retry_at LIMIT ?",
        Date.now(),
        BATCH,
      )
      .toArray();
    await this.tell(due);
  }

  nextAt(): number | null {
    const retry = this.w.sql.exec<{ at: number | null }>("SELECT MIN(retry_at) AS at FROM availability_watchers").one();
    const at = [this.state().pending_at, retry.at].filter((t): t is number => t !== null);
    return at.length ? Math.min(...at) : null;
  }

  /** Tells every conversation recorded, one broadcast at a time; one asked for while another runs makes it start over. */
  private broadcast(): Promise<void> {
    if (this.telling) {
      this.again = true;
      return this.telling;
    }
    // `finally` runs after this assignment even when there is nobody to tell (no await on the way).
    this.telling = this.tellEveryone().finally(() => (this.telling = null));
    return this.telling;
  }

  private async tellEveryone(): Promise<void> {
    do {
      this.again = false;
      const all = this.w.sql
        .exec<Watcher>("SELECT conversation_id, watch FROM availability_watchers ORDER BY conversation_id")
        .toArray();
      for (let i = 0; i < all.length && !this.again; i += BATCH) await this.tell(all.slice(i, i + BATCH));
    } while (this.again);
  }

  /**
   * Tells these conversations what was last told (read now, so a batch never carries an older answer). One whose
   * visitor is gone is forgotten, unless its visitor said hello again meanwhile; one that failed is tried again later.
   */
  private async tell(watchers: Watcher[]): Promise<void> {
    const available = this.state().told === 1;
    const results = await Promise.allSettled(
      watchers.map((r) => conversationStub(this.w.env, r.conversation_id).availabilityChanged(available)),
    );
    const now = Date.now();
    let failed = 0;
    results.forEach((result, i) => {
      const { conversation_id: id, watch } = watchers[i]!;
      if (result.status === "fulfilled") {
        this.w.sql.exec(
          result.value
            ? "UPDATE availability_watchers SET retry_at = NULL, attempts = 0 WHERE conversation_id = ? AND watch = ? AND retry_at IS NOT NULL"
            : "DELETE FROM availability_watchers WHERE conversation_id = ? AND watch = ?",
          id,
          watch,
        );
        return;
      }
      failed++;
      this.w.sql.exec(
        `UPDATE availability_watchers
           SET attempts = attempts + 1, retry_at = CASE WHEN attempts + 1 < ? THEN ? END
         WHERE conversation_id = ? AND watch = ?`,
        MAX_ATTEMPTS,
        now + RETRY_MS,
        id,
        watch,
      );
    });
    if (failed > 0) {
      logWarn("availability.not_told", { available, conversations: failed });
      await this.alarm.arm(now + RETRY_MS);
    }
  }
}
