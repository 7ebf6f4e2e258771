/** A table of records (API tokens, webhook deliveries): a header row from `columns`, a row per record, scrolling sideways when narrow. */
import { For, type JSX } from "solid-js";

export interface Column {
  label: string;
  /** Numbers: right-aligned. */
  num?: boolean;
  /** Said to screen readers only (a column of buttons). */
  hidden?: boolean;
}

export function DataTable<T>(props: {
  columns: Column[];
  rows: readonly T[];
  /** Extra classes of the table (after `data-table`). */
  class?: string;
  testId: string;
  children: (row: T) => JSX.Element;
}) {
  return (
    <div class="table-scroll">
      <table class={props.class ? `data-table ${props.class}` : "data-table"} data-testid={props.testId}>
        <thead>
          <tr>
            <For each={props.columns}>
              {(c) => (
                <th scope="col" class={c.num ? "num" : undefined}>
                  {c.hidden ? <span class="sr-only">{c.label}</span> : c.label}
                </th>
              )}
            </For>
          </tr>
        </thead>
        <tbody>
          <For each={props.rows}>{(row) => props.children(row)}</For>
        </tbody>
      </table>
    </div>
  );
}
