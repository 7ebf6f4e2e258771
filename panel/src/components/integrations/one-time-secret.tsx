/** A secret shown once (a new API token, a webhook's signing secret): a read-only field, Copy, and a warning. */
import { createSignal, createUniqueId, Show } from "solid-js";
import { CopyIcon } from "../icons";

/** Shows `secret` (its label and value) until Done; nothing while it is null. */
export function OneTimeSecret(props: {
  secret: { label: string; value: string } | null;
  testId: string;
  onDone: () => void;
  /** Why it must be copied now. */
  note: string;
}) {
  return <Show when={props.secret}>{(s) => <SecretBox {...props} label={s().label} value={s().value} />}</Show>;
}

function SecretBox(props: { label: string; value: string; testId: string; onDone: () => void; note: string }) {
  const id = createUniqueId();
  const [copied, setCopied] = createSignal<string | null>(null);
  let input!: HTMLInputElement;
  const copy = async () => {
    input.select();
    try {
      await navigator.clipboard.writeText(props.value);
      setCopied("Copied to the clipboard.");
    } catch {
      setCopied("Selected: press Ctrl+C (⌘C) to copy.");
    }
  };
  return (
    <div class="secret-box" role="region" aria-labelledby={`${id}-label`} data-testid={`${props.testId}-box`}>
      <p class="secret-warning" id={`${id}-warning`}>
        <strong>Copy it now.</strong> {props.note}
      </p>
      <label class="secret-label" id={`${id}-label`} for={id}>
        {props.label}
      </label>
      <div class="secret-row">
        <input
          id={id}
          ref={input}
          class="secret-value"
          readOnly
          value={props.value}
          spellcheck={false}
          aria-describedby={`${id}-warning`}
          onFocus={(e) => e.currentTarget.select()}
          data-testid={props.testId}
        />
        <button
          type="button"
          class="button secondary small"
          onClick={() => void copy()}
          data-testid={`${props.testId}-copy`}
        >
          <CopyIcon />
          Copy
        </button>
        <button type="button" class="button primary small" onClick={() => props.onDone()}>
          Done
        </button>
      </div>
      <p class="small muted" role="status">
        {copied()}
      </p>
    </div>
  );
}
