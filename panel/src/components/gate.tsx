/** The centred card of the screens shown before sign-in (setup, login). */
import type { JSX } from "solid-js";

/**
 * `<form>` in a card with the logo and a heading that labels it; the fields
 * and the submit button come as children. The screen's main landmark.
 */
export function GateForm(props: {
  title: string;
  /** Id of the heading, which labels the form. */
  titleId: string;
  testid: string;
  /** Skip the browser's own validation (the page checks the fields itself). */
  novalidate?: boolean;
  onSubmit: (e: SubmitEvent) => void;
  children: JSX.Element;
}) {
  return (
    <main class="gate">
      <form
        class="card gate-card"
        onSubmit={(e) => props.onSubmit(e)}
        data-testid={props.testid}
        aria-labelledby={props.titleId}
        novalidate={props.novalidate}
      >
        <div class="gate-logo" aria-hidden="true">
          M
        </div>
        <h1 id={props.titleId}>{props.title}</h1>
        {props.children}
      </form>
    </main>
  );
}
