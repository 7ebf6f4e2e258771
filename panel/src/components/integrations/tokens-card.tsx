/** Integrations > API tokens: create one with a scope and an expiry (its secret shown once), the list, revoke. */
import { createSignal, For, Show } from "solid-js";
import type { ApiTokenInfo, TokenScope } from "../../../../worker/protocol";
import { createAction, createConfirmation } from "../../lib/async";
import { now } from "../../lib/format";
import type { IntegrationsActions, IntegrationsState } from "../../stores/integrations";
import { DataTable, type Column } from "../data-table";
import { ConfirmDialog } from "../dialog";
import { Field, FormMessage } from "../field";
import { OneTimeSecret } from "./one-time-secret";
import { Time } from "../time";

const COLUMNS: Column[] = [
  { label: "Name" },
  { label: "Scope" },
  { label: "Created" },
  { label: "Expires" },
  { label: "Last used" },
  { label: "Actions", hidden: true },
];

/** Each scope with what it lets the token do, in the words the form shows. */
const SCOPES: readonly { scope: TokenScope; label: string; says: string }[] = [
  { scope: "read", label: "Read", says: "Read only: lists, conversations, messages, reports." },
  {
    scope: "write",
    label: "Write",
    says: "Also join, leave, send and delete conversations, as you without admin rights.",
  },
  { scope: "admin", label: "Admin", says: "Everything you can do, including API tokens and webhooks." },
];

/** Expiry choices, in days; null never expires. */
const EXPIRIES: readonly { days: number | null; label: string }[] = [
  { days: 7, label: "In 7 days" },
  { days: 30, label: "In 30 days" },
  { days: 90, label: "In 90 days" },
  { days: 365, label: "In a year" },
  { days: null, label: "Never" },
];

const date = (at: number) =>
  new Date(at).toLocaleDateString(undefined, { day: "numeric", month: "short", year: "numeric" });

export function TokensCard(props: { state: IntegrationsState; actions: IntegrationsActions }) {
  const [name, setName] = createSignal("");
  // The least a token can do, and a limited life, unless the admin chooses more.
  const [scope, setScope] = createSignal<TokenScope>("read");
  const [expiry, setExpiry] = createSignal("90");
  const [secret, setSecret] = createSignal<{ label: string; value: string } | null>(null);
  const create = createAction(async (n: string) => {
    const expiresInDays = expiry() === "never" ? null : Number(expiry());
    setSecret({
      label: `New token "${n}"`,
      value: await props.actions.createToken({ name: n, scope: scope(), expiresInDays }),
    });
    setName("");
  });
  const revoke = createConfirmation((t: ApiTokenInfo) => props.actions.revokeToken(t.id));

  const submit = (e: SubmitEvent) => {
    e.preventDefault();
    const n = name().trim();
    if (!n) return create.setError("Give the token a name, e.g. the system that will use it.");
    void create.run(n);
  };

  return (
    <section class="card integrations-card" aria-labelledby="tokens-title" data-testid="tokens-card">
      <h2 id="tokens-title" class="card-title">
        API tokens
        <span class="count">{props.state.tokens.length}</span>
      </h2>
      <p class="muted">
        A token acts as you, within its scope: send it as <code>Authorization: Bearer mct_…</code> to{" "}
        <code>/api/v1</code>. Give it the least it needs, and revoke it when the system using it no longer does.
      </p>
      <form class="inline-form" onSubmit={submit} novalidate data-testid="token-form" aria-label="Create an API token">
        <FormMessage kind="error" message={create.error()} />
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
          <label class="field">
            <span>Scope</span>
            <select
              name="tokenScope"
              value={scope()}
              aria-describedby="token-scope-hint"
              onChange={(e) => setScope(e.currentTarget.value as TokenScope)}
              data-testid="token-scope"
            >
              <For each={SCOPES}>{(s) => <option value={s.scope}>{s.label}</option>}</For>
            </select>
          </label>
          <label class="field">
            <span>Expires</span>
            <select
              name="tokenExpiry"
              value={expiry()}
              onChange={(e) => setExpiry(e.currentTarget.value)}
              data-testid="token-expiry"
            >
              <For each={EXPIRIES}>
                {(x) => <option value={x.days === null ? "never" : String(x.days)}>{x.label}</option>}
              </For>
            </select>
          </label>
          <button type="submit" class="button primary" disabled={create.busy()} data-testid="create-token">
            {create.busy() ? "Creating…" : "Create token"}
          </button>
        </div>
        <small id="token-scope-hint" class="muted" data-testid="token-scope-hint">
          {SCOPES.find((x) => x.scope === scope())?.says}
        </small>
      </form>
      <OneTimeSecret
        secret={secret()}
        testId="new-token"
        note="This token is shown only once. Store it in your secrets manager; if it is lost, revoke it and create another."
        onDone={() => setSecret(null)}
      />
      <Show when={props.state.tokens.length > 0} fallback={<p class="muted empty-line">No API tokens yet.</p>}>
        <DataTable columns={COLUMNS} rows={props.state.tokens} testId="token-list">
          {(t) => (
            <tr data-testid="token-row" data-token-id={t.id}>
              <td class="cell-name">{t.name}</td>
              <td data-testid="token-scope-cell">
                <span class={t.scope === "admin" ? "tag tag-warn" : "tag"}>
                  {SCOPES.find((x) => x.scope === t.scope)?.label ?? t.scope}
                </span>
              </td>
              <td>
                <Time at={t.createdAt} />
              </td>
              <td data-testid="token-expires">
                <Show when={t.expiresAt} fallback={<span class="muted">Never</span>}>
                  {(at) => (
                    <Show when={at() > now()} fallback={<span class="tag tag-danger">Expired {date(at())}</span>}>
                      <Time at={at()} as={date} />
                    </Show>
                  )}
                </Show>
              </td>
              <td>
                <Time at={t.lastUsedAt} none={<span class="muted">Never</span>} />
              </td>
              <td class="cell-actions">
                <button
                  type="button"
                  class="button danger-ghost small"
                  aria-label={`Revoke the token ${t.name}`}
                  data-testid="revoke-token"
                  onClick={() => revoke.ask(t)}
                >
                  Revoke
                </button>
              </td>
            </tr>
          )}
        </DataTable>
      </Show>
      <ConfirmDialog
        confirmation={revoke}
        title="Revoke this API token?"
        confirmLabel="Revoke"
        busyLabel="Revoking…"
        confirmTestId="confirm-revoke"
        testId="revoke-dialog"
      >
        <p>
          Requests with <strong>{revoke.target()?.name}</strong> are refused from now on. This cannot be undone.
        </p>
      </ConfirmDialog>
    </section>
  );
}
