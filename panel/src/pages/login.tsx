/** Sign in with email and password. */
import { createSignal, Show } from "solid-js";
import { errorText } from "../lib/api";

export default function LoginPage(props: {
  notice: string | null;
  onLogin: (input: { email: string; password: string }) => Promise<void>;
}) {
  const [email, setEmail] = createSignal("");
  const [password, setPassword] = createSignal("");
  const [error, setError] = createSignal<string | null>(null);
  const [busy, setBusy] = createSignal(false);

  const submit = async (e: SubmitEvent) => {
    e.preventDefault();
    if (busy()) return;
    setError(null);
    setBusy(true);
    try {
      await props.onLogin({ email: email().trim(), password: password() });
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  };

  return (
    <div class="gate">
      <form class="card gate-card" onSubmit={submit} data-testid="login-form" aria-labelledby="login-title">
        <div class="gate-logo" aria-hidden="true">
          M
        </div>
        <h1 id="login-title">Sign in to Microchat</h1>
        <Show when={props.notice && !error()}>
          <p class="notice" role="status">
            {props.notice}
          </p>
        </Show>
        <Show when={error()}>
          <p class="form-error" role="alert">
            {error()}
          </p>
        </Show>
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
            autocomplete="current-password"
            required
            value={password()}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </label>
        <button type="submit" class="button primary block" disabled={busy()}>
          {busy() ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </div>
  );
}
