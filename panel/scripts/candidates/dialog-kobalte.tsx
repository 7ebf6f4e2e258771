// Kobalte's AlertDialog with the parts a confirmation needs.
import { AlertDialog } from "@kobalte/core/alert-dialog";
import { createSignal } from "solid-js";
import { render } from "solid-js/web";

const [open, setOpen] = createSignal(false);
render(
  () => (
    <AlertDialog open={open()} onOpenChange={setOpen}>
      <AlertDialog.Portal>
        <AlertDialog.Overlay class="overlay" />
        <AlertDialog.Content class="dialog">
          <AlertDialog.Title>Delete?</AlertDialog.Title>
          <AlertDialog.Description>Gone for good.</AlertDialog.Description>
          <AlertDialog.CloseButton>Cancel</AlertDialog.CloseButton>
          <button onClick={() => setOpen(false)}>Delete</button>
        </AlertDialog.Content>
      </AlertDialog.Portal>
    </AlertDialog>
  ),
  document.body,
);
