/** Integrations > API tokens: create one (its secret shown once), the list, revoke. */
import { createSignal, Show } from "solid-js";
import type { ApiTokenInfo } from "../../../../worker/protocol";
import { createAction, createConfirmation } from "../../lib/async";
import type { IntegrationsActions, IntegrationsState } from "../../stores/integrations";
import { DataTable, type Column } from "../data-table";
import { ConfirmDialog } from "../dialog";
import { Field, FormMessage } from "../field";
import { OneTimeSecret } from "./one-time-secret";
import { Time } from "../time";

const COLUMNS: Column[] = [
  { label: "Name" },
  { label: "Created" },
  { label: "Last used" },
  { label: "Actions", hidden: true },
];

export function TokensCard(props: { state: IntegrationsState; actions: IntegrationsActions }) {
  const [name, setName] = createSignal("");
  const [secret, setSecret] = createSignal<{ label: string; value: string } | null>(null);
  const create = createAction(async (n: string) => {
    setSecret({ label: `New token "${n}"`, value: await props.actions.createToken(n) });
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
        A token acts as you: send it as <code>Authorization: Bearer mct_…</code> to <code>/api/v1</code>. Revoke it when
        the system using it no longer needs it.
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
          <button type="submit" class="button primary" disabled={create.busy()} data-testid="create-token">
            {create.busy() ? "Creating…" : "Create token"}
          </button>
        </div>
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
              <td>
                <Time at={t.createdAt} />
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
