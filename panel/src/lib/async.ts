/**
 * The bookkeeping around a request a person started (a form's submit, a
 * button, a confirmation): one at a time, busy while it runs, and its failure
 * kept as text to show. Every form and dialog in the panel uses these rather
 * than its own busy / try / finally.
 */
import { createSignal, type Accessor } from "solid-js";
import { errorText } from "./api";

export interface Action<A extends unknown[]> {
  /** Runs the request unless one is already running; resolves whether it succeeded. */
  run(...args: A): Promise<boolean>;
  busy: Accessor<boolean>;
  /** Why the last run failed (the server's message), or a check of the form's own. */
  error: Accessor<string | null>;
  setError(message: string | null): void;
}

/** An action over `request`; a throw becomes `error()`, read by people (see `errorText`). */
export function createAction<A extends unknown[]>(request: (...args: A) => Promise<unknown>): Action<A> {
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal<string | null>(null);
  return {
    busy,
    error,
    setError,
    async run(...args) {
      if (busy()) return false;
      setError(null);
      setBusy(true);
      try {
        await request(...args);
        return true;
      } catch (e) {
        setError(errorText(e));
        return false;
      } finally {
        setBusy(false);
      }
    },
  };
}

/** A confirmation about one thing (`target`): asked, then confirmed or cancelled. */
export interface Confirmation<T> {
  /** What is being confirmed; null while nothing is asked. */
  target: Accessor<T | null>;
  ask(target: T): void;
  cancel(): void;
  /** Runs the request; the dialog closes when it succeeds and shows its error when not. */
  confirm(): void;
  busy: Accessor<boolean>;
  error: Accessor<string | null>;
}

/** A confirmation whose request is `request(target)`, for `ConfirmDialog`. */
export function createConfirmation<T>(request: (target: T) => Promise<unknown>): Confirmation<T> {
  const [target, setTarget] = createSignal<T | null>(null);
  const action = createAction(async (t: T) => {
    await request(t);
    setTarget(null);
  });
  return {
    target,
    ask(t) {
      action.setError(null);
      setTarget(() => t);
    },
    cancel: () => setTarget(null),
    confirm() {
      const t = target();
      if (t !== null) void action.run(t);
    },
    busy: action.busy,
    error: action.error,
  };
}
