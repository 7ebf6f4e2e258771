/**
 * The index report's rules (worker/conversation/index-report.ts), called on
 * the module directly inside a real Conversation object, its reports going
 * to a real workspace object of the test's own, with the clock and the
 * report jitter (Math.random) set by the test: when a change is reported at
 * once, coalesced or not at all; when the backstop alarm is armed; when the
 * coalescing timer is due and which timer wins; what a report carries (the
 * summary, its preview cut, the version, the figures and the messages, each
 * batch at its bound); reports on their way at once, the workspace's
 * answers held and let go in the order the test chooses; what the
 * workspace's answer changes; and the retry when the workspace cannot take
 * the report. (`index.test.ts` drives the same reports through sockets and
 * the panel.)
 *
 * The clock starts far ahead of the real one, so no alarm armed here comes
 * due while a test runs; only `runDurableObjectAlarm` fires one.
 */
import { env, runDurableObjectAlarm } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { join } from "../worker/conversation/assignment";
import type { ConversationContext } from "../worker/conversation/context";
import { flushIndex, queueStat, touchIndex } from "../worker/conversation/index-report";
import { append, appendEvent } from "../worker/conversation/log";
import type { FileRef } from "../worker/protocol";
import { failingBinding, ownConversation, withAdmin } from "./helpers";

const T0 = 4_000_000_000_000;
/** The window a conversation waits between reports while busy, until the workspace names one (context.ts). */
const WINDOW = 1000;
/** The share of a window more a busy conversation waits at Math.random() = 0.5 (drawn once per report): half. */
const JITTER = 0.5;
const BACKSTOP_MS = 30_000;
/** The backstop waits up to this share of BACKSTOP_MS more, drawn by Math.random() as it is armed. */
const BACKSTOP_SPREAD = 0.5;
/** How far ahead a backstop armed at Math.random() = JITTER is due. */
const BACKSTOP = BACKSTOP_MS * (1 + BACKSTOP_SPREAD * JITTER);
/** The furthest ahead a backstop can be drawn. */
const BACKSTOP_LATEST = BACKSTOP_MS * (1 + BACKSTOP_SPREAD);
const RETRY_MS = 5000;
const PREVIEW_CHARS = 140;
const WEBHOOK_MESSAGES_PER_REPORT = 200;
const STATS_PER_REPORT = 500;
/** The version of a report made at `at` (the clock in µs). */
const V = (at: number) => at * 1000;

const realNow = Date.now.bind(Date);
let now = T0;
let random = JITTER;
beforeEach(() => {
  now = T0;
  random = JITTER;
  vi.spyOn(Date, "now").mockImplementation(() => now);
  vi.spyOn(Math, "random").mockImplementation(() => random);
});
afterEach(() => vi.restoreAllMocks());

const VISITOR = { role: "visitor" as const, id: "visitor-1", name: "Vera" };
const OPERATOR = { role: "operator" as const, id: "op-1", name: "Olga" };

/** A conversation object of its own, reporting to a workspace object of its own. */
function fresh() {
  const base = ownConversation("index-rules", VISITOR.id);
  const { id } = base;
  return {
    ...base,
    /** This conversation's row in the workspace's index, or null. */
    row() {
      return this.wsSql((sql) => sql.exec("SELECT * FROM conversations WHERE id = ?", id).toArray()[0] ?? null);
    },
    /** The version the workspace holds for this conversation, or null. */
    version() {
      return this.wsSql(
        (sql) =>
          sql.exec<{ v: number }>("SELECT version AS v FROM index_versions WHERE id = ?", id).toArray()[0]?.v ?? null,
      );
    },
    /** The seqs of the messages the workspace queued for message.created webhooks, in queueing order. */
    webhookSeqs() {
      return this.wsSql((sql) =>
        sql
          .exec<{ payload: string }>(
            "SELECT payload FROM webhook_deliveries WHERE event = 'message.created' ORDER BY rowid",
          )
          .toArray()
          .map((r) => (JSON.parse(r.payload) as { data: { message: { seq: number } } }).data.message.seq),
      );
    },
    /** The first-response figures the workspace received (their values), in the order received. */
    firstResponses() {
      return this.wsSql((sql) =>
        sql
          .exec<{ ms: number }>("SELECT ms FROM first_responses ORDER BY rowid")
          .toArray()
          .map((r) => r.ms),
      );
    },
  };
}

/**
 * Holds the workspace's answers to conversation `f`'s reports until the test lets each go: a report reaches the
 * workspace (and is taken there) at once, but the conversation hears the answer to its nth report (from 0, in the
 * order the reports start) only once `answer(n)` has been called, before or after.
 */
async function holdAnswers(f: ReturnType<typeof fresh>) {
  const gates: { open: () => void; opened: Promise<void> }[] = [];
  const gate = (n: number) => {
    if (!gates[n]) {
      let open!: () => void;
      const opened = new Promise<void>((resolve) => (open = resolve));
      gates[n] = { open, opened };
    }
    return gates[n];
  };
  let reports = 0;
  await failingBinding(f.id, "WORKSPACE", {
    idFromName: (name: string) => env.WORKSPACE.idFromName(name),
    get: (id: DurableObjectId) => {
      const workspace = env.WORKSPACE.get(id);
      return {
        async upsertConversation(...args: Parameters<typeof workspace.upsertConversation>) {
          const n = reports++;
          const answer = await workspace.upsertConversation(...args);
          await gate(n).opened;
          return answer;
        },
      };
    },
  });
  return { answer: (n: number) => gate(n).open() };
}

/** The coalescing state as plain data (the timer by when it is due). */
function reporting(c: ConversationContext) {
  const r = c.memory.report;
  return { dirty: r.dirty, inFlight: r.inFlight, timerDue: r.timer?.due ?? null, alarmAt: c.memory.alarmAt };
}

/** Whether figures are on their way or wait, and how many rows of them are left. */
function figures(c: ConversationContext) {
  return {
    released: c.memory.report.statsInFlight,
    pending: c.memory.report.statsPending,
    left: c.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM pending_stats").one().n,
  };
}

/** Cancels a planned coalesced report, so it cannot fire behind the test's back. */
/**
 * Three reports on their way at once: the first carries what is queued and its answer is held; a second and a
 * third (state changes, carrying none) are answered while it waits; then the first is answered. Answers what
 * `held` read between the second's answer and the third's start.
 */
async function overlappingReports<T>(
  c: ConversationContext,
  workspace: Awaited<ReturnType<typeof holdAnswers>>,
  held: () => T,
): Promise<T> {
  c.memory.report.dirty = 1;
  const first = flushIndex(c);
  c.memory.report.dirty = 2;
  const second = flushIndex(c);
  workspace.answer(1);
  await second;
  dropTimer(c);
  const during = held();
  c.memory.report.dirty = 3;
  const third = flushIndex(c);
  workspace.answer(2);
  await third;
  dropTimer(c);
  workspace.answer(0);
  await first;
  dropTimer(c);
  return during;
}

function dropTimer(c: ConversationContext): void {
  const timer = c.memory.report.timer;
  if (timer) clearTimeout(timer.handle);
  c.memory.report.timer = null;
}

