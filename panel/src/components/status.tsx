/**
 * How a part of the panel says it is loading or that something failed, the
 * same way everywhere: a muted line or a spinner while loading, an inline
 * error with one way out (Try again, Dismiss).
 */
import { Match, Show, Switch, type JSX } from "solid-js";
import { CloseIcon } from "./icons";

/**
 * An error line (`role="alert"`) with one action: a text button (`action`,
 * e.g. "Try again"), or without `action` an ✕ that dismisses it.
 */
export function InlineError(props: {
  message: string | null;
  action?: string;
  onAction: () => void;
  class?: string;
  testId?: string;
}) {
  return (
    <Show when={props.message}>
      <div class={props.class ? `inline-error ${props.class}` : "inline-error"} role="alert" data-testid={props.testId}>
        <span>{props.message}</span>
        <Show
          when={props.action}
          fallback={
            <button type="button" class="icon-button" aria-label="Dismiss error" onClick={() => props.onAction()}>
              <CloseIcon />
            </button>
          }
        >
          <button type="button" class="link-button" onClick={() => props.onAction()}>
            {props.action}
          </button>
        </Show>
      </div>
    </Show>
  );
}

/** A spinner beside a muted line, e.g. "Loading conversation…". */
export function Spinning(props: { text: string; class: string; testId?: string }) {
  return (
    <div class={props.class} aria-busy="true" data-testid={props.testId}>
      <span class="spinner" aria-hidden="true" />
      <span class="muted">{props.text}</span>
    </div>
  );
}

/** Content loaded from the server: `loading` until it is there, the error with Try again when it failed. */
export function Loadable(props: {
  phase: "loading" | "ready" | "error";
  error: string | null;
  loading: string;
  onRetry: () => void;
  children: JSX.Element;
}) {
  return (
    <Switch fallback={props.children}>
      <Match when={props.phase === "loading"}>
        <p class="muted">{props.loading}</p>
      </Match>
      <Match when={props.phase === "error"}>
        <InlineError message={props.error} action="Try again" onAction={props.onRetry} />
      </Match>
    </Switch>
  );
}

/**
 * A page of the shell beside the nav rail: `page <name>-page` (test id
 * `<name>-page`) around its main landmark, headed by the title and a line
 * saying what the page is for.
 */
export function Page(props: { name: string; title: string; intro: JSX.Element; children: JSX.Element }) {
  return (
    <div class={`page ${props.name}-page`} data-testid={`${props.name}-page`}>
      <main class={`${props.name}-main`}>
        <header class="page-header">
          <h1>{props.title}</h1>
          <p class="muted">{props.intro}</p>
        </header>
        {props.children}
      </main>
    </div>
  );
}
