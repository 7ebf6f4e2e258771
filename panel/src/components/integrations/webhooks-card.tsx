/** Integrations > Webhooks: add an endpoint (its signing secret shown once), the list, delete, how to check a signature. */
import { createSignal, For, Show } from "solid-js";
import type { WebhookEvent, WebhookInfo } from "../../../../worker/protocol";
import { createAction, createConfirmation } from "../../lib/async";
import { WEBHOOK_EVENTS, type IntegrationsActions, type IntegrationsState } from "../../stores/integrations";
import { ConfirmDialog } from "../dialog";
import { Field, FormMessage } from "../field";
import { OneTimeSecret } from "./one-time-secret";
import { SignatureHelp } from "./signature-help";
import { WebhookRow } from "./webhook-row";

export function WebhooksCard(props: { state: IntegrationsState; actions: IntegrationsActions }) {
  const [url, setUrl] = createSignal("");
  const [events, setEvents] = createSignal<Set<WebhookEvent>>(new Set(WEBHOOK_EVENTS.map((e) => e.event)));
  const [secret, setSecret] = createSignal<{ label: string; value: string } | null>(null);
  const add = createAction(async (u: string, chosen: WebhookEvent[]) => {
    setSecret({ label: `Signing secret for ${u}`, value: await props.actions.addWebhook(u, chosen) });
    setUrl("");
  });
  const remove = createConfirmation((w: WebhookInfo) => props.actions.removeWebhook(w.id));

  const toggle = (e: WebhookEvent, on: boolean) =>
    setEvents((set) => {
      const next = new Set(set);
      if (on) next.add(e);
      else next.delete(e);
      return next;
    });

  const submit = (e: SubmitEvent) => {
    e.preventDefault();
    const u = url().trim();
    if (!/^https:\/\/\S+$/i.test(u)) return add.setError("Enter the endpoint's address; it must start with https://.");
    const chosen = WEBHOOK_EVENTS.map((x) => x.event).filter((x) => events().has(x));
    if (chosen.length === 0) return add.setError("Choose at least one event.");
    void add.run(u, chosen);
  };

  return (
    <section class="card integrations-card" aria-labelledby="webhooks-title" data-testid="webhooks-card">
      <h2 id="webhooks-title" class="card-title">
        Webhooks
        <span class="count">{props.state.webhooks.length}</span>
      </h2>
      <p class="muted">
        Microchat POSTs a JSON event to your HTTPS endpoint when something happens, and retries with growing delays when
        the endpoint fails.
      </p>
      <form class="webhook-form" onSubmit={submit} novalidate data-testid="webhook-form" aria-label="Add a webhook">
        <FormMessage kind="error" message={add.error()} />
        <Field
          label="Endpoint URL"
          type="url"
          name="webhookUrl"
          autocomplete="off"
          inputMode="url"
          spellcheck={false}
          placeholder="https://example.com/microchat"
          value={url()}
          onValue={setUrl}
          data-testid="webhook-url"
        />
        <fieldset class="event-choices">
          <legend>Events</legend>
          <For each={WEBHOOK_EVENTS}>
            {(e) => (
              <label class="checkbox">
                <input
                  type="checkbox"
                  name="events"
                  value={e.event}
                  checked={events().has(e.event)}
                  onChange={(ev) => toggle(e.event, ev.currentTarget.checked)}
                />
                <span>
                  <code>{e.event}</code> <span class="muted small">{e.label}</span>
                </span>
              </label>
            )}
          </For>
        </fieldset>
        <div>
          <button type="submit" class="button primary" disabled={add.busy()} data-testid="add-webhook">
            {add.busy() ? "Adding…" : "Add webhook"}
          </button>
        </div>
      </form>
      <OneTimeSecret
        secret={secret()}
        testId="webhook-secret"
        note="This signing secret is shown only once. Your endpoint needs it to check that requests come from Microchat."
        onDone={() => setSecret(null)}
      />
      <Show when={props.state.webhooks.length > 0} fallback={<p class="muted empty-line">No webhooks yet.</p>}>
        <ul class="webhook-list" data-testid="webhook-list">
          <For each={props.state.webhooks}>
            {(w) => (
              <WebhookRow webhook={w} state={props.state} actions={props.actions} onRemove={() => remove.ask(w)} />
            )}
          </For>
        </ul>
      </Show>
      <SignatureHelp />
      <ConfirmDialog
        confirmation={remove}
        title="Delete this webhook?"
        confirmLabel="Delete"
        busyLabel="Deleting…"
        confirmTestId="confirm-delete-webhook"
        testId="delete-webhook-dialog"
      >
        <p>
          Events are no longer sent to <strong>{remove.target()?.url}</strong>, and its delivery log is removed.
        </p>
      </ConfirmDialog>
    </section>
  );
}
