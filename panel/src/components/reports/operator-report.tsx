/**
 * Report > Operator: for a range of UTC days, the ratings visitors gave after
 * a Leave Conversation, charted per day, and the table of operators. The
 * report on screen stays (dimmed) while the next range loads.
 */
import { createEffect, Match, on, Show, Switch } from "solid-js";
import type { OperatorReportResponse } from "../../../../worker/protocol";
import { createOperatorReport, createReportRange, dayString } from "../../stores/reports";
import { InlineError, Spinning } from "../status";
import { OperatorTable } from "./operator-table";
import { RangeToolbar } from "./range-toolbar";
import { RatingsChart, shortDay } from "./ratings-chart";

export function OperatorReportView() {
  const [state, actions] = createOperatorReport();
  const range = createReportRange();
  const load = () => {
    const r = range.valid();
    if (r) void actions.load(r);
  };
  createEffect(
    on(() => {
      const r = range.valid();
      return r ? `${r.from}-${r.to}` : "";
    }, load),
  );

  return (
    <div class="report" aria-busy={state.phase === "loading" || state.refreshing}>
      <RangeToolbar range={range} />
      <Switch>
        <Match when={state.phase === "loading"}>
          <Spinning class="card report-loading" text="Loading report…" testId="report-loading" />
        </Match>
        <Match when={state.phase === "error"}>
          <InlineError
            message={state.error}
            action="Try again"
            onAction={load}
            class="report-error"
            testId="report-error"
          />
        </Match>
        <Match when={state.report}>
          {(r) => (
            <div class="report-body" classList={{ refreshing: state.refreshing }}>
              <RatingsCard report={r()} />
              <OperatorTable operators={r().operators} />
            </div>
          )}
        </Match>
      </Switch>
    </div>
  );
}

function RatingsCard(props: { report: OperatorReportResponse }) {
  const total = () => props.report.series.reduce((n, d) => n + d.ratings, 0);
  const period = () => {
    const a = dayString(props.report.from);
    const b = dayString(props.report.to - 1);
    return a === b ? `${shortDay(a)} (UTC)` : `${shortDay(a)} – ${shortDay(b)} (UTC)`;
  };
  return (
    <section class="card" aria-labelledby="ratings-title">
      <div class="report-card-head">
        <h2 id="ratings-title" class="card-title">
          Ratings over time
        </h2>
        <span class="muted small" data-testid="report-period">
          {period()}
        </span>
      </div>
      <Show
        when={total() > 0}
        fallback={
          <div class="report-empty" data-testid="report-empty">
            <p>No ratings in this period</p>
            <p class="muted small">
              Visitors are asked to rate the chat when the last operator clicks Leave Conversation.
            </p>
          </div>
        }
      >
        <RatingsChart series={props.report.series} />
      </Show>
    </section>
  );
}
