/**
 * Report: tabs along the top (Operator so far; `/reports/<tab>` leaves room
 * for more). Report > Operator shows, for a range of UTC days, the ratings
 * visitors gave after a Leave Conversation, charted per day, and a row per
 * operator with their ratings, conversations joined, messages sent and
 * median first response, plus a CSV export of the same figures.
 */
import { createEffect, createMemo, createSignal, For, Match, on, Show, Switch, type JSX } from "solid-js";
import type { OperatorReport } from "../../../worker/protocol";
import { api } from "../lib/api";
import { decimal, duration, stars } from "../lib/format";
import { useNavigate } from "@solidjs/router";
import { REPORT_TABS, type ReportTab } from "../lib/paths";
import { DownloadIcon } from "../components/icons";
import { RatingsChart, shortDay } from "../components/ratings-chart";
import {
  createOperatorReport,
  customRange,
  dayString,
  DAY_MS,
  lastDays,
  type DayRange,
  type RangePreset,
} from "../stores/reports";

const TAB_LABEL: Record<ReportTab, string> = { operator: "Operator" };

export default function ReportsPage(props: { tab: ReportTab }) {
  const tabs: HTMLButtonElement[] = [];
  const navigate = useNavigate();
  const select = (t: ReportTab) => navigate(`/reports/${t}`);
  // Arrow keys move between tabs (the WAI-ARIA tabs pattern).
  const onTabKey = (e: KeyboardEvent, i: number) => {
    const step = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
    if (!step) return;
    e.preventDefault();
    const next = (i + step + REPORT_TABS.length) % REPORT_TABS.length;
    select(REPORT_TABS[next]!);
    tabs[next]?.focus();
  };

  return (
    <div class="page reports-page" data-testid="reports-page">
      <main class="reports-main">
        <header class="page-header">
          <h1>Reports</h1>
          <p class="muted">How the team is doing, from what visitors said after each conversation.</p>
        </header>
        <div class="tabs report-tabs" role="tablist" aria-label="Reports">
          <For each={REPORT_TABS}>
            {(t, i) => (
              <button
                type="button"
                role="tab"
                ref={(el) => (tabs[i()] = el)}
                id={`report-tab-${t}`}
                class="tab"
                aria-selected={props.tab === t}
                aria-controls={`report-panel-${t}`}
                tabIndex={props.tab === t ? 0 : -1}
                onClick={() => select(t)}
                onKeyDown={(e) => onTabKey(e, i())}
                data-testid={`tab-${t}`}
              >
                {TAB_LABEL[t]}
              </button>
            )}
          </For>
        </div>
        <section
          id={`report-panel-${props.tab}`}
          role="tabpanel"
          aria-labelledby={`report-tab-${props.tab}`}
          class="report-panel"
        >
          <Switch>
            <Match when={props.tab === "operator"}>
              <OperatorReportView />
            </Match>
          </Switch>
        </section>
      </main>
    </div>
  );
}

const PRESETS: { id: RangePreset; label: string }[] = [
  { id: "today", label: "Today" },
  { id: "7", label: "7 days" },
  { id: "30", label: "30 days" },
  { id: "custom", label: "Custom" },
];

