/** One webhook: its address and events, Delete, and its recent deliveries (opened on demand). */
import { createSignal, createUniqueId, For, Match, Show, Switch } from "solid-js";
import type { WebhookDeliveryInfo, WebhookInfo } from "../../../../worker/protocol";
import type { IntegrationsActions, IntegrationsState } from "../../stores/integrations";
import { DataTable, type Column } from "../data-table";
import { TrashIcon } from "../icons";
import { Time } from "../time";

export function WebhookRow(props: {
  webhook: WebhookInfo;
  state: IntegrationsState;
  actions: IntegrationsActions;
  onRemove: () => void;
}) {
  const [open, setOpen] = createSignal(false);
  const panelId = createUniqueId();
  const view = () => props.state.deliveries[props.webhook.id];
  const load = () => void props.actions.loadDeliveries(props.webhook.id);
  const toggle = () => {
    setOpen(!open());
    if (open()) load();
  };
  return (
    <li class="webhook-row" data-testid="webhook-row" data-webhook-id={props.webhook.id}>
      <div class="webhook-head">
        <div class="webhook-info">
          <span class="webhook-url" data-testid="webhook-row-url">
            {props.webhook.url}
          </span>
          <span class="webhook-events">
            <For each={props.webhook.events}>{(e) => <code class="tag">{e}</code>}</For>
          </span>
          <span class="muted small">
            Added <Time at={props.webhook.createdAt} />
          </span>
        </div>
        <div class="webhook-actions">
          <button
            type="button"
            class="button secondary small"
            aria-expanded={open()}
            aria-controls={panelId}
            onClick={toggle}
            data-testid="webhook-deliveries"
          >
            Deliveries
          </button>
          <button
            type="button"
            class="button danger-ghost small"
            aria-label={`Delete the webhook ${props.webhook.url}`}
            onClick={() => props.onRemove()}
            data-testid="delete-webhook"
          >
            <TrashIcon size={14} />
            Delete
          </button>
        </div>
      </div>
      <Show when={open()}>
        <div id={panelId} class="deliveries" data-testid="deliveries-panel">
          <div class="deliveries-head">
            <h3 class="small">Recent deliveries</h3>
            <button type="button" class="link-button small" onClick={load}>
              Refresh
            </button>
          </div>
          <Switch fallback={<Deliveries items={view()!.items} />}>
            <Match when={!view() || view()!.phase === "loading"}>
              <p class="muted small">Loading deliveries…</p>
            </Match>
            <Match when={view()!.phase === "error"}>
              <p class="error-text small" role="alert">
                {view()!.error}
              </p>
            </Match>
            <Match when={view()!.items.length === 0}>
              <p class="muted small">No deliveries yet: events appear here once they happen.</p>
            </Match>
          </Switch>
        </div>
      </Show>
    </li>
  );
}

const STATUS_LABEL = { pending: "Pending", delivered: "Delivered", failed: "Failed" } as const;

const COLUMNS: Column[] = [
  { label: "Event" },
  { label: "Status" },
  { label: "Attempts", num: true },
  { label: "HTTP", num: true },
  { label: "Last error" },
  { label: "Created" },
  { label: "Delivered" },
];

function Deliveries(props: { items: WebhookDeliveryInfo[] }) {
  return (
    <DataTable columns={COLUMNS} rows={props.items} class="small" testId="deliveries-table">
      {(d) => (
        <tr data-testid="delivery-row">
          <td>
            <code>{d.event}</code>
          </td>
          <td>
            <span class={`delivery-status ${d.status}`}>{STATUS_LABEL[d.status]}</span>
          </td>
          <td class="num">{d.attempts}</td>
          <td class="num">{d.responseStatus ?? "—"}</td>
          <td class="cell-error">{d.lastError ?? "—"}</td>
          <td>
            <Time at={d.createdAt} />
          </td>
          <td>
            <Time at={d.deliveredAt} />
          </td>
        </tr>
      )}
    </DataTable>
  );
}
