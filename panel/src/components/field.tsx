/** Form pieces shared by the gate screens and the operators form: a labelled input, error and notice lines. */
import { createUniqueId, Show, splitProps, type JSX } from "solid-js";

type InputProps = Omit<JSX.InputHTMLAttributes<HTMLInputElement>, "onInput" | "aria-describedby">;

/** With a hint, `hintId` names it so the input can point at it with `aria-describedby`. */
type Hint = { hint?: undefined; hintId?: undefined } | { hint: JSX.Element; hintId: string };

export type FieldProps = InputProps &
  Hint & {
    label: string;
    /** Called with the input's value on every keystroke. */
    onValue?: (value: string) => void;
  };

/**
 * `<label class="field">` with the label text, the input (every other prop
 * goes to it) and an optional hint under it.
 */
export function Field(props: FieldProps) {
  const [own, input] = splitProps(props, ["label", "hint", "hintId", "onValue"]);
  // Named by the label text alone: the hint inside the same <label> would otherwise be read as part of the name,
  // and again as the description.
  const labelId = createUniqueId();
  return (
    <label class="field">
      <span id={labelId}>{own.label}</span>
      <input
        {...input}
        aria-labelledby={labelId}
        aria-describedby={own.hintId}
        onInput={(e) => own.onValue?.(e.currentTarget.value)}
      />
      <Show when={own.hintId}>
        <small id={own.hintId} class="muted">
          {own.hint}
        </small>
      </Show>
    </label>
  );
}

/**
 * A line above a form's fields, shown while `message` is set: an error is read
 * out at once (`role="alert"`), a notice politely (`role="status"`).
 */
export function FormMessage(props: { kind: "error" | "notice"; message: string | null }) {
  return (
    <Show when={props.message}>
      <p class={props.kind === "error" ? "form-error" : "notice"} role={props.kind === "error" ? "alert" : "status"}>
        {props.message}
      </p>
    </Show>
  );
}

/** The email address field of the sign-in and setup forms. */
export function EmailField(props: { value: string; onValue: (value: string) => void }) {
  return (
    <Field
      label="Email"
      type="email"
      name="email"
      autocomplete="username"
      required
      value={props.value}
      onValue={props.onValue}
    />
  );
}
