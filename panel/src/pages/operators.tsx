/** Operators (admins): the team list, add an operator, remove one. */
import { createSignal, For, Match, onMount, Show, Switch } from "solid-js";
import type { Operator, OperatorPresence } from "../../../worker/protocol";
import { errorText } from "../lib/api";
import { fullTime } from "../lib/format";
import { OperatorAvatar } from "../components/avatar";
import { Field, FormMessage } from "../components/field";
import { useShell } from "../components/shell";
import { createOperators } from "../stores/operators";
import { MIN_PASSWORD } from "./setup";

export default function OperatorsPage() {
  const { me, inbox } = useShell();
  /** Live presence from the panel socket; undefined for someone it has not reported. */
  const presence = (id: string) => inbox.operators.find((o) => o.id === id);
  const [state, actions] = createOperators();
  onMount(() => void actions.load());

  return (
    <div class="page operators-page" data-testid="operators-page">
      <main class="operators-main">
        <header class="page-header">
          <h1>Operators</h1>
          <p class="muted">People who can answer conversations in this workspace.</p>
        </header>
        <div class="operators-layout">
          <section class="card" aria-labelledby="team-title">
            <h2 id="team-title" class="card-title">
              Team
              <Show when={state.phase === "ready"}>
                <span class="count">{state.operators.length}</span>
              </Show>
            </h2>
            <Switch>
              <Match when={state.phase === "loading"}>
                <p class="muted">Loading operators…</p>
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
              </Match>
            </Switch>
          </section>
          <AddOperatorForm onAdd={actions.add} />
        </div>
      </main>
    </div>
  );
}

function OperatorRow(props: {
  operator: Operator;
  isMe: boolean;
  presence: OperatorPresence | undefined;
  onRemove: () => Promise<void>;
}) {
  // Online with the panel open; Away when they chose not to be notified; Offline when the panel is closed.
  const presence = () => (!props.presence?.online ? "offline" : props.presence.status === "away" ? "away" : "online");
  const [confirming, setConfirming] = createSignal(false);
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal<string | null>(null);

  const remove = async () => {
    setBusy(true);
    setError(null);
    try {
      await props.onRemove();
    } catch (e) {
      setError(errorText(e));
      setBusy(false);
      setConfirming(false);
    }
  };

  return (
    <li class="operator-row" data-testid="operator-row" data-operator-id={props.operator.id}>
      <OperatorAvatar name={props.operator.name} />
      <div class="operator-info">
        <div class="operator-name">
          <span class="ellipsis">{props.operator.name}</span>
          <Show when={props.isMe}>
            <span class="muted small">(you)</span>
          </Show>
          <Show when={props.operator.admin}>
            <span class="tag" data-testid="admin-badge">
              Admin
            </span>
          </Show>
          <span
            class="presence small"
            classList={{ online: presence() === "online", away: presence() === "away" }}
            data-testid="operator-presence"
            data-presence={presence()}
          >
            {presence() === "online" ? "Online" : presence() === "away" ? "Away" : "Offline"}
          </span>
        </div>
        <div class="muted small ellipsis" title={`Added ${fullTime(props.operator.createdAt)}`}>
          {props.operator.email}
        </div>
        <Show when={error()}>
          <div class="error-text small" role="alert">
            {error()}
          </div>
        </Show>
      </div>
      <Show when={!props.isMe}>
        <div class="operator-actions">
          <Show
            when={confirming()}
            fallback={
              <button
                type="button"
                class="button secondary small"
                aria-label={`Remove ${props.operator.name}`}
                data-testid="remove-operator"
                onClick={() => setConfirming(true)}
              >
                Remove
              </button>
            }
          >
            <span class="small">Remove {props.operator.name}?</span>
            <button
              type="button"
              class="button danger small"
              disabled={busy()}
              onClick={() => void remove()}
              data-testid="confirm-remove"
            >
              {busy() ? "Removing…" : "Remove"}
            </button>
            <button type="button" class="button secondary small" disabled={busy()} onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </Show>
        </div>
      </Show>
    </li>
  );
}

function AddOperatorForm(props: {
  onAdd: (input: { name: string; email: string; password: string; admin: boolean }) => Promise<Operator>;
}) {
  const [name, setName] = createSignal("");
  const [email, setEmail] = createSignal("");
  const [password, setPassword] = createSignal("");
  const [admin, setAdmin] = createSignal(false);
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal<string | null>(null);
  const [done, setDone] = createSignal<string | null>(null);

  const submit = async (e: SubmitEvent) => {
    e.preventDefault();
    if (busy()) return;
    setDone(null);
    if (!name().trim()) return setError("Please enter a name.");
    if (!/^[^\s@]+@[^\s@]+$/.test(email().trim())) return setError("Please enter a valid email address.");
    if (password().length < MIN_PASSWORD) return setError(`The password needs at least ${MIN_PASSWORD} characters.`);
    setError(null);
    setBusy(true);
    try {
      const op = await props.onAdd({
        name: name().trim(),
        email: email().trim(),
        password: password(),
        admin: admin(),
      });
      setName("");
      setEmail("");
      setPassword("");
      setAdmin(false);
      setDone(`${op.name} was added.`);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      class="card add-operator"
      onSubmit={submit}
      aria-labelledby="add-title"
      data-testid="add-operator-form"
      novalidate
    >
      <h2 id="add-title" class="card-title">
        Add an operator
      </h2>
      <FormMessage kind="error" message={error()} />
      <FormMessage kind="notice" message={done()} />
      <Field label="Name" name="name" autocomplete="off" maxLength={80} value={name()} onValue={setName} />
      <Field label="Email" type="email" name="email" autocomplete="off" value={email()} onValue={setEmail} />
      <Field
        label="Password"
        type="password"
        name="password"
        autocomplete="new-password"
        hintId="add-password-hint"
        hint={<>At least {MIN_PASSWORD} characters. Share it with them privately.</>}
        value={password()}
        onValue={setPassword}
      />
      <label class="checkbox">
        <input type="checkbox" name="admin" checked={admin()} onChange={(e) => setAdmin(e.currentTarget.checked)} />
        <span>Admin (can manage operators)</span>
      </label>
      <button type="submit" class="button primary" disabled={busy()}>
        {busy() ? "Adding…" : "Add operator"}
      </button>
    </form>
  );
}
