/** First run: create the first admin operator. */
import { createSignal, Show } from "solid-js";
import { errorText } from "../lib/api";

export const MIN_PASSWORD = 10;

export default function SetupPage(props: {
  onSetup: (input: { name: string; email: string; password: string }) => Promise<void>;
}) {
  const [name, setName] = createSignal("");
  const [email, setEmail] = createSignal("");
  const [password, setPassword] = createSignal("");
  const [confirm, setConfirm] = createSignal("");
  const [error, setError] = createSignal<string | null>(null);
  const [busy, setBusy] = createSignal(false);

  const submit = async (e: SubmitEvent) => {
    e.preventDefault();
    if (busy()) return;
    if (!name().trim()) return setError("Please enter your name.");
    if (!/^[^\s@]+@[^\s@]+$/.test(email().trim())) return setError("Please enter a valid email address.");
    if (password().length < MIN_PASSWORD) return setError(`The password needs at least ${MIN_PASSWORD} characters.`);
    if (password() !== confirm()) return setError("The two passwords do not match.");
    setError(null);
    setBusy(true);
    try {
      await props.onSetup({ name: name().trim(), email: email().trim(), password: password() });
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  };

  return (
    <div class="gate">
      <form class="card gate-card" onSubmit={submit} data-testid="setup-form" aria-labelledby="setup-title" novalidate>
        <div class="gate-logo" aria-hidden="true">
          M
        </div>
        <h1 id="setup-title">Welcome to Microchat</h1>
        <p class="muted">Create the first admin account for this workspace.</p>
        <Show when={error()}>
          <p class="form-error" role="alert">
            {error()}
          </p>
        </Show>
        <label class="field">
          <span>Name</span>
          <input
            name="name"
            autocomplete="name"
            required
            maxLength={80}
            value={name()}
            onInput={(e) => setName(e.currentTarget.value)}
          />
        </label>
        <label class="field">
          <span>Email</span>
          <input
            type="email"
            name="email"
            autocomplete="username"
            required
            value={email()}
            onInput={(e) => setEmail(e.currentTarget.value)}
          />
        </label>
        <label class="field">
          <span>Password</span>
          <input
            type="password"
            name="password"
            autocomplete="new-password"
            required
            minLength={MIN_PASSWORD}
            aria-describedby="setup-password-hint"
            value={password()}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
          <small id="setup-password-hint" class="muted">
            At least {MIN_PASSWORD} characters.
          </small>
        </label>
        <label class="field">
          <span>Confirm password</span>
          <input
            type="password"
            name="confirm"
            autocomplete="new-password"
            required
            value={confirm()}
            onInput={(e) => setConfirm(e.currentTarget.value)}
          />
        </label>
        <button type="submit" class="button primary block" disabled={busy()}>
          {busy() ? "Creating…" : "Create admin account"}
        </button>
      </form>
    </div>
  );
}
