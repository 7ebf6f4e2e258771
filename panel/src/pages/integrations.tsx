/**
 * Integrations (admins): API tokens for the REST API and webhook endpoints,
 * with each webhook's recent deliveries and how to check their signature.
 * A new token or signing secret is shown once, in a copyable field.
 */
import { createSignal, createUniqueId, For, Match, onMount, Show, Switch } from "solid-js";
import type { ApiTokenInfo, WebhookEvent, WebhookInfo } from "../../../worker/protocol";
import { errorText } from "../lib/api";
import { fullTime, relativeTime } from "../lib/format";
import { ConfirmDialog } from "../components/dialog";
import { Field, FormMessage } from "../components/field";
import { CopyIcon, TrashIcon } from "../components/icons";
import {
  createIntegrations,
  WEBHOOK_EVENTS,
  type IntegrationsActions,
  type IntegrationsState,
} from "../stores/integrations";

export default function IntegrationsPage() {
  const [state, actions] = createIntegrations();
  onMount(() => void actions.load());

  return (
    <div class="page integrations-page" data-testid="integrations-page">
      <main class="integrations-main">
        <header class="page-header">
          <h1>Integrations</h1>
          <p class="muted">
            Connect Microchat to your own systems: call the REST API with a token, or have Microchat call you with
            webhooks. The full reference is the{" "}
            <a href="/api/v1/openapi.json" target="_blank" rel="noopener" data-testid="openapi-link">
              OpenAPI document (/api/v1/openapi.json)
            </a>
            .
          </p>
        </header>
        <Switch>
          <Match when={state.phase === "loading"}>
            <p class="muted">Loading integrations…</p>
          </Match>
          <Match when={state.phase === "error"}>
            <div class="inline-error" role="alert">
              <span>{state.error}</span>
              <button type="button" class="link-button" onClick={() => void actions.load()}>
                Try again
              </button>
            </div>
          </Match>
          <Match when={true}>
            <TokensCard state={state} actions={actions} />
            <WebhooksCard state={state} actions={actions} />
          </Match>
        </Switch>
      </main>
    </div>
  );
}

/** A secret shown once: a read-only field, a Copy button and a warning. */
function OneTimeSecret(props: { label: string; value: string; testId: string; onDone: () => void; note: string }) {
  const id = createUniqueId();
  const [copied, setCopied] = createSignal<string | null>(null);
  let input!: HTMLInputElement;
  const copy = async () => {
    input.select();
    try {
      await navigator.clipboard.writeText(props.value);
      setCopied("Copied to the clipboard.");
    } catch {
      setCopied("Selected: press Ctrl+C (⌘C) to copy.");
    }
  };
  return (
    <div class="secret-box" role="region" aria-labelledby={`${id}-label`} data-testid={`${props.testId}-box`}>
      <p class="secret-warning" id={`${id}-warning`}>
        <strong>Copy it now.</strong> {props.note}
      </p>
      <label class="secret-label" id={`${id}-label`} for={id}>
        {props.label}
      </label>
      <div class="secret-row">
        <input
          id={id}
          ref={input}
          class="secret-value"
          readOnly
          value={props.value}
          spellcheck={false}
          aria-describedby={`${id}-warning`}
          onFocus={(e) => e.currentTarget.select()}
          data-testid={props.testId}
        />
        <button
          type="button"
          class="button secondary small"
          onClick={() => void copy()}
          data-testid={`${props.testId}-copy`}
        >
          <CopyIcon />
          Copy
        </button>
        <button type="button" class="button primary small" onClick={() => props.onDone()}>
          Done
        </button>
      </div>
      <p class="small muted" role="status">
        {copied()}
      </p>
    </div>
  );
}

// ---------------------------------------------------------------- tokens

