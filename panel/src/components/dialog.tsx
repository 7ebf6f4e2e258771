/**
 * A modal confirmation dialog on the native `<dialog>` element, with the
 * alert dialog role (it interrupts to ask before something is destroyed).
 *
 * Why native: `showModal()` makes the rest of the page inert (nothing behind
 * can be clicked or reached with Tab or a screen reader's virtual cursor),
 * which no hand-rolled overlay gets fully right. On top of it we keep Tab
 * cycling inside the dialog (the browser would otherwise let focus escape to
 * its own toolbar), route Escape through the confirmation's `cancel` so its state
 * stays the truth, and give focus back to whatever opened the dialog.
 */
import { createUniqueId, onCleanup, onMount, Show, type JSX } from "solid-js";
import type { Confirmation } from "../lib/async";

export interface ConfirmDialogProps {
  /** What it asks about: open while it has a target; its busy state and error show inside. */
  confirmation: Pick<Confirmation<unknown>, "target" | "cancel" | "confirm" | "busy" | "error">;
  title: string;
  /** The explanation: what will happen, in words. */
  children: JSX.Element;
  confirmLabel: JSX.Element;
  /** Shown on the confirm button while busy. */
  busyLabel: string;
  confirmTestId: string;
  testId: string;
}

/** Asks before a destructive action (the confirm button is red); Cancel has the focus first. */
export function ConfirmDialog(props: ConfirmDialogProps) {
  return (
    <Show when={props.confirmation.target() !== null}>
      <DialogBody {...props} />
    </Show>
  );
}

const FOCUSABLE =
  'button:not([disabled]), [href], input:not([disabled]), select, textarea, [tabindex]:not([tabindex="-1"])';

function DialogBody(props: ConfirmDialogProps) {
  let el!: HTMLDialogElement;
  let cancelButton!: HTMLButtonElement;
  const titleId = createUniqueId();
  const bodyId = createUniqueId();
  const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  let closing = false;

  const c = props.confirmation;
  const cancel = () => {
    if (!c.busy()) c.cancel();
  };

  onMount(() => {
    el.showModal();
    // The safe choice first: Enter on a freshly opened dialog must not destroy anything.
    cancelButton.focus();
  });
  onCleanup(() => {
    closing = true;
    if (el.open) el.close();
    if (opener?.isConnected) opener.focus();
  });

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key !== "Tab") return;
    const items = Array.from(el.querySelectorAll<HTMLElement>(FOCUSABLE));
    if (items.length === 0) return;
    const first = items[0]!;
    const last = items[items.length - 1]!;
    if (e.shiftKey && document.activeElement === first) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first.focus();
    }
  };

  return (
    <dialog
      ref={el}
      class="dialog"
      // A confirmation that interrupts: the WAI-ARIA alert dialog pattern, not a plain dialog.
      role="alertdialog"
      aria-modal="true"
      aria-labelledby={titleId}
      aria-describedby={bodyId}
      data-testid={props.testId}
      onKeyDown={onKeyDown}
      // Escape: keep the dialog under our control (it closes when `open` turns false).
      onCancel={(e) => {
        e.preventDefault();
        cancel();
      }}
      // Browsers may close it anyway (a second Escape cannot always be refused).
      onClose={() => {
        if (!closing) c.cancel();
      }}
      // A click on the backdrop lands on the dialog element itself.
      onClick={(e) => {
        if (e.target === el) cancel();
      }}
    >
      <div class="dialog-content">
        <h2 id={titleId} class="dialog-title">
          {props.title}
        </h2>
        <div id={bodyId} class="dialog-body">
          {props.children}
        </div>
        <Show when={c.error()}>
          <p class="form-error" role="alert">
            {c.error()}
          </p>
        </Show>
        <div class="dialog-actions">
          <button
            type="button"
            class="button secondary"
            ref={cancelButton}
            disabled={c.busy()}
            onClick={cancel}
            data-testid="cancel-dialog"
          >
            Cancel
          </button>
          <button
            type="button"
            class="button danger"
            disabled={c.busy()}
            onClick={() => c.confirm()}
            data-testid={props.confirmTestId}
          >
            {c.busy() ? props.busyLabel : props.confirmLabel}
          </button>
        </div>
      </div>
    </dialog>
  );
}