function OperatorReportView() {
  const [state, actions] = createOperatorReport();
  const [preset, setPreset] = createSignal<RangePreset>("30");
  const initial = lastDays(30);
  const [first, setFirst] = createSignal(dayString(initial.from));
  const [last, setLast] = createSignal(dayString(initial.to - DAY_MS));

  /** The range asked for, or why the custom dates do not make one. */
  const range = createMemo<DayRange | string>(() => {
    switch (preset()) {
      case "today":
        return lastDays(1);
      case "7":
        return lastDays(7);
      case "30":
        return lastDays(30);
      case "custom":
        return customRange(first(), last());
    }
  });
  const valid = () => {
    const r = range();
    return typeof r === "string" ? null : r;
  };
  const rangeKey = () => {
    const r = valid();
    return r ? `${r.from}-${r.to}` : "";
  };
  createEffect(
    on(rangeKey, () => {
      const r = valid();
      if (r) void actions.load(r);
    }),
  );

  const choose = (p: RangePreset) => {
    if (p === "custom" && preset() !== "custom") {
      // Start the custom dates from the range on screen.
      const r = valid();
      if (r) {
        setFirst(dayString(r.from));
        setLast(dayString(r.to - DAY_MS));
      }
    }
    setPreset(p);
  };

  const today = dayString(Date.now());
  const report = () => state.report;
  const ratingsTotal = () => report()?.series.reduce((n, d) => n + d.ratings, 0) ?? 0;
  const periodLabel = () => {
    const r = report();
    if (!r) return "";
    const a = dayString(r.from);
    const b = dayString(r.to - 1);
    return a === b ? `${shortDay(a)} (UTC)` : `${shortDay(a)} – ${shortDay(b)} (UTC)`;
  };

  return (
    <div class="report" aria-busy={state.phase === "loading" || state.refreshing}>
      <div class="report-toolbar">
        <div class="segmented" role="radiogroup" aria-label="Date range">
          <For each={PRESETS}>
            {(p) => (
              <button
                type="button"
                role="radio"
                class="segment"
                aria-checked={preset() === p.id}
                onClick={() => choose(p.id)}
                data-testid={`range-${p.id}`}
              >
                {p.label}
              </button>
            )}
          </For>
        </div>
        <Show when={preset() === "custom"}>
          <div class="custom-range" data-testid="custom-range">
            <label class="date-field">
              <span>From</span>
              <input
                type="date"
                value={first()}
                max={today}
                onChange={(e) => setFirst(e.currentTarget.value)}
                data-testid="range-from"
              />
            </label>
            <label class="date-field">
              <span>To</span>
              <input
                type="date"
                value={last()}
                max={today}
                onChange={(e) => setLast(e.currentTarget.value)}
                data-testid="range-to"
              />
            </label>
          </div>
        </Show>
        <div class="report-toolbar-end">
          <Show
            when={valid()}
            fallback={
              <span class="button secondary" aria-disabled="true">
                <DownloadIcon /> Export CSV
              </span>
            }
          >
            {(r) => (
              <a class="button secondary" href={api.operatorReportCsvUrl(r())} download="" data-testid="export-csv">
                <DownloadIcon /> Export CSV
              </a>
            )}
          </Show>
        </div>
      </div>
      <Show when={typeof range() === "string"}>
        <p class="form-error" role="alert" data-testid="range-error">
          {range() as string}
        </p>
      </Show>

      <Switch>
        <Match when={state.phase === "loading"}>
          <div class="card report-loading" data-testid="report-loading">
            <span class="spinner" aria-hidden="true" />
            <span class="muted">Loading report…</span>
          </div>
        </Match>
        <Match when={state.phase === "error"}>
          <div class="inline-error report-error" role="alert" data-testid="report-error">
            <span>{state.error}</span>
            <button
              type="button"
              class="link-button"
              onClick={() => {
                const r = valid();
                if (r) void actions.load(r);
              }}
            >
              Try again
            </button>
          </div>
        </Match>
        <Match when={report()}>
          {(r) => (
            <div class="report-body" classList={{ refreshing: state.refreshing }}>
              <section class="card" aria-labelledby="ratings-title">
                <div class="report-card-head">
                  <h2 id="ratings-title" class="card-title">
                    Ratings over time
                  </h2>
                  <span class="muted small" data-testid="report-period">
                    {periodLabel()}
                  </span>
                </div>
                <Show
                  when={ratingsTotal() > 0}
                  fallback={
                    <div class="report-empty" data-testid="report-empty">
                      <p>No ratings in this period</p>
                      <p class="muted small">
                        Visitors are asked to rate the chat when the last operator clicks Leave Conversation.
                      </p>
                    </div>
                  }
                >
                  <RatingsChart series={r().series} />
                </Show>
              </section>
              <section class="card report-table-card" aria-labelledby="operators-title">
                <h2 id="operators-title" class="card-title">
                  Operators
                </h2>
                {/* Scrolls sideways on a phone: focusable so the keyboard can scroll it too. */}
                <div class="table-scroll" role="region" aria-label="Operators table" tabIndex={0}>
                  <table class="report-table" data-testid="operator-report">
                    <thead>
                      <tr>
                        <th scope="col">Operator</th>
                        <th scope="col">Average rating</th>
                        <th scope="col" class="num">
                          Ratings
                        </th>
                        <th scope="col">Distribution</th>
                        <th scope="col" class="num">
                          Joined
                        </th>
                        <th scope="col" class="num">
                          Messages
                        </th>
                        <th scope="col" class="num">
                          <abbr title="Median first response time">First response</abbr>
                        </th>
                      </tr>
                    </thead>
                    <tbody>
                      <For
                        each={r().operators}
                        fallback={
                          <tr>
                            <td colSpan={7} class="muted">
                              No operators
                            </td>
                          </tr>
                        }
                      >
                        {(o) => <OperatorRow o={o} />}
                      </For>
                    </tbody>
                  </table>
                </div>
                <p class="muted small report-note">
                  Joined: conversations the operator joined. First response: the median time from a waiting visitor's
                  message to the operator's first reply.
                </p>
              </section>
            </div>
          )}
        </Match>
      </Switch>
    </div>
  );
}

function OperatorRow(props: { o: OperatorReport }) {
  const o = () => props.o;
  return (
    <tr data-testid="operator-report-row" data-operator-id={o().id}>
      <th scope="row" class="report-name">
        {o().name}
      </th>
      <td data-testid="average-rating">
        <Show when={o().averageRating} fallback={<span class="muted">—</span>}>
          {(avg) => (
            <span class="rating" role="img" aria-label={`${decimal(avg())} out of 5`}>
              <span class="rating-stars" aria-hidden="true">
                {stars(avg())}
              </span>
              <span class="rating-value" aria-hidden="true">
                {decimal(avg())}
              </span>
            </span>
          )}
        </Show>
      </td>
      <td class="num" data-testid="rating-count">
        {o().ratings}
      </td>
      <td>
        <Distribution counts={o().distribution} />
      </td>
      <td class="num" data-testid="conversations-joined">
        {o().conversationsJoined}
      </td>
      <td class="num" data-testid="messages-sent">
        {o().messagesSent}
      </td>
      <td class="num" data-testid="first-response">
        {duration(o().medianFirstResponseMs)}
      </td>
    </tr>
  );
}

/** Five little columns, one per star (1 to 5), as tall as their share of the ratings. */
function Distribution(props: { counts: number[] }): JSX.Element {
  const max = () => Math.max(1, ...props.counts);
  const words = () => props.counts.map((n, i) => `${i + 1} star${i ? "s" : ""}: ${n}`).join(", ");
  return (
    <span class="distribution" role="img" aria-label={words()} title={words()}>
      <For each={props.counts}>
        {(n, i) => (
          <span class="dist-col">
            <span class="dist-track">
              <span
                class="dist-bar"
                classList={{ zero: n === 0 }}
                style={{ height: `${n === 0 ? 0 : Math.max(12, (n / max()) * 100)}%` }}
              />
            </span>
            <span class="dist-label">{i() + 1}</span>
          </span>
        )}
      </For>
    </span>
  );
}
