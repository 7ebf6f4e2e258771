/** Settings > Deleting conversations: admins only, or admins and the operators in the conversation. */
import { createEffect, createSignal, For, on } from "solid-js";
import type { DeletePolicy } from "../../../../worker/protocol";
import { createAction } from "../../lib/async";
import { useSettings } from "../../stores/settings";
import { TrashIcon } from "../icons";
import { FormLines, SaveButton, SettingsCard } from "./settings-card";

const CHOICES: readonly { policy: DeletePolicy; label: string; says: string }[] = [
  {
    policy: "admins_and_joined",
    label: "Admins, and operators in the conversation",
    says: "An operator can delete a conversation they joined. The default.",
  },
  { policy: "admins", label: "Admins only", says: "Operators can join, reply and leave, but not delete." },
];

export function DeletePolicyForm() {
  const [state, actions] = useSettings();
  const [policy, setPolicy] = createSignal<DeletePolicy>("admins_and_joined");
  const [done, setDone] = createSignal<string | null>(null);
  const save = createAction(async (p: DeletePolicy) => {
    const saved = await actions.save({ deleteBy: p });
    setDone(`Saved. ${CHOICES.find((c) => c.policy === saved.deleteBy)?.label ?? ""} can delete conversations.`);
  });

  createEffect(
    on(
      () => state.settings?.deleteBy,
      (p) => {
        if (p) setPolicy(p);
      },
    ),
  );

  const submit = (e: SubmitEvent) => {
    e.preventDefault();
    if (save.busy()) return;
    setDone(null);
    void save.run(policy());
  };

  return (
    <SettingsCard
      titleId="delete-policy-title"
      testId="delete-policy-form"
      title="Deleting conversations"
      icon={<TrashIcon />}
      onSubmit={submit}
    >
      <FormLines error={save.error()} notice={done()} />
      <fieldset class="choice-list">
        <legend class="muted">
          Who may delete a conversation for good. Every deletion is recorded in the audit log below.
        </legend>
        <For each={CHOICES}>
          {(c) => (
            <label class="choice">
              <input
                type="radio"
                name="deleteBy"
                value={c.policy}
                checked={policy() === c.policy}
                onChange={() => setPolicy(c.policy)}
                data-testid={`delete-by-${c.policy}`}
              />
              <span>
                <span class="choice-label">{c.label}</span>
                <span class="muted small">{c.says}</span>
              </span>
            </label>
          )}
        </For>
      </fieldset>
      <SaveButton busy={save.busy()} testId="delete-policy-save" />
    </SettingsCard>
  );
}
