/** Settings > Data retention: delete conversations inactive for N days; 0 keeps them forever. */
import { createEffect, createSignal, on, Show } from "solid-js";
import { createAction } from "../../lib/async";
import { useSettings } from "../../stores/settings";
import { Field } from "../field";
import { ClockIcon } from "../icons";
import { FormLines, SaveButton, SettingsCard } from "./settings-card";

/** Mirrors the server's limit on retentionDays. */
const MAX_RETENTION_DAYS = 3650;

const describe = (d: number) =>
  d === 0
    ? "Conversations are kept forever."
    : `Conversations with no activity for ${d} ${d === 1 ? "day" : "days"} are deleted for good.`;

export function RetentionForm() {
  const [state, actions] = useSettings();
  const [days, setDays] = createSignal("0");
  const [done, setDone] = createSignal<string | null>(null);
  const save = createAction(async (n: number) => {
    const saved = await actions.save({ retentionDays: n });
    setDone(`Saved. ${describe(saved.retentionDays)}`);
  });

  createEffect(
    on(
      () => state.settings?.retentionDays,
      (d) => {
        if (d !== undefined) setDays(String(d));
      },
    ),
  );

  const submit = (e: SubmitEvent) => {
    e.preventDefault();
    if (save.busy()) return;
    setDone(null);
    const text = days().trim();
    const n = Number(text);
    if (!/^\d+$/.test(text) || n > MAX_RETENTION_DAYS) {
      return save.setError(`Enter a whole number of days from 0 (keep forever) to ${MAX_RETENTION_DAYS}.`);
    }
    void save.run(n);
  };

  return (
    <SettingsCard
      titleId="retention-title"
      testId="retention-form"
      title="Data retention"
      icon={<ClockIcon />}
      onSubmit={submit}
    >
      <FormLines error={save.error()} notice={done()} />
      <Field
        label="Delete conversations after (days without activity)"
        type="number"
        name="retentionDays"
        inputMode="numeric"
        min={0}
        max={MAX_RETENTION_DAYS}
        step={1}
        class="input-days"
        hintId="retention-hint"
        hint={
          <>
            With their messages, files and visitor details. <strong>0 = keep forever</strong> (the default).
          </>
        }
        value={days()}
        onValue={setDays}
        data-testid="retention-days"
      />
      <Show when={!done()}>
        <p class="muted small" data-testid="retention-current">
          Now: {describe(state.settings?.retentionDays ?? 0)}
        </p>
      </Show>
      <SaveButton busy={save.busy()} testId="retention-save" />
    </SettingsCard>
  );
}
