/**
 * Report > Operator: the chosen date range and the report for it.
 *
 * The server counts whole UTC days, so every range here is a span of UTC
 * days: `from` is a day's first millisecond, `to` the first millisecond after
 * the last day. Answers to superseded requests (the operator clicked another
 * range meanwhile) are dropped, so the screen always matches the range shown.
 */
import { createMemo, createSignal } from "solid-js";
import { createStore } from "solid-js/store";
import type { OperatorReportResponse } from "../../../worker/protocol";
import { api, errorText } from "../lib/api";

const DAY_MS = 24 * 3600 * 1000;
/** Mirrors the server's longest range. */
const MAX_RANGE_DAYS = 366;

export type RangePreset = "today" | "7" | "30" | "custom";

export interface DayRange {
  from: number;
  to: number;
}

/** The last `days` UTC days, today included. */
function lastDays(days: number, now = Date.now()): DayRange {
  const today = Math.floor(now / DAY_MS) * DAY_MS;
  return { from: today - (days - 1) * DAY_MS, to: today + DAY_MS };
}

/** "2025-03-01" for the UTC day `at` falls on (the value of a date input). */
export function dayString(at: number): string {
  return new Date(at).toISOString().slice(0, 10);
}

/** The range from the first to the last day, both included; or why it is not valid. */
function customRange(first: string, last: string): DayRange | string {
  const from = Date.parse(`${first}T00:00:00Z`);
  const lastDay = Date.parse(`${last}T00:00:00Z`);
  if (!Number.isFinite(from) || !Number.isFinite(lastDay)) return "Choose a start and an end date.";
  if (lastDay < from) return "The end date is before the start date.";
  const to = lastDay + DAY_MS;
  if (to - from > MAX_RANGE_DAYS * DAY_MS) return `Choose at most ${MAX_RANGE_DAYS} days.`;
  return { from, to };
}

/** The range the operator chose: a preset, or custom first and last days. */
export function createReportRange() {
  const [preset, setPreset] = createSignal<RangePreset>("30");
  const initial = lastDays(30);
  const [first, setFirst] = createSignal(dayString(initial.from));
  const [last, setLast] = createSignal(dayString(initial.to - DAY_MS));

  /** The range asked for, or why the custom dates do not make one. */
  const range = createMemo<DayRange | string>(() => {
    const p = preset();
    return p === "custom" ? customRange(first(), last()) : lastDays(p === "today" ? 1 : Number(p));
  });
  const valid = () => {
    const r = range();
    return typeof r === "string" ? null : r;
  };
  return {
    preset,
    first,
    last,
    setFirst,
    setLast,
    range,
    /** The range, or null while the custom dates make none. */
    valid,
    choose(p: RangePreset) {
      if (p === "custom" && preset() !== "custom") {
        // Start the custom dates from the range on screen.
        const r = valid();
        if (r) {
          setFirst(dayString(r.from));
          setLast(dayString(r.to - DAY_MS));
        }
      }
      setPreset(p);
    },
  };
}

export type ReportRange = ReturnType<typeof createReportRange>;

export interface ReportState {
  /** "loading" until the first answer. */
  phase: "loading" | "ready" | "error";
  report: OperatorReportResponse | null;
  /** A newer range is being fetched while the old report stays on screen. */
  refreshing: boolean;
  error: string | null;
}

export interface ReportActions {
  load(range: DayRange): Promise<void>;
}

export function createOperatorReport(): [ReportState, ReportActions] {
  const [state, setState] = createStore<ReportState>({
    phase: "loading",
    report: null,
    refreshing: false,
    error: null,
  });
  let latest = 0;
  const actions: ReportActions = {
    async load(range) {
      const mine = ++latest;
      setState(state.report ? { refreshing: true, error: null } : { phase: "loading", error: null });
      try {
        const report = await api.operatorReport(range);
        if (mine !== latest) return;
        setState({ phase: "ready", report, refreshing: false, error: null });
      } catch (e) {
        if (mine !== latest) return;
        setState({ phase: "error", report: null, refreshing: false, error: errorText(e) });
      }
    },
  };
  return [state, actions];
}
