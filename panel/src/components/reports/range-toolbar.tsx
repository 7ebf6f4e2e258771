/** Report > Operator's toolbar: the date range (presets or custom days) and Export CSV for it. */
import { For, Show } from "solid-js";
import { api } from "../../lib/api";
import { dayString, type RangePreset, type ReportRange } from "../../stores/reports";
import { DownloadIcon } from "../icons";

const PRESETS: { id: RangePreset; label: string }[] = [
  { id: "today", label: "Today" },
  { id: "7", label: "7 days" },
  { id: "30", label: "30 days" },
  { id: "custom", label: "Custom" },
];

function DateField(props: { label: string; value: string; onValue: (v: string) => void; testId: string }) {
  return (
    <label class="date-field">
      <span>{props.label}</span>
      <input
        type="date"
        value={props.value}
        max={dayString(Date.now())}
        onChange={(e) => props.onValue(e.currentTarget.value)}
        data-testid={props.testId}
      />
    </label>
  );
}

export function RangeToolbar(props: { range: ReportRange }) {
  const r = props.range;
  return (
    <>
      <div class="report-toolbar">
        <div class="segmented" role="radiogroup" aria-label="Date range">
          <For each={PRESETS}>
            {(p) => (
              <button
                type="button"
                role="radio"
                class="segment"
                aria-checked={r.preset() === p.id}
                onClick={() => r.choose(p.id)}
                data-testid={`range-${p.id}`}
              >
                {p.label}
              </button>
            )}
          </For>
        </div>
        <Show when={r.preset() === "custom"}>
          <div class="custom-range" data-testid="custom-range">
            <DateField label="From" value={r.first()} onValue={r.setFirst} testId="range-from" />
            <DateField label="To" value={r.last()} onValue={r.setLast} testId="range-to" />
          </div>
        </Show>
        <div class="report-toolbar-end">
          <Show
            when={r.valid()}
            fallback={
              <span class="button secondary" aria-disabled="true">
                <DownloadIcon /> Export CSV
              </span>
            }
          >
            {(valid) => (
              <a class="button secondary" href={api.operatorReportCsvUrl(valid())} download="" data-testid="export-csv">
                <DownloadIcon /> Export CSV
              </a>
            )}
          </Show>
        </div>
      </div>
      <Show when={typeof r.range() === "string"}>
        <p class="form-error" role="alert" data-testid="range-error">
          {r.range() as string}
        </p>
      </Show>
    </>
  );
}
