// The hand-written confirmation dialog (native <dialog> with showModal()).
import { render } from "solid-js/web";
import { ConfirmDialog } from "../../src/components/dialog";
import { createConfirmation } from "../../src/lib/async";

const ask = createConfirmation(async (_: string) => {});
render(
  () => (
    <ConfirmDialog confirmation={ask} title="Delete?" confirmLabel="Delete" busyLabel="…" confirmTestId="c" testId="d">
      <p>Gone for good.</p>
    </ConfirmDialog>
  ),
  document.body,
);
