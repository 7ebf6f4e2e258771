/** Sign in with email and password. */
import { createSignal } from "solid-js";
import { errorText } from "../lib/api";
import { Field, FormMessage } from "../components/field";
import { GateForm } from "../components/gate";

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
    <GateForm title="Sign in to Microchat" titleId="login-title" testid="login-form" onSubmit={submit}>
      <FormMessage kind="notice" message={error() ? null : props.notice} />
      <FormMessage kind="error" message={error()} />
      <Field
        label="Email"
        type="email"
        name="email"
        autocomplete="username"
        required
        value={email()}
        onValue={setEmail}
      />
      <Field
        label="Password"
        type="password"
        name="password"
        autocomplete="current-password"
        required
        value={password()}
        onValue={setPassword}
      />
      <button type="submit" class="button primary block" disabled={busy()}>
        {busy() ? "Signing in…" : "Sign in"}
      </button>
    </GateForm>
  );
}
