/**
 * Short notices ("Conversation deleted") at the bottom of the screen. One
 * list for the whole panel, so a notice outlives the view that raised it
 * (deleting a conversation closes its window).
 */
import { createSignal, For } from "solid-js";

interface Toast {
  id: number;
  text: string;
}

const SHOW_MS = 5000;
const [toasts, setToasts] = createSignal<Toast[]>([]);
const timers = new Map<number, ReturnType<typeof setTimeout>>();
let nextId = 1;

function dismiss(id: number): void {
  clearTimeout(timers.get(id));
  timers.delete(id);
  setToasts((list) => list.filter((t) => t.id !== id));
}

/** Show `text` for a few seconds; the same text twice shows once. */
export function notify(text: string): void {
  const same = toasts().find((t) => t.text === text);
  if (same) dismiss(same.id);
  const id = nextId++;
  setToasts((list) => [...list, { id, text }]);
  timers.set(
    id,
    setTimeout(() => dismiss(id), SHOW_MS),
  );
}

/** The live region the notices appear in; rendered once by the shell. */
export function Toasts() {
  // The region exists before any notice, so screen readers announce additions.
  return (
    <div class="toasts" role="status" aria-live="polite">
      <For each={toasts()}>
        {(t) => (
          <div class="toast" data-testid="toast">
            <span>{t.text}</span>
            <button type="button" class="toast-close" aria-label="Dismiss" onClick={() => dismiss(t.id)}>
              ×
            </button>
          </div>
        )}
      </For>
    </div>
  );
}
