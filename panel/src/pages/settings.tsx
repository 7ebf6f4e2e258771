/**
 * Settings (admins): the workspace mailbox that email replies come from, how
 * long conversations are kept, who may delete them, erasing one person's data
 * on request, and the audit log of who did such things.
 */
import { AuditLog } from "../components/settings/audit-log";
import { DeletePolicyForm } from "../components/settings/delete-policy-form";
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
      intro="How this workspace answers by email, how long it keeps what visitors send, and who deleted or changed what."
    >
      <Loadable phase={state.phase} error={state.error} loading="Loading settings…" onRetry={() => void actions.load()}>
        <EmailForm />
        <RetentionForm />
        <DeletePolicyForm />
        <ErasureForm />
      </Loadable>
      <AuditLog />
    </Page>
  );
}
