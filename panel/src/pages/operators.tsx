/** Operators (admins): the team list, add an operator, remove one. */
import { For, onMount, Show } from "solid-js";
import { AddOperatorForm } from "../components/operators/add-operator-form";
import { OperatorRow } from "../components/operators/operator-row";
import { useShell } from "../components/shell";
import { Loadable, Page } from "../components/status";
import { createOperators } from "../stores/operators";

export default function OperatorsPage() {
  const { me, inbox } = useShell();
  /** Live presence from the panel socket; undefined for someone it has not reported. */
  const presence = (id: string) => inbox.operators.find((o) => o.id === id);
  const [state, actions] = createOperators();
  onMount(() => void actions.load());

  return (
    <Page name="operators" title="Operators" intro="People who can answer conversations in this workspace.">
      <div class="operators-layout">
        <section class="card" aria-labelledby="team-title">
          <h2 id="team-title" class="card-title">
            Team
            <Show when={state.phase === "ready"}>
              <span class="count">{state.operators.length}</span>
            </Show>
          </h2>
          <Loadable
            phase={state.phase}
            error={state.error}
            loading="Loading operators…"
            onRetry={() => void actions.load()}
          >
            <ul class="operator-list" data-testid="operator-list">
              <For each={state.operators}>
                {(o) => (
                  <OperatorRow
                    operator={o}
                    isMe={o.id === me.id}
                    presence={presence(o.id)}
                    onRemove={() => actions.remove(o.id)}
                  />
                )}
              </For>
            </ul>
          </Loadable>
        </section>
        <AddOperatorForm onAdd={actions.add} />
      </div>
    </Page>
  );
}
