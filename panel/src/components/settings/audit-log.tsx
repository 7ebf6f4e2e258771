/** Settings > Audit log: who deleted, erased, added, removed, revoked or changed what, newest first. */
import { onMount, Show } from "solid-js";
import type { AuditAction } from "../../../../worker/protocol";
import { createAudit } from "../../stores/audit";
import { DataTable, type Column } from "../data-table";
import { ListIcon } from "../icons";
import { InlineError, Loadable } from "../status";
import { Time } from "../time";
import { fullTime } from "../../lib/format";

const COLUMNS: Column[] = [{ label: "When" }, { label: "Who" }, { label: "What" }];

const DOING: Record<AuditAction, string> = {
  "conversation.deleted": "Deleted a conversation",
  "person.erased": "Erased a person's data",
  "operator.added": "Added an operator",
  "operator.removed": "Removed an operator",
  "sessions.ended": "Signed out everywhere",
  "token.created": "Created an API token",
  "token.revoked": "Revoked an API token",
  "webhook.added": "Added a webhook",
  "webhook.removed": "Removed a webhook",
  "settings.changed": "Changed settings",
};

export function AuditLog() {
  const [state, actions] = createAudit();
  onMount(() => void actions.load());

  return (
    <section class="card audit-card" aria-labelledby="audit-title" data-testid="audit-log">
      <div class="card-title-row">
        <h2 id="audit-title" class="card-title">
          <span class="card-title-icon" aria-hidden="true">
            <ListIcon />
          </span>
          Audit log
        </h2>
        <button
          type="button"
          class="button secondary small"
          disabled={state.phase === "loading"}
          onClick={() => void actions.load()}
          data-testid="audit-refresh"
        >
          Refresh
        </button>
      </div>
      <p class="muted">
        Deletions, erasures and changes to operators, API tokens, webhooks and settings, with who made them. Kept for a
        year; only admins see it.
      </p>
      <Loadable
        phase={state.phase}
        error={state.error}
        loading="Loading the audit log…"
        onRetry={() => void actions.load()}
      >
        <Show
          when={state.entries.length > 0}
          fallback={
            <p class="muted empty-line" data-testid="audit-empty">
              Nothing recorded yet.
            </p>
          }
        >
          <DataTable columns={COLUMNS} rows={state.entries} class="audit-table" testId="audit-table">
            {(e) => (
              <tr data-testid="audit-row" data-action={e.action}>
                <td class="audit-when">
                  <Time at={e.at} as={fullTime} />
                </td>
                <td>
                  <span class="cell-name">{e.actor.name}</span>
                  <Show when={e.actor.token}>
                    <span class="muted small audit-via"> with the API token “{e.actor.token}”</span>
                  </Show>
                </td>
                <td>
                  <span>{DOING[e.action] ?? e.action}</span>
                  <span class="audit-target">{e.target}</span>
                  <Show when={e.detail}>
                    <span class="muted small audit-detail">{e.detail}</span>
                  </Show>
                </td>
              </tr>
            )}
          </DataTable>
        </Show>
        <InlineError
          message={state.moreError}
          action="Try again"
          onAction={() => void (state.hasMore ? actions.more() : actions.load())}
        />
        <Show when={state.hasMore}>
          <div class="settings-actions">
            <button
              type="button"
              class="button secondary"
              disabled={state.loadingMore}
              onClick={() => void actions.more()}
              data-testid="audit-more"
            >
              {state.loadingMore ? "Loading…" : "Show older"}
            </button>
          </div>
        </Show>
      </Loadable>
    </section>
  );
}
