/** Settings > Privacy erasure: delete every conversation of one person, found by email or visitor id. */
import { createSignal, Show } from "solid-js";
import { api } from "../../lib/api";
import { createConfirmation } from "../../lib/async";
import { ConfirmDialog } from "../dialog";
import { Field, FormMessage } from "../field";
import { ShieldIcon, TrashIcon } from "../icons";
import { SettingsCard } from "./settings-card";

export function ErasureForm() {
  const [target, setTarget] = createSignal("");
  const [error, setError] = createSignal<string | null>(null);
  const [done, setDone] = createSignal<string | null>(null);
  const erase = createConfirmation(async (who: string) => {
    // An address has an @; anything else is taken as a visitor id. The server checks both.
    const { deleted } = await api.erase(who.includes("@") ? { email: who } : { visitorId: who });
    setTarget("");
    setDone(`Deleted ${deleted} ${deleted === 1 ? "conversation" : "conversations"} of ${who}.`);
  });

  const submit = (e: SubmitEvent) => {
    e.preventDefault();
    setDone(null);
    const who = target().trim();
    if (!who) return setError("Enter the person's email address or visitor id.");
    setError(null);
    erase.ask(who);
  };

  return (
    <SettingsCard
      titleId="erasure-title"
      testId="erasure-form"
      title="Privacy erasure"
      icon={<ShieldIcon />}
      danger
      onSubmit={submit}
    >
      <p class="muted">
        When someone asks to be forgotten, erase every conversation they had: messages, files and what is known about
        them.
      </p>
      <FormMessage kind="error" message={error()} />
      <Show when={done()}>
        <p class="notice" role="status" data-testid="erasure-result">
          {done()}
        </p>
      </Show>
      <Field
        label="Email address or visitor id"
        name="erasureTarget"
        autocomplete="off"
        spellcheck={false}
        placeholder="name@example.com"
        value={target()}
        onValue={setTarget}
        data-testid="erasure-target"
      />
      <div class="settings-actions">
        <button type="submit" class="button danger" data-testid="erasure-submit">
          <TrashIcon />
          Erase all data
        </button>
      </div>
      <ConfirmDialog
        confirmation={erase}
        title="Erase all data of this person?"
        confirmLabel="Erase all data"
        busyLabel="Erasing…"
        confirmTestId="confirm-erasure"
        testId="erasure-dialog"
      >
        <p>
          Every conversation of <strong>{erase.target()}</strong> is deleted for good, with its messages, files and
          visitor details. This cannot be undone.
        </p>
      </ConfirmDialog>
    </SettingsCard>
  );
}