/** Waits (on the real clock) until `ok()` holds; fails saying what `seen()` shows then. */
async function until(what: string, ok: () => boolean | Promise<boolean>, seen: () => unknown, ms = 10_000) {
  const end = realNow() + ms;
  while (!(await ok())) {
    if (realNow() > end) throw new Error(`timed out waiting until ${what}; saw ${JSON.stringify(await seen())}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Waits until no report is on its way or planned. */
/** No alarm write or take-back on its way. */
const alarmSettled = (c: ConversationContext) =>
  until(
    "no alarm write is on its way",
    () => c.memory.alarmWrite === null,
    () => c.memory.alarmAt,
  ).then(() => c.dropAlarm(() => true));

const settled = (c: ConversationContext) =>
  until(
    "no report is on its way or planned",
    () => c.memory.report.inFlight === 0 && c.memory.report.timer === null,
    () => reporting(c),
  );

/** Reports now, as after a change (`dirty` set so the report goes). */
async function reportNow(c: ConversationContext): Promise<void> {
  c.memory.report.dirty = 1;
  await flushIndex(c);
}

const text = (c: ConversationContext, who: typeof VISITOR | typeof OPERATOR, words: string) =>
  append(c, crypto.randomUUID(), "text", who, words);

describe("when a change is reported", () => {
  it("a conversation nobody has written in is never reported: no change counted, no timer, no alarm", async () => {
    const f = fresh();
    const seen = await f.in(async (c, state) => {
      touchIndex(c, true);
      touchIndex(c, false);
      return { reporting: reporting(c), alarm: await state.storage.getAlarm() };
    });
    expect(seen).toEqual({ reporting: { dirty: null, inFlight: 0, timerDue: null, alarmAt: null }, alarm: null });
    expect(await f.row()).toBeNull();
  });

  it("a state change goes at once, whatever the window, counted, and arms the backstop BACKSTOP_MS ahead and up to half of it more, taken back once the report went out", async () => {
    const f = fresh();
    const seen = await f.in(async (c, state) => {
      c.meta.started = true;
      c.memory.report.lastAt = T0; // just reported: a preview would wait, a state change does not
      touchIndex(c, true);
      const atOnce = { ...reporting(c), lastAt: c.memory.report.lastAt };
      await settled(c);
      await alarmSettled(c);
      return { atOnce, after: reporting(c), alarm: await state.storage.getAlarm() };
    });
    expect(seen.atOnce, "on its way before touchIndex returns").toEqual({
      dirty: 1,
      inFlight: 1,
      timerDue: null,
      alarmAt: T0 + BACKSTOP,
      lastAt: T0,
    });
    expect(seen.after).toEqual({ dirty: 0, inFlight: 0, timerDue: null, alarmAt: null });
    expect(seen.alarm, "nothing is left for it: it would wake the conversation for nothing").toBeNull();
    expect(await f.row()).toMatchObject({ id: f.id, status: "unassigned", visitor_id: VISITOR.id });
  });

  it("each change is counted on top of those not reported yet (none known after a wake-up counts from 0)", async () => {
    const f = fresh();
    const seen = await f.in((c) => {
      c.meta.started = true;
      c.memory.report.lastAt = T0; // busy: the previews wait
      const counts: (number | null)[] = [c.memory.report.dirty];
      touchIndex(c, false);
      counts.push(c.memory.report.dirty);
      c.memory.report.dirty = 2;
      touchIndex(c, false);
      counts.push(c.memory.report.dirty);
      dropTimer(c);
      return counts;
    });
    expect(seen).toEqual([null, 1, 3]);
  });

  it("a preview goes at once only after a quiet spell: nothing on its way or planned, and at least a window since the last report", async () => {
    const f = fresh();
    const seen = await f.in((c) => {
      c.meta.started = true;
      const touch = (lastAt: number, inFlight = 0, windowMs = WINDOW, planned: number | null = null) => {
        const report = c.memory.report;
        Object.assign(report, { dirty: 0, lastAt, inFlight, windowMs, jitter: JITTER });
        if (planned !== null) report.timer = { due: planned, handle: setTimeout(() => undefined, 60_000) };
        c.memory.alarmAt = null;
        touchIndex(c, false);
        const seen = reporting(c);
        dropTimer(c);
        return seen;
      };
      return {
        windowAgo: touch(T0 - WINDOW),
        longAgo: touch(T0 - WINDOW - 1),
        justUnderAWindow: touch(T0 - WINDOW + 1),
        inFlightLongAgo: touch(T0 - 60_000, 1),
        wideWindowAgo: touch(T0 - 5000, 0, 5000),
        wideWindowUnder: touch(T0 - 4999, 0, 5000),
        // Planned by the last message: a window and a half after the last report, which was 1.2 windows ago.
        plannedPastAWindow: touch(T0 - 1200, 0, WINDOW, T0 - 1200 + WINDOW * (1 + JITTER)),
      };
    });
    const quiet = { dirty: 1, inFlight: 0, timerDue: T0, alarmAt: null };
    expect(seen.windowAgo, "exactly a window since the last report").toEqual(quiet);
    expect(seen.longAgo).toEqual(quiet);
    expect(seen.justUnderAWindow, "a window less 1 ms: after the window, and the backstop").toEqual({
      dirty: 1,
      inFlight: 0,
      timerDue: T0 - WINDOW + 1 + WINDOW * (1 + JITTER),
      alarmAt: T0 + BACKSTOP,
    });
    expect(seen.inFlightLongAgo, "a report on its way: not quiet; the window long past, so due now").toEqual({
      dirty: 1,
      inFlight: 1,
      timerDue: T0,
      alarmAt: T0 + BACKSTOP,
    });
    expect(seen.wideWindowAgo, "the window the workspace named").toEqual({ ...quiet, timerDue: T0 });
    expect(seen.wideWindowUnder).toEqual({
      dirty: 1,
      inFlight: 0,
      timerDue: T0 - 4999 + 5000 * (1 + JITTER),
      alarmAt: T0 + BACKSTOP,
    });
    // A conversation that writes on through its window has its next report planned: the window running out
    // does not make it quiet (else every busy conversation reported exactly a window after the last, together).
    expect(seen.plannedPastAWindow, "a report planned: it stands, and the backstop").toEqual({
      dirty: 1,
      inFlight: 0,
      timerDue: T0 + 300,
      alarmAt: T0 + BACKSTOP,
    });
  });

  it("a busy conversation reports a window after its last report, plus up to a window more, drawn once by that report", async () => {
    const f = fresh();
    const seen = await f.in(async (c) => {
      text(c, VISITOR, "hello");
      c.meta.started = true;
      /** Reports with Math.random() at `r`, then writes twice within the window, the second time at another draw. */
      const dueAfterReport = async (r: number) => {
        random = r;
        await reportNow(c);
        dropTimer(c);
        const windowMs = c.memory.report.windowMs;
        now += 100;
        touchIndex(c, false);
        const first = c.memory.report.timer?.due ?? null;
        random = 0;
        now += 100;
        touchIndex(c, false);
        const second = c.memory.report.timer?.due ?? null;
        dropTimer(c);
        const lastAt = c.memory.report.lastAt;
        now += 60_000;
        return { first: first === null ? null : (first - lastAt) / windowMs, same: first === second };
      };
      return [await dueAfterReport(0), await dueAfterReport(0.5), await dueAfterReport(0.96)];
    });
    // The wait is drawn when the report starts, not with each message: were it drawn again with each, the
    // soonest of many draws would win and every busy conversation would report near the window's start.
    expect(seen).toEqual([
      { first: 1, same: true },
      { first: 1.5, same: true },
      { first: 1.96, same: true },
    ]);
  });
});

describe("the backstop alarm", () => {
  it("is armed when none is known, or the one known is further away than any backstop could be drawn; one due sooner stands", async () => {
    const f = fresh();
    const seen = await f.in(async (c, state) => {
      c.meta.started = true;
      const armed = (known: number | null) => {
        Object.assign(c.memory.report, { dirty: 0, lastAt: T0, inFlight: 0 }); // busy: the backstop is needed
        c.memory.alarmAt = known;
        touchIndex(c, false);
        dropTimer(c);
        return c.memory.alarmAt;
      };
      const results = {
        none: armed(null),
        aMsTooLate: armed(T0 + BACKSTOP_LATEST + 1),
        muchLater: armed(T0 + 10 * BACKSTOP_MS),
        latest: armed(T0 + BACKSTOP_LATEST),
        aMsSooner: armed(T0 + BACKSTOP_LATEST - 1),
        soon: armed(T0 + 5),
      };
      c.memory.alarmAt = null;
      armed(null);
      await until(
        "the backstop alarm is stored",
        async () => (await state.storage.getAlarm()) !== null,
        () => null,
      );
      return { results, stored: await state.storage.getAlarm() };
    });
    expect(seen.results).toEqual({
      none: T0 + BACKSTOP,
      aMsTooLate: T0 + BACKSTOP,
      muchLater: T0 + BACKSTOP,
      latest: T0 + BACKSTOP_LATEST,
      aMsSooner: T0 + BACKSTOP_LATEST - 1,
      soon: T0 + 5,
    });
    expect(seen.stored).toBe(T0 + BACKSTOP);
  });

  it("is taken back by a clean report, not while a revocation is kept (the alarm clears it) nor after a report that left work", async () => {
    const seen = async (before: (c: ConversationContext) => void) => {
      const f = fresh();
      return f.in(async (c, state) => {
        c.meta.started = true;
        before(c);
        touchIndex(c, true);
        await until(
          "the report went out",
          () => c.memory.report.inFlight === 0,
          () => reporting(c),
        );
        dropTimer(c);
        await alarmSettled(c);
        return { alarmAt: c.memory.alarmAt, stored: await state.storage.getAlarm() };
      });
    };
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    expect({
      clean: await seen(() => {}),
      revoked: await seen(
        (c) => void c.sql.exec("INSERT INTO revoked_tokens (family, expires_at) VALUES ('f', ?)", T0),
      ),
      fullBatch: await seen((c) => {
        for (let i = 0; i < STATS_PER_REPORT + 1; i++) queueStat(c, "message", "op-1", 1);
      }),
    }).toEqual({
      clean: { alarmAt: null, stored: null },
      revoked: { alarmAt: T0 + BACKSTOP, stored: T0 + BACKSTOP },
      fullBatch: { alarmAt: T0 + BACKSTOP, stored: T0 + BACKSTOP },
    });
    expect(errors).not.toHaveBeenCalled();
  });

  it("the take-back waits for an alarm write on its way, then asks whether the alarm is needed; one it does not know of is left; one armed after it stands", async () => {
    const f = fresh();
    const seen = await f.in(async (c, state) => {
      const stored = () => state.storage.getAlarm();
      // An alarm write on its way, then the take-back: it waits, so the alarm is not set again after the delete.
      const arming = c.armAlarm(T0 + 7);
      const afterWrite = c.dropAlarm(() => false);
      await Promise.all([arming, afterWrite]);
      const waited = { alarmAt: c.memory.alarmAt, stored: await stored() };
      // Asked once the write is done: a change meanwhile keeps the alarm.
      let needed = false;
      let letGo = () => {};
      await c.armAlarm(T0 + 9);
      c.memory.alarmWrite = new Promise((resolve) => (letGo = resolve));
      const asking = c.dropAlarm(() => needed);
      needed = true;
      const held = c.memory.alarmWrite;
      c.memory.alarmWrite = null;
      letGo();
      await held;
      await asking;
      const kept = { alarmAt: c.memory.alarmAt, stored: await stored() };
      // An alarm this instance does not know of (an earlier instance's) is not its to take back.
      await state.storage.setAlarm(T0 + 13);
      c.memory.alarmAt = null;
      await c.dropAlarm(() => false);
      const unknown = await stored();
      await c.armAlarm(T0 + 11);
      // Taken back, then armed again at once: the new one stands.
      const dropping = c.dropAlarm(() => false);
      const rearmed = c.armAlarm(T0 + 11);
      await Promise.all([dropping, rearmed]);
      return { waited, kept, unknown, rearmed: { alarmAt: c.memory.alarmAt, stored: await stored() } };
    });
    expect(seen).toEqual({
      waited: { alarmAt: null, stored: null },
      kept: { alarmAt: T0 + 9, stored: T0 + 9 },
      unknown: T0 + 13,
      rearmed: { alarmAt: T0 + 11, stored: T0 + 11 },
    });
  });

  it("a change made while a clean report's take-back waits for an alarm write keeps the alarm: the take-back asks the mark that change left", async () => {
    const f = fresh();
    const seen = await f.in(async (c, state) => {
      c.meta.started = true;
      // Every take-back this test starts, so it can wait for each to finish.
      const drops: Promise<void>[] = [];
      const dropAlarm = c.dropAlarm.bind(c);
      c.dropAlarm = (needed) => {
        const p = dropAlarm(needed);
        drops.push(p);
        return p;
      };
      touchIndex(c, true);
      // An alarm write still on its way when the report is answered: the take-back waits for it.
      let letGo = () => {};
      const held = new Promise<void>((resolve) => (letGo = resolve));
      c.memory.alarmWrite = held;
      await until(
        "the report was answered and its take-back started",
        () => c.memory.report.inFlight === 0 && drops.length === 1,
        () => ({ ...reporting(c), drops: drops.length }),
      );
      // A preview meanwhile: held back for the window, so the backstop is what covers it.
      touchIndex(c, false);
      const pending = c.meta.reportPending;
      dropTimer(c);
      c.memory.alarmWrite = null;
      letGo();
      await Promise.all(drops);
      return { pending, alarmAt: c.memory.alarmAt, stored: await state.storage.getAlarm() };
    });
    expect(seen).toEqual({ pending: true, alarmAt: T0 + BACKSTOP, stored: T0 + BACKSTOP });
  });

  it("is due BACKSTOP_MS after the change plus a share of half of it more drawn as it is armed, so changes made together do not come due together", async () => {
    const f = fresh();
    const seen = await f.in((c) => {
      c.meta.started = true;
      const dueAt = (r: number) => {
        random = r;
        Object.assign(c.memory.report, { dirty: 0, lastAt: T0, inFlight: 0 });
        c.memory.alarmAt = null;
        touchIndex(c, false);
        dropTimer(c);
        return c.memory.alarmAt! - T0;
      };
      return [dueAt(0), dueAt(0.25), dueAt(0.999)];
    });
    expect(seen).toEqual([BACKSTOP_MS, BACKSTOP_MS * 1.125, BACKSTOP_MS * (1 + 0.5 * 0.999)]);
  });
});

describe("the durable mark (a change waits to be reported)", () => {
  /** The mark as stored: "1", "0", or null before one was ever written. */
  const stored = (c: ConversationContext) =>
    c.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'report_pending'").toArray()[0]?.value ?? null;

  it("is written in the same event as a state change or a held-back preview, not a quiet preview; a clean report clears it", async () => {
    const f = fresh();
    const seen = await f.in(async (c) => {
      c.meta.started = true;
      const touched = async (immediate: boolean, lastAt: number) => {
        Object.assign(c.memory.report, { dirty: 0, lastAt, inFlight: 0 });
        c.memory.alarmAt = T0 + 1; // an alarm is known: only the mark is looked at here
        touchIndex(c, immediate);
        const atOnce = stored(c);
        if (c.memory.report.timer) {
          dropTimer(c);
          await flushIndex(c); // the held-back preview's report, brought forward
        }
        await settled(c);
        return { atOnce, reported: stored(c) };
      };
      return {
        quiet: await touched(false, 0),
        stateChange: await touched(true, T0),
        heldBack: await touched(false, T0),
      };
    });
    expect(seen).toEqual({
      quiet: { atOnce: null, reported: "0" },
      stateChange: { atOnce: "1", reported: "0" },
      heldBack: { atOnce: "1", reported: "0" },
    });
  });

  it("stands while anything is left: a change while the report was on its way, a full batch, a failed report", async () => {
    const meanwhile = fresh();
    const failed = fresh();
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    await failed.wsSql((sql) => sql.exec("DROP TABLE index_versions"));
    const seen = {
      meanwhile: await meanwhile.in(async (c) => {
        c.meta.started = true;
        c.meta.reportPending = false;
        c.memory.report.dirty = 1;
        const on = flushIndex(c);
        c.memory.report.dirty = 2; // a change counted while the report is on its way
        await on;
        const seen = { mark: stored(c), alarmAt: c.memory.alarmAt };
        dropTimer(c);
        return seen;
      }),
      fullBatch: await meanwhile.in(async (c) => {
        for (let i = 0; i < STATS_PER_REPORT + 1; i++) queueStat(c, "message", "op-1", 1);
        c.meta.reportPending = false;
        c.memory.alarmAt = null;
        await reportNow(c);
        const seen = { mark: stored(c), alarmAt: c.memory.alarmAt };
        dropTimer(c);
        return seen;
      }),
      failed: await failed.in(async (c) => {
        c.meta.started = true;
        c.memory.report.lastAt = T0;
        touchIndex(c, true);
        await settled(c);
        return { mark: stored(c), alarmAt: c.memory.alarmAt };
      }),
    };
    expect(seen).toEqual({
      meanwhile: { mark: "1", alarmAt: T0 + BACKSTOP },
      fullBatch: { mark: "1", alarmAt: T0 + BACKSTOP },
      failed: { mark: "1", alarmAt: T0 + RETRY_MS },
    });
    expect(errors).toHaveBeenCalledTimes(1);
  });

  it("decides after a wake-up: cleared, nothing is reported; standing or never written, the summary goes", async () => {
    const cleared = fresh();
    const standing = fresh();
    const never = fresh();
    const wokenUp = (f: ReturnType<typeof fresh>, mark: boolean | null) =>
      f.in(async (c) => {
        c.meta.started = true;
        c.meta.reportPending = mark;
        c.memory.report.dirty = null; // what a fresh instance knows
        await flushIndex(c);
        return { dirty: c.memory.report.dirty, version: c.memory.report.version, mark: stored(c) };
      });
    expect(await wokenUp(cleared, false)).toEqual({ dirty: 0, version: 0, mark: "0" });
    expect(await wokenUp(standing, true)).toEqual({ dirty: 0, version: V(T0), mark: "0" });
    expect(await wokenUp(never, null)).toEqual({ dirty: 0, version: V(T0), mark: "0" });
    expect([await cleared.version(), await standing.version(), await never.version()]).toEqual([null, V(T0), V(T0)]);
  });

  it("the alarm of a conversation whose mark is cleared does not call the workspace", async () => {
    const f = fresh();
    await f.in(async (c) => {
      c.meta.started = true;
      await reportNow(c);
    });
    const reported = await f.version();
    await f.in((c) => {
      c.memory.report.dirty = null; // as after a wake-up
    });
    now = T0 + BACKSTOP;
    await f.in((_c, state) => state.storage.setAlarm(T0 + BACKSTOP));
    expect(await runDurableObjectAlarm(f.stub())).toBe(true);
    expect(await f.version()).toBe(reported);
  });
});

describe("the coalescing timer", () => {
  it("fires the report when due: the workspace gets the preview, and the timer is cleared", async () => {
    const f = fresh();
    const seen = await f.in(async (c) => {
      c.meta.started = true;
      text(c, VISITOR, "after a quiet spell");
      touchIndex(c, false);
      const planned = reporting(c);
      await settled(c);
      await alarmSettled(c);
      return { planned, after: reporting(c) };
    });
    expect(seen.planned).toEqual({ dirty: 1, inFlight: 0, timerDue: T0, alarmAt: null });
    expect(seen.after).toEqual({ dirty: 0, inFlight: 0, timerDue: null, alarmAt: null });
    expect(await f.row()).toMatchObject({ preview: "after a quiet spell", unread: 1 });
  });

  it("a timer due later is not set off early: it is still waiting after the next turn", async () => {
    const f = fresh();
    const seen = await f.in(async (c) => {
      c.meta.started = true;
      Object.assign(c.memory.report, { lastAt: T0, windowMs: 600_000, jitter: JITTER });
      touchIndex(c, false);
      const timer = c.memory.report.timer;
      await new Promise((r) => setTimeout(r, 0));
      const after = { same: c.memory.report.timer === timer, ...reporting(c) };
      dropTimer(c);
      return after;
    });
    expect(seen).toEqual({
      same: true,
      dirty: 1,
      inFlight: 0,
      timerDue: T0 + 600_000 * (1 + JITTER),
      alarmAt: T0 + BACKSTOP,
    });
    expect(await f.row(), "no report went").toBeNull();
  });

  it("one timer at a time: a later one never replaces it, nor one due at the same time; a sooner one does", async () => {
    const f = fresh();
    const seen = await f.in((c) => {
      c.meta.started = true;
      Object.assign(c.memory.report, { lastAt: T0 - 1, windowMs: 600_000 });
      // A report that started meanwhile draws a new share of the window (flushIndex); set here directly.
      const plan = (jitter: number) => {
        c.memory.report.jitter = jitter;
        touchIndex(c, false);
        return c.memory.report.timer!;
      };
      const first = plan(0.5);
      const same = plan(0.5);
      const later = plan(0.9);
      const sooner = plan(0);
      const result = {
        sameKept: same === first,
        laterKept: later === first,
        soonerReplaced: sooner !== first,
        dues: [first.due, same.due, later.due, sooner.due],
      };
      dropTimer(c);
      return result;
    });
    expect(seen).toEqual({
      sameKept: true,
      laterKept: true,
      soonerReplaced: true,
      dues: [T0 - 1 + 900_000, T0 - 1 + 900_000, T0 - 1 + 900_000, T0 - 1 + 600_000],
    });
  });
  it("a sooner timer cancels the one it replaces, so that one never reports behind the plan", async () => {
    const f = fresh();
    const cleared = vi.spyOn(globalThis, "clearTimeout");
    const seen = await f.in((c) => {
      c.meta.started = true;
      Object.assign(c.memory.report, { lastAt: T0 - 1, windowMs: 600_000, jitter: 0.5 });
      touchIndex(c, false);
      const replaced = c.memory.report.timer!.handle;
      const before = cleared.mock.calls.length;
      c.memory.report.jitter = 0;
      touchIndex(c, false);
      const calls = cleared.mock.calls.slice(before);
      dropTimer(c);
      return { cancelled: calls.length === 1 && calls[0]![0] === replaced };
    });
    expect(seen).toEqual({ cancelled: true });
  });
});

describe("figures for Report > Operator", () => {
  it("a figure is stored with its kind, operator, time and value, and waits for the next report", async () => {
    const f = fresh();
    const seen = await f.in((c) => {
      c.meta.started = true;
      const before = c.memory.report.statsPending;
      now = T0 + 7;
      queueStat(c, "joined", "op-1", 1);
      now = T0 + 9;
      queueStat(c, "first_response", "op-2", 4200);
      return {
        before,
        pending: c.memory.report.statsPending,
        rows: c.sql.exec("SELECT kind, operator_id, at, value FROM pending_stats ORDER BY rowid").toArray(),
        reporting: reporting(c),
      };
    });
    expect(seen.before).toBeNull();
    expect(seen.pending).toBe(true);
    expect(seen.rows).toEqual([
      { kind: "joined", operator_id: "op-1", at: T0 + 7, value: 1 },
      { kind: "first_response", operator_id: "op-2", at: T0 + 9, value: 4200 },
    ]);
    expect(seen.reporting, "a figure reports nothing by itself").toEqual({
      dirty: null,
      inFlight: 0,
      timerDue: null,
      alarmAt: null,
    });
  });

  it.each([
    [STATS_PER_REPORT - 1, STATS_PER_REPORT - 1, false],
    [STATS_PER_REPORT, STATS_PER_REPORT, true],
    [STATS_PER_REPORT + 1, STATS_PER_REPORT, true],
  ])(
    "of %i waiting, a report carries the oldest %i (at most STATS_PER_REPORT) and deletes them; more may wait: %s",
    async (queued, carried, more) => {
      const f = fresh();
      const first = await f.in(async (c) => {
        c.meta.started = true;
        for (let i = 0; i < queued; i++) queueStat(c, "first_response", "op-1", i);
        await reportNow(c);
        return {
          pending: c.memory.report.statsPending,
          left: c.sql
            .exec<{ value: number }>("SELECT value FROM pending_stats ORDER BY rowid")
            .toArray()
            .map((r) => r.value),
        };
      });
      const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
      expect(first.pending, "whether more figures may wait").toBe(more);
      expect(first.left, "figures left waiting").toEqual(range(carried, queued));
      expect(await f.firstResponses(), "figures the workspace received").toEqual(range(0, carried));

      // The next report carries the rest (none at exactly a full batch), and then none are known to wait.
      const second = await f.in(async (c) => {
        await reportNow(c);
        return {
          pending: c.memory.report.statsPending,
          left: c.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM pending_stats").one().n,
        };
      });
      expect(second).toEqual({ pending: false, left: 0 });
      expect(await f.firstResponses()).toEqual(range(0, queued));
    },
  );

  it("are looked for after a wake-up (not known), and not while none are known to wait", async () => {
    const f = fresh();
    const seen = await f.in(async (c) => {
      c.meta.started = true;
      queueStat(c, "first_response", "op-1", 11);
      // Written behind this instance's back while it knows of none waiting: left for the next wake-up.
      c.memory.report.statsPending = false;
      await reportNow(c);
      const whileNone = c.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM pending_stats").one().n;
      c.memory.report.statsPending = null; // as after a wake-up
      await reportNow(c);
      return {
        whileNone,
        afterWakeUp: c.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM pending_stats").one().n,
        pending: c.memory.report.statsPending,
      };
    });
    expect(seen).toEqual({ whileNone: 1, afterWakeUp: 0, pending: false });
    expect(await f.firstResponses()).toEqual([11]);
  });

  it("a figure queued while a report is on its way goes with the next report", async () => {
    const f = fresh();
    const seen = await f.in(async (c) => {
      c.meta.started = true;
      queueStat(c, "first_response", "op-1", 1);
      c.memory.report.dirty = 1;
      const onItsWay = flushIndex(c);
      queueStat(c, "first_response", "op-1", 2); // while the first report waits for the workspace
      c.memory.report.dirty = 2;
      await onItsWay;
      const between = { pending: c.memory.report.statsPending, ...reporting(c) };
      dropTimer(c);
      await flushIndex(c);
      return { between, left: c.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM pending_stats").one().n };
    });
    expect(seen.between, "the second figure is known to wait, and a report is planned").toEqual({
      pending: true,
      dirty: 3,
      inFlight: 0,
      timerDue: T0 + WINDOW * (1 + JITTER),
      alarmAt: T0 + BACKSTOP,
    });
    expect(seen.left).toBe(0);
    expect(await f.firstResponses(), "each figure received once").toEqual([1, 2]);
  });

  it("two reports on their way at once never carry the same figures; the second leaves them to the first", async () => {
    const f = fresh();
    const seen = await f.in(async (c) => {
      c.meta.started = true;
      queueStat(c, "first_response", "op-1", 7);
      queueStat(c, "first_response", "op-1", 8);
      c.memory.report.dirty = 1;
      const first = flushIndex(c);
      const held = c.memory.report.statsInFlight;
      c.memory.report.dirty = 2; // a state change: it goes at once, while the first is on its way
      const second = flushIndex(c);
      await Promise.all([first, second]);
      return { held, ...figures(c) };
    });
    expect(seen).toEqual({ held: true, released: false, pending: false, left: 0 });
    expect(await f.firstResponses(), "each figure received once").toEqual([7, 8]);
  });

  it("a report without figures answered first does not free those still on their way: a third report leaves them too", async () => {
    const f = fresh();
    const workspace = await holdAnswers(f);
    const seen = await f.in(async (c) => {
      c.meta.started = true;
      queueStat(c, "first_response", "op-1", 7);
      queueStat(c, "first_response", "op-1", 8);
      const held = await overlappingReports(c, workspace, () => c.memory.report.statsInFlight);
      return { held, ...figures(c) };
    });
    expect(seen).toEqual({ held: true, released: false, pending: false, left: 0 });
    expect(await f.firstResponses(), "each figure received once").toEqual([7, 8]);
  });

  it("a figure queued while a report carries others still waits when a report without figures is answered last", async () => {
    const f = fresh();
    const workspace = await holdAnswers(f);
    const seen = await f.in(async (c) => {
      c.meta.started = true;
      queueStat(c, "first_response", "op-1", 7);
      c.memory.report.dirty = 1;
      const first = flushIndex(c); // carries 7; its answer is held
      queueStat(c, "first_response", "op-1", 8); // while the first is on its way
      c.memory.report.dirty = 2;
      const second = flushIndex(c); // a state change meanwhile: it leaves the figures to the first
      workspace.answer(0);
      await first;
      dropTimer(c);
      const afterFirst = c.memory.report.statsPending;
      workspace.answer(1);
      await second;
      dropTimer(c);
      const afterSecond = c.memory.report.statsPending;
      workspace.answer(2);
      await reportNow(c);
      dropTimer(c);
      return {
        afterFirst,
        afterSecond,
        left: c.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM pending_stats").one().n,
      };
    });
    expect(seen).toEqual({ afterFirst: true, afterSecond: true, left: 0 });
    expect(await f.firstResponses(), "each figure received once, none forgotten").toEqual([7, 8]);
  });
});

describe("what a report carries", () => {
  const pdf: FileRef = { id: "file-1", name: "receipt.pdf", type: "application/pdf", size: 10, image: false };

  it("the summary: status, visitor, operators, the last text's preview and role, last activity, unread, creation", async () => {
    const f = fresh();
    const empty = await f.in(async (c) => {
      c.meta.started = true;
      now = T0 + 5;
      await reportNow(c);
      return c.memory.report.version;
    });
    expect(empty).toBe(V(T0 + 5));
    expect(await f.row(), "no message yet: last activity is the creation").toEqual({
      id: f.id,
      status: "unassigned",
      visitor_id: VISITOR.id,
      visitor_name: null,
      visitor_email: null,
      operators: "[]",
      preview: "",
      preview_role: "visitor",
      last_at: T0,
      unread: 0,
      created_at: T0,
    });
    expect(await f.version()).toBe(V(T0 + 5));

    await f.in(async (c) => {
      c.meta.visitorName = "Vera";
      c.meta.visitorEmail = "vera@example.org";
      now = T0 + 10;
      text(c, VISITOR, "one"); // seq 1
      now = T0 + 20;
      join(c, { id: OPERATOR.id, name: OPERATOR.name }); // seq 2, an event; reported at once
      await settled(c);
      now = T0 + 30;
      text(c, OPERATOR, "two"); // seq 3
      now = T0 + 40;
      text(c, VISITOR, "three"); // seq 4
      now = T0 + 50;
      text(c, VISITOR, "four"); // seq 5
      now = T0 + 60;
      appendEvent(c, { id: "system", name: "Olga" }, "Rated 5/5", { event: "rated", rating: 5 }); // seq 6
      c.meta.lastReadSeq = 4;
      now = T0 + 70;
      await reportNow(c);
    });
    expect(await f.row(), "the preview is the last text; last activity any message's; unread after the mark").toEqual({
      id: f.id,
      status: "assigned",
      visitor_id: VISITOR.id,
      visitor_name: "Vera",
      visitor_email: "vera@example.org",
      operators: JSON.stringify([{ id: OPERATOR.id, name: OPERATOR.name }]),
      preview: "four",
      preview_role: "visitor",
      last_at: T0 + 60,
      unread: 1,
      created_at: T0,
    });

    await f.in(async (c) => {
      now = T0 + 80;
      text(c, OPERATOR, "five"); // seq 7
      c.meta.lastReadSeq = 3;
      await reportNow(c);
    });
    expect(await f.row(), "an operator's text; the visitor's messages after the mark are unread").toMatchObject({
      preview: "five",
      preview_role: "operator",
      last_at: T0 + 80,
      unread: 2,
    });

    await f.in(async (c) => {
      now = T0 + 90;
      append(c, "file-msg", "file", VISITOR, pdf.name, { file: pdf });
      await reportNow(c);
    });
    expect(await f.row(), "a file shows as 📎 and its name").toMatchObject({
      preview: "📎 receipt.pdf",
      preview_role: "visitor",
      last_at: T0 + 90,
      unread: 3,
    });
  });

  it("the preview and the unread count are read from the log once per instance, then kept by each message", async () => {
    const f = fresh();
    const rows = await f.in(async (c) => {
      c.meta.started = true;
      const reads: string[] = [];
      const exec = c.sql.exec.bind(c.sql);
      vi.spyOn(c.sql, "exec").mockImplementation((query: string, ...bindings: SqlStorageValue[]) => {
        if (/^SELECT .* FROM messages WHERE (kind IN|author_role = 'visitor')/.test(query)) reads.push(query);
        return exec(query, ...bindings);
      });
      const report = async (label: string) => {
        reads.length = 0;
        now += 10;
        await reportNow(c);
        const row = await f.row();
        return { label, reads: reads.length, preview: row?.preview, role: row?.preview_role, unread: row?.unread };
      };
      const seen = [];
      text(c, VISITOR, "one");
      seen.push(await report("first report: the count is read (the message gave the preview)"));
      text(c, VISITOR, "two");
      seen.push(await report("a visitor's message: one more unread, nothing read"));
      append(c, "file-msg", "file", VISITOR, pdf.name, { file: pdf });
      seen.push(await report("a visitor's file"));
      c.meta.lastReadSeq = 2; // an operator read up to seq 2 (markRead): counted again
      seen.push(await report("the mark moved"));
      text(c, OPERATOR, "three");
      seen.push(await report("a reply marks all read"));
      appendEvent(c, { id: "system", name: "Olga" }, "Olga left", { event: "left" });
      text(c, VISITOR, "four");
      seen.push(await report("an event is no preview"));
      c.memory.hot = null; // a new instance after a wake-up
      seen.push(await report("after a wake-up: both read again"));
      return seen;
    });
    expect(rows).toEqual([
      {
        label: "first report: the count is read (the message gave the preview)",
        reads: 1,
        preview: "one",
        role: "visitor",
        unread: 1,
      },
      {
        label: "a visitor's message: one more unread, nothing read",
        reads: 0,
        preview: "two",
        role: "visitor",
        unread: 2,
      },
      { label: "a visitor's file", reads: 0, preview: "📎 receipt.pdf", role: "visitor", unread: 3 },
      { label: "the mark moved", reads: 1, preview: "📎 receipt.pdf", role: "visitor", unread: 1 },
      { label: "a reply marks all read", reads: 0, preview: "three", role: "operator", unread: 0 },
      { label: "an event is no preview", reads: 0, preview: "four", role: "visitor", unread: 1 },
      { label: "after a wake-up: both read again", reads: 2, preview: "four", role: "visitor", unread: 1 },
    ]);
  });

  it.each([
    ["text", PREVIEW_CHARS - 1, "y".repeat(PREVIEW_CHARS - 1)],
    ["text", PREVIEW_CHARS, "y".repeat(PREVIEW_CHARS)],
    ["text", PREVIEW_CHARS + 1, "y".repeat(PREVIEW_CHARS)],
    // "📎 " is three UTF-16 units of the PREVIEW_CHARS.
    ["file", PREVIEW_CHARS - 3, `📎 ${"y".repeat(PREVIEW_CHARS - 3)}`],
    ["file", PREVIEW_CHARS - 2, `📎 ${"y".repeat(PREVIEW_CHARS - 3)}`],
  ] as const)("a %s of %i characters previews as its first PREVIEW_CHARS", async (kind, length, preview) => {
    const f = fresh();
    await f.in(async (c) => {
      c.meta.started = true;
      const words = "y".repeat(length);
      if (kind === "file") append(c, "m", "file", VISITOR, words, { file: { ...pdf, name: words } });
      else append(c, "m", "text", VISITOR, words);
      await reportNow(c);
    });
    const row = (await f.row()) as { preview: string } | null;
    expect(row?.preview).toBe(preview);
  });

  it("nothing when nothing changed; after a wake-up with no mark ever written (unknown) the summary goes anyway", async () => {
    const f = fresh();
    const seen = await f.in(async (c) => {
      c.meta.started = true;
      c.memory.report.dirty = 0;
      await flushIndex(c);
      const nothing = { ...reporting(c), lastAt: c.memory.report.lastAt, version: c.memory.report.version };
      c.memory.report.dirty = null;
      await flushIndex(c);
      return { nothing, wokenUp: { ...reporting(c), version: c.memory.report.version } };
    });
    expect(seen.nothing).toEqual({ dirty: 0, inFlight: 0, timerDue: null, alarmAt: null, lastAt: 0, version: 0 });
    expect(seen.wokenUp).toEqual({ dirty: 0, inFlight: 0, timerDue: null, alarmAt: null, version: V(T0) });
    expect(await f.version()).toBe(V(T0));
  });

  it("nothing for a conversation nobody has written in, or one deleted", async () => {
    const unstarted = fresh();
    const deleted = fresh();
    const seen = [
      await unstarted.in(async (c) => {
        await reportNow(c);
        return { ...reporting(c), lastAt: c.memory.report.lastAt, version: c.memory.report.version };
      }),
      await deleted.in(async (c) => {
        c.meta.started = true;
        c.meta.deleted = true;
        await reportNow(c);
        return { ...reporting(c), lastAt: c.memory.report.lastAt, version: c.memory.report.version };
      }),
    ];
    const untouched = { dirty: 1, inFlight: 0, timerDue: null, alarmAt: null, lastAt: 0, version: 0 };
    expect(seen).toEqual([untouched, untouched]);
    expect([await unstarted.row(), await deleted.row()]).toEqual([null, null]);
  });

  it("is one report on its way while it waits for the workspace, started now", async () => {
    const f = fresh();
    const seen = await f.in(async (c) => {
      c.meta.started = true;
      now = T0 + 3;
      c.memory.report.dirty = 1;
      const on = flushIndex(c);
      const during = { inFlight: c.memory.report.inFlight, lastAt: c.memory.report.lastAt };
      now = T0 + 50;
      await on;
      return { during, after: { inFlight: c.memory.report.inFlight, lastAt: c.memory.report.lastAt } };
    });
    expect(seen).toEqual({ during: { inFlight: 1, lastAt: T0 + 3 }, after: { inFlight: 0, lastAt: T0 + 3 } });
  });

  it("versions come from the clock in µs, and go one up when the clock has not moved past the last", async () => {
    const f = fresh();
    const versions = await f.in(async (c) => {
      c.meta.started = true;
      const seen: number[] = [];
      await reportNow(c);
      seen.push(c.memory.report.version);
      await reportNow(c); // the clock has not moved
      seen.push(c.memory.report.version);
      now = T0 + 1;
      await reportNow(c);
      seen.push(c.memory.report.version);
      c.memory.report.version = V(T0 + 1) + 50; // ahead of the clock
      await reportNow(c);
      seen.push(c.memory.report.version);
      return seen;
    });
    expect(versions).toEqual([V(T0), V(T0) + 1, V(T0 + 1), V(T0 + 1) + 51]);
    expect(await f.version()).toBe(V(T0 + 1) + 51);
  });
});

describe("the workspace's answer", () => {
  it("a newer version held by the workspace is taken up and reported again after the window; the same one is not", async () => {
    const newer = fresh();
    const same = fresh();
    await newer.wsSql((sql) =>
      sql.exec("INSERT INTO index_versions (id, version) VALUES (?, ?)", newer.id, V(T0) + 100),
    );
    await same.wsSql((sql) => sql.exec("INSERT INTO index_versions (id, version) VALUES (?, ?)", same.id, V(T0)));
    const seen = await Promise.all(
      [newer, same].map((f) =>
        f.in(async (c) => {
          c.meta.started = true;
          await reportNow(c);
          const result = { version: c.memory.report.version, ...reporting(c) };
          dropTimer(c);
          return result;
        }),
      ),
    );
    expect(seen[0], "the workspace is ahead").toEqual({
      version: V(T0) + 100,
      dirty: 2,
      inFlight: 0,
      timerDue: T0 + WINDOW * (1 + JITTER),
      alarmAt: T0 + BACKSTOP,
    });
    expect(seen[1], "the workspace holds this very version").toEqual({
      version: V(T0),
      dirty: 0,
      inFlight: 0,
      timerDue: null,
      alarmAt: null,
    });
    expect(await newer.row(), "an older summary than the workspace's is not stored").toBeNull();
  });

  it("the window the workspace names is the one used next", async () => {
    const f = fresh();
    const windowMs = await f.in(async (c) => {
      c.meta.started = true;
      c.memory.report.windowMs = 7000;
      await reportNow(c);
      return c.memory.report.windowMs;
    });
    expect(windowMs).toBe(WINDOW);
  });

  it("a change made while the report was on its way is reported again, a window after that report started", async () => {
    const f = fresh();
    const seen = await f.in(async (c) => {
      c.meta.started = true;
      text(c, VISITOR, "first");
      c.memory.report.dirty = 1;
      const on = flushIndex(c);
      text(c, VISITOR, "second");
      c.memory.report.dirty = 2; // the change, counted while the report is on its way
      now = T0 + 50;
      await on;
      const planned = reporting(c);
      await settled(c);
      await alarmSettled(c);
      return { planned, after: reporting(c) };
    });
    expect(seen.planned).toEqual({
      dirty: 2,
      inFlight: 0,
      timerDue: T0 + WINDOW * (1 + JITTER),
      alarmAt: T0 + 50 + BACKSTOP,
    });
    expect(seen.after, "all reported: the backstop taken back").toEqual({
      dirty: 0,
      inFlight: 0,
      timerDue: null,
      alarmAt: null,
    });
    expect(await f.row()).toMatchObject({ preview: "second", unread: 2 });
    expect(await f.version(), "reported twice").toBe(V(T0 + 50));
  });
});

describe("messages for message.created webhooks", () => {
  /** A workspace webhook that wants message.created, made at the current clock. */
  async function listen(f: ReturnType<typeof fresh>) {
    const ada = await withAdmin(f.ws());
    const added = await f.ws().addWebhook(ada, "https://hooks.test/index-rules", ["message.created"]);
    if (!added.ok) throw new Error(`webhook refused: ${added.message}`);
  }

  it("are not carried while no webhook wants them, nor before the workspace has said so", async () => {
    const f = fresh();
    const seen = await f.in(async (c) => {
      c.meta.started = true;
      for (let i = 1; i <= 3; i++) text(c, VISITOR, `m${i}`);
      await reportNow(c); // not asked yet since waking up: none carried
      const unknown = { wants: c.memory.report.wantsMessages, reportedSeq: c.meta.reportedSeq };
      text(c, VISITOR, "m4");
      await reportNow(c); // the workspace said no webhook wants them
      return { unknown, no: { wants: c.memory.report.wantsMessages, reportedSeq: c.meta.reportedSeq } };
    });
    expect(seen).toEqual({ unknown: { wants: false, reportedSeq: 0 }, no: { wants: false, reportedSeq: 0 } });
  });

  it.each([
    [WEBHOOK_MESSAGES_PER_REPORT - 1, false],
    [WEBHOOK_MESSAGES_PER_REPORT, true],
    [WEBHOOK_MESSAGES_PER_REPORT + 1, true],
  ])(
    "of %i new messages a report carries at most WEBHOOK_MESSAGES_PER_REPORT, in order; a full batch reports again: %s",
    async (count, again) => {
      const f = fresh();
      await listen(f);
      const carried = Math.min(count, WEBHOOK_MESSAGES_PER_REPORT);
      const seen = await f.in(async (c) => {
        c.meta.started = true;
        c.memory.report.wantsMessages = true;
        for (let i = 1; i <= count; i++) text(c, VISITOR, `m${i}`);
        await reportNow(c);
        const planned = { reportedSeq: c.meta.reportedSeq, ...reporting(c) };
        await settled(c);
        await alarmSettled(c);
        return { planned, after: { reportedSeq: c.meta.reportedSeq, ...reporting(c) } };
      });
      expect(seen.planned).toEqual({
        reportedSeq: carried,
        dirty: again ? 2 : 0,
        inFlight: 0,
        timerDue: again ? T0 + WINDOW * (1 + JITTER) : null,
        alarmAt: again ? T0 + BACKSTOP : null,
      });
      expect(seen.after, "all reported: the backstop taken back").toEqual({
        reportedSeq: count,
        dirty: 0,
        inFlight: 0,
        timerDue: null,
        alarmAt: null,
      });
      expect(await f.webhookSeqs()).toEqual(Array.from({ length: count }, (_, i) => i + 1));
    },
  );

  it("two reports on their way at once never carry the same messages; one written meanwhile goes with the next", async () => {
    const f = fresh();
    await listen(f);
    const seen = await f.in(async (c) => {
      c.meta.started = true;
      c.memory.report.wantsMessages = true;
      text(c, VISITOR, "m1");
      text(c, VISITOR, "m2");
      c.memory.report.dirty = 1;
      const first = flushIndex(c);
      const held = c.memory.report.messagesInFlight;
      text(c, VISITOR, "m3"); // written while the first report is on its way
      c.memory.report.dirty = 2;
      const second = flushIndex(c); // a state change going at once: it leaves the messages to the first
      await Promise.all([first, second]);
      const between = { reportedSeq: c.meta.reportedSeq, released: c.memory.report.messagesInFlight };
      await settled(c); // the report planned for m3
      return { held, between, after: c.meta.reportedSeq };
    });
    expect(seen).toEqual({ held: true, between: { reportedSeq: 2, released: false }, after: 3 });
    expect(await f.webhookSeqs(), "each message queued once, in order").toEqual([1, 2, 3]);
  });

  it("a report without messages answered first does not free those still on their way: a third report leaves them too", async () => {
    const f = fresh();
    await listen(f);
    const workspace = await holdAnswers(f);
    const seen = await f.in(async (c) => {
      c.meta.started = true;
      c.memory.report.wantsMessages = true;
      text(c, VISITOR, "m1");
      text(c, VISITOR, "m2");
      const held = await overlappingReports(c, workspace, () => c.memory.report.messagesInFlight);
      return { held, released: c.memory.report.messagesInFlight, reportedSeq: c.meta.reportedSeq };
    });
    expect(seen).toEqual({ held: true, released: false, reportedSeq: 2 });
    expect(await f.webhookSeqs(), "each message queued once, in order").toEqual([1, 2]);
  });

  it("once webhooks want them, they get the messages from their subscription on, not the backlog, and soon", async () => {
    const f = fresh();
    const first = await f.in(async (c) => {
      c.meta.started = true;
      for (let i = 1; i <= 3; i++) text(c, VISITOR, `before ${i}`); // seqs 1-3 at T0
      await reportNow(c);
      return { wants: c.memory.report.wantsMessages, reportedSeq: c.meta.reportedSeq };
    });
    expect(first, "nobody listens yet").toEqual({ wants: false, reportedSeq: 0 });

    now = T0 + 10;
    await listen(f); // subscribed at T0 + 10
    const seen = await f.in(async (c) => {
      text(c, VISITOR, "at the subscription"); // seq 4 at T0 + 10
      now = T0 + 20;
      await reportNow(c); // learns that webhooks listen: nothing carried yet
      const learnt = { wants: c.memory.report.wantsMessages, reportedSeq: c.meta.reportedSeq, ...reporting(c) };
      dropTimer(c);
      await flushIndex(c); // the report that follows
      await alarmSettled(c);
      const next = { reportedSeq: c.meta.reportedSeq, ...reporting(c) };
      now = T0 + 30;
      text(c, VISITOR, "later"); // seq 5
      await reportNow(c);
      await alarmSettled(c);
      return { learnt, next, later: { reportedSeq: c.meta.reportedSeq, ...reporting(c) } };
    });
    expect(seen.learnt).toEqual({
      wants: true,
      reportedSeq: 3,
      dirty: 2,
      inFlight: 0,
      timerDue: T0 + 20 + WINDOW * (1 + JITTER),
      alarmAt: T0 + 20 + BACKSTOP,
    });
    expect(seen.next, "caught up: the backstop taken back").toEqual({
      reportedSeq: 4,
      dirty: 0,
      inFlight: 0,
      timerDue: null,
      alarmAt: null,
    });
    expect(seen.later, "already listening: nothing more to catch up").toEqual({
      reportedSeq: 5,
      dirty: 0,
      inFlight: 0,
      timerDue: null,
      alarmAt: null,
    });
    expect(await f.webhookSeqs()).toEqual([4, 5]);
  });

  it("catching up never moves the reported mark back: raised to the last message before the subscription, never lowered", async () => {
    const f = fresh();
    await f.in((c) => {
      c.meta.started = true;
      for (let i = 1; i <= 3; i++) text(c, VISITOR, `m${i}`); // seqs 1-3 at T0
    });
    now = T0 + 10;
    await listen(f); // subscribed at T0 + 10
    const seen = await f.in(async (c) => {
      now = T0 + 20;
      text(c, VISITOR, "m4"); // seq 4 at T0 + 20
      c.meta.reportedSeq = 2;
      await reportNow(c);
      const raised = c.meta.reportedSeq;
      dropTimer(c);
      c.memory.report.wantsMessages = null; // as after a wake-up
      c.meta.reportedSeq = 4;
      await reportNow(c);
      const kept = c.meta.reportedSeq;
      dropTimer(c);
      return { raised, kept };
    });
    expect(seen).toEqual({ raised: 3, kept: 4 });
    expect(await f.webhookSeqs(), "catching up carries nothing itself").toEqual([]);
  });
});

describe("a report the workspace cannot take", () => {
  it("is retried by the alarm RETRY_MS later, sooner than the backstop; nothing it carried is lost", async () => {
    const f = fresh();
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    await f.wsSql((sql) => sql.exec("DROP TABLE index_versions"));
    const failed = await f.in(async (c, state) => {
      c.meta.started = true;
      text(c, VISITOR, "kept for the retry");
      queueStat(c, "first_response", "op-1", 77);
      c.memory.alarmAt = T0 + BACKSTOP; // the backstop, already armed
      await state.storage.setAlarm(T0 + BACKSTOP);
      c.memory.report.dirty = 1;
      await flushIndex(c);
      return {
        reporting: reporting(c),
        alarm: await state.storage.getAlarm(),
        pending: c.memory.report.statsPending,
        stats: c.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM pending_stats").one().n,
      };
    });
    expect(failed).toEqual({
      reporting: { dirty: 1, inFlight: 0, timerDue: null, alarmAt: T0 + RETRY_MS },
      alarm: T0 + RETRY_MS,
      pending: true,
      stats: 1,
    });
    expect(errors.mock.calls, "the failure is logged, once").toEqual([
      [
        {
          event: "index_report.failed_retrying",
          conversationId: f.id,
          error: "Error: no such table: index_versions: SQLITE_ERROR",
          stack: expect.any(String),
        },
      ],
    ]);

    // The workspace recovers; the alarm sends what the failed report carried.
    await f.wsSql((sql) => sql.exec("CREATE TABLE index_versions (id TEXT PRIMARY KEY, version INTEGER NOT NULL)"));
    now = T0 + RETRY_MS;
    expect(await runDurableObjectAlarm(f.stub())).toBe(true);
    const retried = await f.in((c) => ({
      reporting: reporting(c),
      stats: c.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM pending_stats").one().n,
    }));
    expect(retried).toEqual({ reporting: { dirty: 0, inFlight: 0, timerDue: null, alarmAt: null }, stats: 0 });
    expect(await f.row()).toMatchObject({ preview: "kept for the retry", unread: 1 });
    expect(await f.firstResponses()).toEqual([77]);
  });

  it("a retry is never set later than an alarm due sooner", async () => {
    const f = fresh();
    vi.spyOn(console, "error").mockImplementation(() => {});
    await f.wsSql((sql) => sql.exec("DROP TABLE index_versions"));
    const seen = await f.in(async (c) => {
      c.meta.started = true;
      const retryAt = async (known: number | null) => {
        c.memory.alarmAt = known;
        await reportNow(c);
        return c.memory.alarmAt;
      };
      return [await retryAt(null), await retryAt(T0 + RETRY_MS + 1), await retryAt(T0 + RETRY_MS - 1)];
    });
    expect(seen).toEqual([T0 + RETRY_MS, T0 + RETRY_MS, T0 + RETRY_MS - 1]);
  });
});

describe("the workspace's stub (ConversationContext.callWorkspace)", () => {
  /**
   * Stands in for conversation `f`'s WORKSPACE binding: counts the stubs made and the names asked for, and makes
   * the calls of the stubs numbered in `broken` (from 0) fail; the others go to the real workspace.
   */
  async function countStubs(f: ReturnType<typeof fresh>, broken: number[] = []) {
    const seen = { names: [] as string[], stubs: 0, calls: [] as number[] };
    await failingBinding(f.id, "WORKSPACE", {
      idFromName: (name: string) => {
        seen.names.push(name);
        return env.WORKSPACE.idFromName(name);
      },
      get: (id: DurableObjectId) => {
        const n = seen.stubs++;
        const workspace = env.WORKSPACE.get(id);
        return {
          async upsertConversation(...args: Parameters<typeof workspace.upsertConversation>) {
            seen.calls.push(n);
            if (broken.includes(n)) throw new Error(`stub ${n} is broken`);
            return workspace.upsertConversation(...args);
          },
        };
      },
    });
    return seen;
  }

  it("is made once per instance: every report after the first goes through the same stub", async () => {
    const f = fresh();
    const seen = await countStubs(f);
    await f.in(async (c) => {
      c.meta.started = true;
      for (let i = 0; i < 3; i++) {
        now += 10;
        text(c, VISITOR, `message ${i}`);
        await reportNow(c);
      }
    });
    expect(seen).toEqual({ names: [f.workspace], stubs: 1, calls: [0, 0, 0] });
    expect(await f.row()).toMatchObject({ preview: "message 2", unread: 3 });
  });

  it("a failed call drops it: the next call makes a new one, and the report goes through that", async () => {
    const f = fresh();
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const seen = await countStubs(f, [0]);
    const kept = await f.in(async (c) => {
      c.meta.started = true;
      text(c, VISITOR, "first try fails");
      await reportNow(c);
      const afterFailure = c.memory.workspace;
      await reportNow(c);
      await reportNow(c);
      return { afterFailure, afterRetry: c.memory.workspace !== null };
    });
    expect(kept).toEqual({ afterFailure: null, afterRetry: true });
    expect(seen, "stub 0 failed once; stub 1 carried both later reports").toEqual({
      names: [f.workspace, f.workspace],
      stubs: 2,
      calls: [0, 1, 1],
    });
    expect(errors.mock.calls.map((call) => (call[0] as { error: string }).error)).toEqual(["Error: stub 0 is broken"]);
    expect(await f.row()).toMatchObject({ preview: "first try fails" });
  });

  it("is made again for another binding (a test standing in for it) or another workspace name", async () => {
    const f = fresh();
    await f.in(async (c) => {
      c.meta.started = true;
      text(c, VISITOR, "through the real binding");
      await reportNow(c);
    });
    expect(await f.row(), "the report through the binding the object started with").toMatchObject({
      preview: "through the real binding",
    });
    const seen = await countStubs(f);
    const other = `index-rules-ws-${crypto.randomUUID()}`;
    await f.in(async (c) => {
      now += 10;
      text(c, VISITOR, "through the stand-in");
      await reportNow(c);
      c.meta.workspace = other;
      now += 10;
      await reportNow(c);
    });
    expect(seen).toEqual({ names: [f.workspace, other], stubs: 2, calls: [0, 1] });
    expect(await f.row()).toMatchObject({ preview: "through the stand-in" });
  });
});
