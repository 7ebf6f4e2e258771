/** Settings > Email: the mailbox email replies come from, and the name on them. */
import { createEffect, createSignal, on } from "solid-js";
import { createAction } from "../../lib/async";
import { useSettings } from "../../stores/settings";
import { Field } from "../field";
import { MailIcon } from "../icons";
import { FormLines, SaveButton, SettingsCard } from "./settings-card";

export function EmailForm() {
  const [state, actions] = useSettings();
  const [address, setAddress] = createSignal("");
  const [name, setName] = createSignal("");
  const [done, setDone] = createSignal<string | null>(null);
  // The server decides what a valid address and name are, and says why not.
  const save = createAction(async () => {
    const saved = await actions.save({ emailAddress: address().trim(), emailName: name().trim() });
    setDone(`Saved. Email replies now come from ${saved.emailName} <${saved.emailAddress ?? ""}>.`);
  });

  // Fill the form once the settings are known (they may still be loading).
  createEffect(
    on(
      () => state.settings,
      (s) => {
        if (!s) return;
        setAddress(s.emailAddress ?? "");
        setName(s.emailName);
      },
    ),
  );

  return (
    <SettingsCard
      titleId="email-settings-title"
      testId="settings-form"
      title="Email"
      icon={<MailIcon size={18} />}
      onSubmit={(e) => {
        e.preventDefault();
        setDone(null);
        void save.run();
      }}
    >
      <FormLines error={save.error()} notice={done()} />
      <Field
        label="Sending address"
        type="email"
        name="emailAddress"
        autocomplete="off"
        placeholder="support@example.com"
        hintId="email-address-hint"
        hint={<>Replies to visitors come from this address, and it is shown under every email message.</>}
        value={address()}
        onValue={setAddress}
      />
      <Field
        label="Sender name"
        name="emailName"
        autocomplete="off"
        maxLength={80}
        hintId="email-name-hint"
        hint={<>The name visitors see on your replies, e.g. "Acme Support".</>}
        value={name()}
        onValue={setName}
      />
      <SaveButton busy={save.busy()} testId="settings-save" />
      <p class="deploy-hint" data-testid="deploy-hint">
        Inbound mail: route this address to the Worker with Cloudflare Email Routing.
      </p>
    </SettingsCard>
  );
}
