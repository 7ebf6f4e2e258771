/**
 * Settings (admins): the workspace mailbox that email replies come from, how
 * long conversations are kept, and erasing one person's data on request.
 */
import { EmailForm } from "../components/settings/email-form";
import { ErasureForm } from "../components/settings/erasure-form";
import { RetentionForm } from "../components/settings/retention-form";
import { Loadable, Page } from "../components/status";
import { useSettings } from "../stores/settings";

export default function SettingsPage() {
  const [state, actions] = useSettings();
  return (
    <Page
      name="settings"
      title="Settings"
      intro="How this workspace answers by email and how long it keeps what visitors send."
    >
      <Loadable phase={state.phase} error={state.error} loading="Loading settings…" onRetry={() => void actions.load()}>
        <EmailForm />
        <RetentionForm />
        <ErasureForm />
      </Loadable>
    </Page>
  );
}
