/**
 * Report: tabs along the top (Operator so far; `/reports/<tab>` leaves room
 * for more). Report > Operator shows, for a range of UTC days, the ratings
 * visitors gave after a Leave Conversation, charted per day, and a row per
 * operator with their ratings, conversations joined, messages sent and
 * median first response, plus a CSV export of the same figures.
 */
import { For, Match, Switch } from "solid-js";
import { useNavigate } from "@solidjs/router";
import { REPORT_TABS, type ReportTab } from "../lib/paths";
import { OperatorReportView } from "../components/reports/operator-report";
import { Page } from "../components/status";

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
    <Page
      name="reports"
      title="Reports"
      intro="How the team is doing, from what visitors said after each conversation."
    >
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
    </Page>
  );
}
