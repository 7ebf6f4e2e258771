/**
 * The working set every conversation module is handed: the object's SQLite
 * (`sql`), its runtime handle (`ctx`), its bindings (`env`), its typed meta,
 * and ALL of its in-memory state, declared here and nowhere else.
 *
 * Hibernation: between any two events the runtime may drop the object from
 * memory while its sockets stay open. What survives is what the runtime
 * keeps for us:
 *   - SQLite: the message log, meta, joined operators, tickets, stats, views,
 *     revoked visitor token families;
 *   - each socket with its tags (`visitor`, `operator`, `role:id`, its
 *     grant's `session:…`/`family:…`) and its attachment (`SocketIdentity`,
 *     including whether its welcome went out and what it was opened with);
 *   - the alarm.
 * Everything in `Memory` below is lost then. Each field says whether it is
 * rebuilt from the above on first use, or why losing it is harmless.
 */
import type { Env } from "../env";
import type { Message, OperatorRef } from "../protocol";
import { workspaceStub } from "../stubs";
import { createMeta, type Meta } from "./meta";
import type { SocketIdentity } from "./sockets";

type WorkspaceStub = ReturnType<typeof workspaceStub>;

/** Hot facts copied from SQLite; every message reads several of them. */
interface HotCopy {
  /** The meta table (a few dozen keys), as stored text. */
  meta: Map<string, string>;
  /** The last sequence number and its time (`lastAt` null while the log is empty). */
  lastSeq: number;
  lastAt: number | null;
  /** Operators joined right now, in joining order. */
  operators: OperatorRef[];
  /**
   * What the index's summary reads from the log (index-report.ts), once it
   * has read it: the newest text or file message (`null`: none yet), and how
   * many visitor messages came after the read mark `mark`. `undefined` until
   * read; kept current by `append` (log.ts). A count for another mark than
   * the stored one (an operator read up to somewhere) is counted again.
   */
  latest?: { text: string; role: Message["author"]["role"]; kind: "text" | "file" } | null;
  unread?: { mark: number; n: number };
}

/** One of a visitor's allowances (a token bucket; see limits.ts). */
interface Allowance {
  tokens: number;
  at: number;
}

/**
 * How this conversation reports its summary to the workspace's index (see
 * index-report.ts): one object, so all of the coalescing lives together.
 * All of it may be lost to an eviction: a change not yet reported has the
 * durable alarm as its backstop, and each field restarts safely.
 */
interface IndexReport {
  /**
   * Changes not reported yet. `null` after a wake-up: unknown, so the next
   * report (or the alarm) sends the summary anyway.
   */
  dirty: number | null;
  /** The in-memory timer of the next coalesced report (cheap and exact, unlike an alarm write). */
  timer: { due: number; handle: ReturnType<typeof setTimeout> } | null;
  /** The workspace's latest word on how long to wait between reports while busy. */
  windowMs: number;
  /** When the last report started, and how many are on their way. */
  lastAt: number;
  inFlight: number;
  /** How much of a window more a busy conversation waits after the last report, drawn as it started (0 to 1). */
  jitter: number;
  /**
   * Version of the last report. Reports are numbered from the clock (µs), so
   * a fresh instance needs no stored counter; should a clock ever run behind
   * a newer report, the workspace answers with its version and we go on
   * from there.
   */
  version: number;
  /** Whether any webhook wants message.created (`null`: not asked since waking up). */
  wantsMessages: boolean | null;
  /** Whether pending_stats may hold rows (`null`: not known since waking up, so look). */
  statsPending: boolean | null;
  /** Figures queued by this instance so far (a report tells by it whether more came while it was on its way). */
  statsQueued: number;
  /**
   * Whether a report on its way carries figures, or messages for webhooks: another report meanwhile (a state
   * change goes at once) must not read the same rows again, or the workspace would count them twice.
   */
  statsInFlight: boolean;
  messagesInFlight: boolean;
}

