/** A card of the Settings page: a form headed by an icon and a title that names it. */
import type { JSX } from "solid-js";
import { FormMessage } from "../field";

export function SettingsCard(props: {
  titleId: string;
  testId: string;
  title: string;
  icon: JSX.Element;
  danger?: boolean;
  onSubmit: (e: SubmitEvent) => void;
  children: JSX.Element;
}) {
  return (
    <form
      class="card settings-form"
      onSubmit={(e) => props.onSubmit(e)}
      aria-labelledby={props.titleId}
      data-testid={props.testId}
      novalidate
    >
      <h2 id={props.titleId} class="card-title">
        <span class={props.danger ? "card-title-icon danger" : "card-title-icon"} aria-hidden="true">
          {props.icon}
        </span>
        {props.title}
      </h2>
      {props.children}
    </form>
  );
}

/** A form's error line, then its notice line (each shown only while set). */
export function FormLines(props: { error: string | null; notice: string | null }) {
  return (
    <>
      <FormMessage kind="error" message={props.error} />
      <FormMessage kind="notice" message={props.notice} />
    </>
  );
}

/** The Save button of a settings form. */
export function SaveButton(props: { busy: boolean; testId: string }) {
  return (
    <div class="settings-actions">
      <button type="submit" class="button primary" disabled={props.busy} data-testid={props.testId}>
        {props.busy ? "Saving…" : "Save"}
      </button>
    </div>
  );
}
