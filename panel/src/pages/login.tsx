/**
 * Sign in with email and password. When the server pauses signing in (too
 * many failed tries: 429 with Retry-After), its words stay on screen and
 * the button counts down to when a try is taken again.
 */
import { createSignal, onCleanup } from "solid-js";
import { EmailField, Field, FormMessage } from "../components/field";
import { GateForm } from "../components/gate";
import { HttpError } from "../lib/api";
import { createAction } from "../lib/async";

/** "0:28", "14:05": what is left of a pause. */
function clock(seconds: number): string {
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

export default function LoginPage(props: {
  notice: string | null;
  onLogin: (input: { email: string; password: string }) => Promise<void>;
}) {
  const [email, setEmail] = createSignal("");
  const [password, setPassword] = createSignal("");
  /** Seconds until the server takes a try again (0: not paused). */
  const [pausedFor, setPausedFor] = createSignal(0);
  const [resumed, setResumed] = createSignal(false);
  let ticker: ReturnType<typeof setInterval> | undefined;
  onCleanup(() => clearInterval(ticker));

  const pause = (ms: number) => {
    const until = Date.now() + ms;
    const tick = () => {
      const left = Math.max(0, Math.ceil((until - Date.now()) / 1000));
      setPausedFor(left);
      if (left > 0) return;
      clearInterval(ticker);
      // The server's "try again in …" is out of date now: say what is true instead.
      login.setError(null);
      setResumed(true);
    };
    clearInterval(ticker);
    setResumed(false);
    tick();
    ticker = setInterval(tick, 1000);
  };

  const login = createAction(async (input: { email: string; password: string }) => {
    setResumed(false);
    try {
      await props.onLogin(input);
    } catch (e) {
      if (e instanceof HttpError && e.status === 429 && e.retryAfterMs) pause(e.retryAfterMs);
      throw e;
    }
  });

  const notice = () => {
    if (login.error()) return null;
    return resumed() ? "You can try signing in again now." : props.notice;
  };

  return (
    <GateForm
      title="Sign in to Microchat"
      titleId="login-title"
      testid="login-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (pausedFor() > 0) return;
        void login.run({ email: email().trim(), password: password() });
      }}
    >
      <FormMessage kind="notice" message={notice()} />
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
      <button
        type="submit"
        class="button primary block"
        disabled={login.busy() || pausedFor() > 0}
        data-testid="login-submit"
      >
        {pausedFor() > 0 ? `Try again in ${clock(pausedFor())}` : login.busy() ? "Signing in…" : "Sign in"}
      </button>
    </GateForm>
  );
}