/** How often, at most, a busy conversation reports until the workspace names its window. */
const DEFAULT_REPORT_WINDOW_MS = 1000;

/** Everything the object keeps in memory. Nothing else may hold state between events. */
interface Memory {
  /**
   * Written through to SQLite, so it is only a copy: rebuilt from storage on
   * first use after a wake-up, and dropped when a transaction rolls back.
   * (A SQLite round trip per read was most of a message's CPU time.)
   */
  hot: HotCopy | null;
  /**
   * The visitor's allowances (limits.ts), by "visitorId:action": per
   * visitor, not per socket. Lost on eviction, which only refills them,
   * loosening the limits briefly; a storage write per frame just to count
   * would cost more than it saves.
   */
  allowances: Map<string, Allowance>;
  /**
   * Settles when the last visitor message checked against its network's
   * limit (limits.ts) has been handled: the next one waits for it, so they
   * are stored in arrival order. Lost on eviction with the handlers that
   * awaited it: nothing to restore.
   */
  networkLine: Promise<void>;
  /**
   * Each socket's attachment (its `SocketIdentity`, sockets.ts) as this
   * instance last wrote or read it, so a frame does not deserialise its
   * sender's: every write goes through `setIdentity`, so the copy is the
   * attachment. Lost on eviction; a woken instance has new socket objects,
   * and reads each attachment once.
   */
  identities: WeakMap<WebSocket, Readonly<SocketIdentity> | null>;
  /**
   * When each operator socket's session was last confirmed with the
   * workspace, and the confirmation on its way. Lost on eviction, which only
   * makes the next frame ask again (access.ts).
   */
  sessionChecks: WeakMap<WebSocket, { at: number; pending: Promise<boolean> | null }>;
  /**
   * The soonest any open operator socket's confirmation comes due for
   * renewal, as `recheckListeners` last found it (access.ts): until then a
   * message looks at none of them. `null`: not known (a socket opened since,
   * or a wake-up), so the next message looks. Lost on eviction: looked for
   * again.
   */
  listenersDueAt: number | null;
  /**
   * When the alarm is known to be set at or before this time, arming it
   * again is a no-op, so a busy conversation does not read the alarm on
   * every message. Lost on eviction: the alarm is then read once again.
   */
  alarmAt: number | null;
  /** The alarm write on its way (`armAlarm`), which `dropAlarm` waits for. */
  alarmWrite: Promise<void> | null;
  /** The index report's coalescing state. */
  report: IndexReport;
  /**
   * The workspace's stub, made once per instance rather than per call (a new
   * id and stub with every index report was most of what made this object
   * run three full garbage collections a minute under the bench's load, where
   * a relay ran none; README, Performance), with the binding and workspace
   * name it was made for: a test standing in for the binding gets a new one.
   * Dropped after any failed call, since a stub that threw may stay broken.
   * Lost on eviction: made again on first use.
   */
  workspace: { binding: Env["WORKSPACE"]; name: string; stub: WorkspaceStub } | null;
  /**
   * What the workspace last told of whether anyone can answer, and how many
   * times it told (connection.ts): a hello that asked while it told uses the
   * newer word. Lost on eviction with the hellos that could be waiting.
   */
  availability: { told: number; available: boolean };
}

/** The object's storage, runtime, bindings and memory, handed to every module. */
export class ConversationContext {
  readonly sql: SqlStorage;
  /** Meta read and written through typed fields (see meta.ts). */
  readonly meta: Meta;
  readonly memory: Memory = {
    hot: null,
    allowances: new Map(),
    networkLine: Promise.resolve(),
    sessionChecks: new WeakMap(),
    listenersDueAt: null,
    identities: new WeakMap(),
    alarmAt: null,
    alarmWrite: null,
    report: {
      dirty: null,
      timer: null,
      windowMs: DEFAULT_REPORT_WINDOW_MS,
      lastAt: 0,
      inFlight: 0,
      jitter: 0,
      version: 0,
      wantsMessages: null,
      statsPending: null,
      statsQueued: 0,
      statsInFlight: false,
      messagesInFlight: false,
    },
    workspace: null,
    availability: { told: 0, available: false },
  };

