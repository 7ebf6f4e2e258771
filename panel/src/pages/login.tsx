/** Sign in with email and password. */
import { createSignal } from "solid-js";
import { EmailField, Field, FormMessage } from "../components/field";
import { GateForm } from "../components/gate";
import { createAction } from "../lib/async";

export default function LoginPage(props: {
  notice: string | null;
  onLogin: (input: { email: string; password: string }) => Promise<void>;
}) {
  const [email, setEmail] = createSignal("");
  const [password, setPassword] = createSignal("");
  const login = createAction(props.onLogin);

  return (
    <GateForm
      title="Sign in to Microchat"
      titleId="login-title"
      testid="login-form"
      onSubmit={(e) => {
        e.preventDefault();
        void login.run({ email: email().trim(), password: password() });
      }}
    >
      <FormMessage kind="notice" message={login.error() ? null : props.notice} />
      <FormMessage kind="error" message={login.error()} />
      <EmailField value={email()} onValue={setEmail} />
      <Field
        label="Password"
        type="password"
        name="password"
        autocomplete="current-password"
        required
        value={password()}
        onValue={setPassword}
      />
      <button type="submit" class="button primary block" disabled={login.busy()}>
        {login.busy() ? "Signing in…" : "Sign in"}
      </button>
    </GateForm>
  );
}
