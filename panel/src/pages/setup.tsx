/** First run: create the first admin operator. */
import { createSignal } from "solid-js";
import { errorText } from "../lib/api";
import { Field, FormMessage } from "../components/field";
import { GateForm } from "../components/gate";

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
    <GateForm title="Welcome to Microchat" titleId="setup-title" testid="setup-form" novalidate onSubmit={submit}>
      <p class="muted">Create the first admin account for this workspace.</p>
      <FormMessage kind="error" message={error()} />
      <Field label="Name" name="name" autocomplete="name" required maxLength={80} value={name()} onValue={setName} />
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
        autocomplete="new-password"
        required
        minLength={MIN_PASSWORD}
        hintId="setup-password-hint"
        hint={<>At least {MIN_PASSWORD} characters.</>}
        value={password()}
        onValue={setPassword}
      />
      <Field
        label="Confirm password"
        type="password"
        name="confirm"
        autocomplete="new-password"
        required
        value={confirm()}
        onValue={setConfirm}
      />
      <button type="submit" class="button primary block" disabled={busy()}>
        {busy() ? "Creating…" : "Create admin account"}
      </button>
    </GateForm>
  );
}
