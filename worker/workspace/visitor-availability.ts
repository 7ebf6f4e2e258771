/**
 * Whether anyone can answer a visitor now, told to the widgets live.
 *
 * "Anyone" is an operator with a panel open who is not Away (panel
 * sockets are this object's own, so it is known here at once). A visitor's
 * widget asks when it says hello (`watch`), which also records its
 * conversation here; when the answer changes, every conversation recorded
 * is told, and sends it to its visitor's sockets. The record goes when the
 * visitor's last socket closes (`unwatch`), or when a conversation told
 * answers that no visitor is there any more.
 *
 * Coming online is told at once. Going offline because a panel closed
 * waits GRACE_MS (the alarm), as a panel that reloads or loses the network
 * for a moment is back before then and nobody needs to hear of it; an
 * operator who chooses Away is told at once. During that wait a new
 * visitor is told what is true now (nobody), so should the operator come
 * back in time, everyone is told again.
 *
 * A conversation that cannot be told (its object failed) keeps its record
 * and hears of the next change; its visitor's widget asks again whenever it
 * reconnects.
 */
import { conversationStub } from "../stubs";
import { logWarn } from "../lib/log";
import type { WorkspaceContext } from "./context";
import type { PanelSockets } from "./panel-sockets";
import type { AlarmHandle, Scheduler, ScheduledJob } from "./scheduler";

/** How long a panel may be gone before visitors hear that nobody is online. */
export const GRACE_MS = 15_000;
/** Conversations told at a time. */
const BATCH = 100;

type State = {
  /** What the visitors were last told: 1, 0, or null before anything was told. */
  told: number | null;
  /** When a change to "nobody" is due to be told (a panel closed), or null. */
  pending_at: number | null;
  /** 1 when a visitor was told something else than `told` while that change waited. */
  mixed: number;
};

export class VisitorAvailability implements ScheduledJob {
  private readonly alarm: AlarmHandle;

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
    this.w.sql.exec("INSERT OR IGNORE INTO availability_watchers (conversation_id) VALUES (?)", conversationId);
    const now = this.panels.available();
    const s = this.state();
    if (s.pending_at !== null && Number(now) !== s.told && s.mixed === 0) this.save({ ...s, mixed: 1 });
    return now;
  }

  /** The visitor of `conversationId` closed their last socket. */
  unwatch(conversationId: string): void {
    this.w.sql.exec("DELETE FROM availability_watchers WHERE conversation_id = ?", conversationId);
  }

  /**
   * Presence changed: a panel opened, or closed (`closed`: its socket is no
   * longer open), or an operator chose Online or Away, or was removed.
   */
  changed(closed = false): void {
    const now = this.panels.available();
    const s = this.state();
    if (Number(now) === s.told) {
      if (s.pending_at === null) return;
      // Back before the wait was over: nobody hears of it, but whoever was told "nobody" meanwhile.
      this.save({ told: s.told, pending_at: null, mixed: 0 });
      if (s.mixed) this.w.ctx.waitUntil(this.tell(now));
      return;
    }
    if (now || !closed) {
      this.save({ told: Number(now), pending_at: null, mixed: 0 });
      this.w.ctx.waitUntil(this.tell(now));
      return;
    }
    if (s.pending_at !== null) return;
    const at = Date.now() + GRACE_MS;
    this.save({ ...s, pending_at: at });
    this.w.ctx.waitUntil(this.alarm.arm(at));
  }

  /** The wait after a panel closed is over: visitors are told if nobody came back (the alarm). */
  async run(): Promise<void> {
    const s = this.state();
    if (s.pending_at === null || s.pending_at > Date.now()) return;
    const now = this.panels.available();
    this.save({ told: Number(now), pending_at: null, mixed: 0 });
    if (Number(now) !== s.told || s.mixed) await this.tell(now);
  }

  nextAt(): number | null {
    return this.state().pending_at;
  }

  /** Tells every conversation recorded; one whose visitor is gone is forgotten. */
  private async tell(available: boolean): Promise<void> {
    const ids = this.w.sql
      .exec<{ conversation_id: string }>("SELECT conversation_id FROM availability_watchers")
      .toArray()
      .map((r) => r.conversation_id);
    let failed = 0;
    for (let i = 0; i < ids.length; i += BATCH) {
      const batch = ids.slice(i, i + BATCH);
      const results = await Promise.allSettled(
        batch.map((id) => conversationStub(this.w.env, id).availabilityChanged(available)),
      );
      results.forEach((result, j) => {
        if (result.status === "rejected") failed++;
        else if (!result.value) this.unwatch(batch[j]!);
      });
    }
    if (failed > 0) logWarn("availability.not_told", { available, conversations: failed });
  }
}
