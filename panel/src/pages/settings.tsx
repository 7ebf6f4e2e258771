/** Settings (admins): the workspace mailbox that email replies come from. */
import { createEffect, createSignal, Match, on, Switch } from "solid-js";
import { errorText } from "../lib/api";
import { Field, FormMessage } from "../components/field";
import { MailIcon } from "../components/icons";
import { useSettings } from "../stores/settings";

export default function SettingsPage() {
  const [state, actions] = useSettings();
  const [address, setAddress] = createSignal("");
  const [name, setName] = createSignal("");
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal<string | null>(null);
  const [done, setDone] = createSignal<string | null>(null);

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

  const submit = async (e: SubmitEvent) => {
    e.preventDefault();
    if (busy()) return;
    setError(null);
    setDone(null);
    setBusy(true);
    try {
      // The server decides what a valid address and name are, and says why not.
      const saved = await actions.save({ emailAddress: address().trim(), emailName: name().trim() });
      setDone(`Saved. Email replies now come from ${saved.emailName} <${saved.emailAddress ?? ""}>.`);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="page settings-page" data-testid="settings-page">
      <main class="settings-main">
        <header class="page-header">
          <h1>Settings</h1>
          <p class="muted">How this workspace answers by email.</p>
        </header>
        <Switch>
          <Match when={state.phase === "loading"}>
            <p class="muted">Loading settings…</p>
          </Match>
          <Match when={state.phase === "error"}>
            <div class="inline-error" role="alert">
              <span>{state.error}</span>
              <button type="button" class="link-button" onClick={() => void actions.load()}>
                Try again
              </button>
            </div>
          </Match>
          <Match when={true}>
            <form
              class="card settings-form"
              onSubmit={submit}
              aria-labelledby="email-settings-title"
              data-testid="settings-form"
              novalidate
            >
              <h2 id="email-settings-title" class="card-title">
                <span class="card-title-icon" aria-hidden="true">
                  <MailIcon size={18} />
                </span>
                Email
              </h2>
              <FormMessage kind="error" message={error()} />
              <FormMessage kind="notice" message={done()} />
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
              <div class="settings-actions">
                <button type="submit" class="button primary" disabled={busy()} data-testid="settings-save">
                  {busy() ? "Saving…" : "Save"}
                </button>
              </div>
              <p class="deploy-hint" data-testid="deploy-hint">
                Inbound mail: route this address to the Worker with Cloudflare Email Routing.
              </p>
            </form>
          </Match>
        </Switch>
      </main>
    </div>
  );
}