function TokensCard(props: { state: IntegrationsState; actions: IntegrationsActions }) {
  const [name, setName] = createSignal("");
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal<string | null>(null);
  const [secret, setSecret] = createSignal<{ name: string; token: string } | null>(null);
  const [revoking, setRevoking] = createSignal<ApiTokenInfo | null>(null);
  const [revokeBusy, setRevokeBusy] = createSignal(false);
  const [revokeError, setRevokeError] = createSignal<string | null>(null);

  const submit = async (e: SubmitEvent) => {
    e.preventDefault();
    if (busy()) return;
    const n = name().trim();
    if (!n) return setError("Give the token a name, e.g. the system that will use it.");
    setError(null);
    setBusy(true);
    try {
      const token = await props.actions.createToken(n);
      setSecret({ name: n, token });
      setName("");
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  const revoke = async () => {
    const t = revoking();
    if (!t || revokeBusy()) return;
    setRevokeBusy(true);
    setRevokeError(null);
    try {
      await props.actions.revokeToken(t.id);
      setRevoking(null);
    } catch (err) {
      setRevokeError(errorText(err));
    } finally {
      setRevokeBusy(false);
    }
  };

  return (
    <section class="card integrations-card" aria-labelledby="tokens-title" data-testid="tokens-card">
      <h2 id="tokens-title" class="card-title">
        API tokens
        <span class="count">{props.state.tokens.length}</span>
      </h2>
      <p class="muted">
        A token acts as you: send it as <code>Authorization: Bearer mct_…</code> to <code>/api/v1</code>. Revoke it when
        the system using it no longer needs it.
      </p>
      <form class="inline-form" onSubmit={submit} novalidate data-testid="token-form" aria-label="Create an API token">
        <FormMessage kind="error" message={error()} />
        <div class="inline-form-row">
          <Field
            label="Token name"
            name="tokenName"
            autocomplete="off"
            maxLength={80}
            placeholder="CRM sync"
            value={name()}
            onValue={setName}
            data-testid="token-name"
          />
          <button type="submit" class="button primary" disabled={busy()} data-testid="create-token">
            {busy() ? "Creating…" : "Create token"}
          </button>
        </div>
      </form>
      <Show when={secret()}>
        {(s) => (
          <OneTimeSecret
            label={`New token "${s().name}"`}
            value={s().token}
            testId="new-token"
            note="This token is shown only once. Store it in your secrets manager; if it is lost, revoke it and create another."
            onDone={() => setSecret(null)}
          />
        )}
      </Show>
      <Show when={props.state.tokens.length > 0} fallback={<p class="muted empty-line">No API tokens yet.</p>}>
        <div class="table-scroll">
          <table class="data-table" data-testid="token-list">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              <For each={props.state.tokens}>
                {(t) => (
                  <tr data-testid="token-row" data-token-id={t.id}>
                    <td class="cell-name">{t.name}</td>
                    <td>
                      <time title={fullTime(t.createdAt)}>{relativeTime(t.createdAt)}</time>
                    </td>
                    <td>
                      <Show when={t.lastUsedAt} fallback={<span class="muted">Never</span>}>
                        {(at) => <time title={fullTime(at())}>{relativeTime(at())}</time>}
                      </Show>
                    </td>
                    <td class="cell-actions">
                      <button
                        type="button"
                        class="button danger-ghost small"
                        aria-label={`Revoke the token ${t.name}`}
                        data-testid="revoke-token"
                        onClick={() => {
                          setRevokeError(null);
                          setRevoking(t);
                        }}
                      >
                        Revoke
                      </button>
                    </td>
                  </tr>
                )}
              </For>
            </tbody>
          </table>
        </div>
      </Show>
      <ConfirmDialog
        open={revoking() !== null}
        title="Revoke this API token?"
        danger
        confirmLabel="Revoke"
        busyLabel="Revoking…"
        busy={revokeBusy()}
        error={revokeError()}
        confirmTestId="confirm-revoke"
        testId="revoke-dialog"
        onConfirm={() => void revoke()}
        onCancel={() => setRevoking(null)}
      >
        <p>
          Requests with <strong>{revoking()?.name}</strong> are refused from now on. This cannot be undone.
        </p>
      </ConfirmDialog>
    </section>
  );
}

// ---------------------------------------------------------------- webhooks

function WebhooksCard(props: { state: IntegrationsState; actions: IntegrationsActions }) {
  const [url, setUrl] = createSignal("");
  const [events, setEvents] = createSignal<Set<WebhookEvent>>(new Set(WEBHOOK_EVENTS.map((e) => e.event)));
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal<string | null>(null);
  const [secret, setSecret] = createSignal<{ url: string; secret: string } | null>(null);
  const [removing, setRemoving] = createSignal<WebhookInfo | null>(null);
  const [removeBusy, setRemoveBusy] = createSignal(false);
  const [removeError, setRemoveError] = createSignal<string | null>(null);

  const toggle = (e: WebhookEvent, on: boolean) =>
    setEvents((set) => {
      const next = new Set(set);
      if (on) next.add(e);
      else next.delete(e);
      return next;
    });

  const submit = async (e: SubmitEvent) => {
    e.preventDefault();
    if (busy()) return;
    const u = url().trim();
    if (!/^https:\/\/\S+$/i.test(u)) return setError("Enter the endpoint's address; it must start with https://.");
    const chosen = WEBHOOK_EVENTS.map((x) => x.event).filter((x) => events().has(x));
    if (chosen.length === 0) return setError("Choose at least one event.");
    setError(null);
    setBusy(true);
    try {
      const s = await props.actions.addWebhook(u, chosen);
      setSecret({ url: u, secret: s });
      setUrl("");
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  const remove = async () => {
    const w = removing();
    if (!w || removeBusy()) return;
    setRemoveBusy(true);
    setRemoveError(null);
    try {
      await props.actions.removeWebhook(w.id);
      setRemoving(null);
    } catch (err) {
      setRemoveError(errorText(err));
    } finally {
      setRemoveBusy(false);
    }
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
        <FormMessage kind="error" message={error()} />
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
          <button type="submit" class="button primary" disabled={busy()} data-testid="add-webhook">
            {busy() ? "Adding…" : "Add webhook"}
          </button>
        </div>
      </form>
      <Show when={secret()}>
        {(s) => (
          <OneTimeSecret
            label={`Signing secret for ${s().url}`}
            value={s().secret}
            testId="webhook-secret"
            note="This signing secret is shown only once. Your endpoint needs it to check that requests come from Microchat."
            onDone={() => setSecret(null)}
          />
        )}
      </Show>
      <Show when={props.state.webhooks.length > 0} fallback={<p class="muted empty-line">No webhooks yet.</p>}>
        <ul class="webhook-list" data-testid="webhook-list">
          <For each={props.state.webhooks}>
            {(w) => (
              <WebhookRow
                webhook={w}
                state={props.state}
                actions={props.actions}
                onRemove={() => {
                  setRemoveError(null);
                  setRemoving(w);
                }}
              />
            )}
          </For>
        </ul>
      </Show>
      <SignatureHelp />
      <ConfirmDialog
        open={removing() !== null}
        title="Delete this webhook?"
        danger
        confirmLabel="Delete"
        busyLabel="Deleting…"
        busy={removeBusy()}
        error={removeError()}
        confirmTestId="confirm-delete-webhook"
        testId="delete-webhook-dialog"
        onConfirm={() => void remove()}
        onCancel={() => setRemoving(null)}
      >
        <p>
          Events are no longer sent to <strong>{removing()?.url}</strong>, and its delivery log is removed.
        </p>
      </ConfirmDialog>
    </section>
  );
}

const STATUS_LABEL = { pending: "Pending", delivered: "Delivered", failed: "Failed" } as const;

function WebhookRow(props: {
  webhook: WebhookInfo;
  state: IntegrationsState;
  actions: IntegrationsActions;
  onRemove: () => void;
}) {
  const [open, setOpen] = createSignal(false);
  const panelId = createUniqueId();
  const view = () => props.state.deliveries[props.webhook.id];
  const toggle = () => {
    const next = !open();
    setOpen(next);
    if (next) void props.actions.loadDeliveries(props.webhook.id);
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
            Added <time title={fullTime(props.webhook.createdAt)}>{relativeTime(props.webhook.createdAt)}</time>
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
            <button
              type="button"
              class="link-button small"
              onClick={() => void props.actions.loadDeliveries(props.webhook.id)}
            >
              Refresh
            </button>
          </div>
          <Switch>
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
            <Match when={true}>
              <div class="table-scroll">
                <table class="data-table small" data-testid="deliveries-table">
                  <thead>
                    <tr>
                      <th scope="col">Event</th>
                      <th scope="col">Status</th>
                      <th scope="col" class="num">
                        Attempts
                      </th>
                      <th scope="col" class="num">
                        HTTP
                      </th>
                      <th scope="col">Last error</th>
                      <th scope="col">Created</th>
                      <th scope="col">Delivered</th>
                    </tr>
                  </thead>
                  <tbody>
                    <For each={view()!.items}>
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
                            <time title={fullTime(d.createdAt)}>{relativeTime(d.createdAt)}</time>
                          </td>
                          <td>
                            <Show when={d.deliveredAt} fallback="—">
                              {(at) => <time title={fullTime(at())}>{relativeTime(at())}</time>}
                            </Show>
                          </td>
                        </tr>
                      )}
                    </For>
                  </tbody>
                </table>
              </div>
            </Match>
          </Switch>
        </div>
      </Show>
    </li>
  );
}

function SignatureHelp() {
  return (
    <div class="signature-help" data-testid="signature-help">
      <h3>Checking the signature</h3>
      <p>Every request carries a header</p>
      <pre tabIndex={0}>
        <code>Microchat-Signature: t=1735689600,v1=5f0c…e9a1</code>
      </pre>
      <p>
        <code>t</code> is the time in Unix seconds and <code>v1</code> the hex HMAC-SHA256 of{" "}
        <code>t + "." + raw body</code>, keyed with the webhook's signing secret. Recompute it over the body exactly as
        received, compare in constant time, and refuse timestamps older than 5 minutes so a captured request cannot be
        replayed. <code>Microchat-Event</code> names the event and <code>Microchat-Delivery</code> is a unique id for
        ignoring repeats.
      </p>
    </div>
  );
}