  /**
   * `env` is read through the object on every use rather than copied: the
   * object's `env` is the one the runtime (and a test standing in for a
   * binding) sees.
   */
  constructor(
    readonly ctx: DurableObjectState,
    private readonly envOf: () => Env,
  ) {
    this.sql = ctx.storage.sql;
    this.meta = createMeta(this.sql, () => this.hot.meta);
  }

  get env(): Env {
    return this.envOf();
  }

  /** The hot copy, read from SQLite if this instance has none yet. */
  get hot(): HotCopy {
    if (this.memory.hot) return this.memory.hot;
    // Read row by row, into the map: a woken conversation makes no arrays it drops at once.
    const meta = new Map<string, string>();
    for (const r of this.sql.exec<{ key: string; value: string }>("SELECT key, value FROM meta"))
      meta.set(r.key, r.value);
    const last = this.sql
      .exec<{ seq: number; at: number }>("SELECT seq, at FROM messages ORDER BY seq DESC LIMIT 1")
      .toArray()[0];
    const operators = this.sql
      .exec<{ operator_id: string; name: string }>("SELECT operator_id, name FROM operators ORDER BY joined_at")
      .toArray()
      .map((r) => ({ id: r.operator_id, name: r.name }));
    this.memory.hot = { meta, lastSeq: last?.seq ?? 0, lastAt: last?.at ?? null, operators };
    return this.memory.hot;
  }

  /** A synchronous transaction; if it rolls back, the hot copy is rebuilt from storage. */
  transaction<T>(fn: () => T): T {
    try {
      return this.ctx.storage.transactionSync(fn);
    } catch (err) {
      this.memory.hot = null;
      throw err;
    }
  }

  /**
   * Calls the workspace through this instance's stub (`Memory.workspace`),
   * which a failed call drops so the next call makes a new one.
   */
  async callWorkspace<T>(call: (workspace: WorkspaceStub) => Promise<T>): Promise<T> {
    const env = this.env;
    const name = this.meta.workspace!;
    let kept = this.memory.workspace;
    if (kept === null || kept.binding !== env.WORKSPACE || kept.name !== name) {
      kept = { binding: env.WORKSPACE, name, stub: workspaceStub(env, name) };
      this.memory.workspace = kept;
    }
    try {
      return await call(kept.stub);
    } catch (err) {
      if (this.memory.workspace === kept) this.memory.workspace = null;
      throw err;
    }
  }

  /** Makes sure the alarm fires at `at` or earlier. */
  async armAlarm(at: number): Promise<void> {
    const memory = this.memory;
    if (memory.alarmAt !== null && memory.alarmAt <= at) return;
    memory.alarmAt = at; // claimed now, so callers meanwhile do not read the alarm again
    const write = (async () => {
      try {
        const current = await this.ctx.storage.getAlarm();
        if (current !== null && current <= at) memory.alarmAt = current;
        else await this.ctx.storage.setAlarm(at);
      } catch (err) {
        memory.alarmAt = null;
        throw err;
      }
    })();
    memory.alarmWrite = write;
    try {
      await write;
    } finally {
      if (memory.alarmWrite === write) memory.alarmWrite = null;
    }
  }

  /**
   * Takes back the alarm this instance set, unless `needed()` says something
   * still wants it. It asks once no alarm write is on its way, and deletes in
   * the same turn: storage runs its operations in order, so an `armAlarm`
   * that starts later reads no alarm and sets its own.
   */
  async dropAlarm(needed: () => boolean): Promise<void> {
    const memory = this.memory;
    while (memory.alarmWrite) await memory.alarmWrite.catch(() => {});
    if (memory.alarmAt === null || needed()) return;
    memory.alarmAt = null;
    await this.ctx.storage.deleteAlarm();
  }
}
