/** Operators (admins): the team list, add an operator, sign one out everywhere, remove one. */
import { createSignal, For, onMount, Show } from "solid-js";
import type { Operator } from "../../../worker/protocol";
import { createConfirmation } from "../lib/async";
import { ConfirmDialog } from "../components/dialog";
import { FormMessage } from "../components/field";
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
  const [signedOut, setSignedOut] = createSignal<string | null>(null);
  const signOut = createConfirmation(async (o: Operator) => {
    const ended = await actions.endSessions(o.id);
    setSignedOut(
      ended === 0
        ? `${o.name} had no open session.`
        : `${o.name} is signed out everywhere (${ended} ${ended === 1 ? "session" : "sessions"} ended).`,
    );
  });

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
          <FormMessage kind="notice" message={signedOut()} />
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
                    onSignOut={() => {
                      setSignedOut(null);
                      signOut.ask(o);
                    }}
                  />
                )}
              </For>
            </ul>
          </Loadable>
        </section>
        <AddOperatorForm onAdd={actions.add} />
        <ConfirmDialog
          confirmation={signOut}
          title="Sign this operator out everywhere?"
          confirmLabel="Sign out everywhere"
          busyLabel="Signing out…"
          confirmTestId="confirm-sign-out-operator"
          testId="sign-out-operator-dialog"
        >
          <p>
            Every session of <strong>{signOut.target()?.name}</strong> ends, in every browser and on every device, and
            their open panels close. They can sign in again with their password.
          </p>
        </ConfirmDialog>
      </div>
    </Page>
  );
}
