/** First run: create the first admin operator. */
import { createSignal } from "solid-js";
import { EmailField, Field, FormMessage } from "../components/field";
import { GateForm } from "../components/gate";
import { createAction } from "../lib/async";
import { checkNewOperator, MIN_PASSWORD } from "../lib/checks";

type Admin = { name: string; email: string; password: string };

export default function SetupPage(props: { onSetup: (input: Admin) => Promise<void> }) {
  const [name, setName] = createSignal("");
  const [email, setEmail] = createSignal("");
  const [password, setPassword] = createSignal("");
  const [confirm, setConfirm] = createSignal("");
  const setup = createAction(props.onSetup);

  const submit = (e: SubmitEvent) => {
    e.preventDefault();
    if (setup.busy()) return;
    const wrong = checkNewOperator(name(), email(), password(), "your name", confirm());
    if (wrong) return setup.setError(wrong);
    void setup.run({ name: name().trim(), email: email().trim(), password: password() });
  };

  return (
    <GateForm title="Welcome to Microchat" titleId="setup-title" testid="setup-form" novalidate onSubmit={submit}>
      <p class="muted">Create the first admin account for this workspace.</p>
      <FormMessage kind="error" message={setup.error()} />
      <Field label="Name" name="name" autocomplete="name" required maxLength={80} value={name()} onValue={setName} />
      <EmailField value={email()} onValue={setEmail} />
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
      <button type="submit" class="button primary block" disabled={setup.busy()}>
        {setup.busy() ? "Creating…" : "Create admin account"}
      </button>
    </GateForm>
  );
}
