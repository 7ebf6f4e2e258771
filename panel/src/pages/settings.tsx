/**
 * Settings (admins): the workspace mailbox that email replies come from, how
 * long conversations are kept, and erasing one person's data on request.
 */
import { createEffect, createSignal, Match, on, Show, Switch } from "solid-js";
import { api, errorText } from "../lib/api";
import { ConfirmDialog } from "../components/dialog";
import { Field, FormMessage } from "../components/field";
import { ClockIcon, MailIcon, ShieldIcon, TrashIcon } from "../components/icons";
import { useSettings } from "../stores/settings";

/** Mirrors the server's limit on retentionDays. */
const MAX_RETENTION_DAYS = 3650;

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
          <p class="muted">How this workspace answers by email and how long it keeps what visitors send.</p>
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
            <RetentionForm />
            <ErasureForm />
          </Match>
        </Switch>
      </main>
    </div>
  );
}

/** Data retention: delete conversations inactive for N days; 0 keeps them forever. */
function RetentionForm() {
  const [state, actions] = useSettings();
  const [days, setDays] = createSignal("0");
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal<string | null>(null);
  const [done, setDone] = createSignal<string | null>(null);

  createEffect(
    on(
      () => state.settings?.retentionDays,
      (d) => {
        if (d !== undefined) setDays(String(d));
      },
    ),
  );

  const describe = (d: number) =>
    d === 0
      ? "Conversations are kept forever."
      : `Conversations with no activity for ${d} ${d === 1 ? "day" : "days"} are deleted for good.`;

  const submit = async (e: SubmitEvent) => {
    e.preventDefault();
    if (busy()) return;
    setDone(null);
    const text = days().trim();
    const n = Number(text);
    if (!/^\d+$/.test(text) || n > MAX_RETENTION_DAYS) {
      return setError(`Enter a whole number of days from 0 (keep forever) to ${MAX_RETENTION_DAYS}.`);
    }
    setError(null);
    setBusy(true);
    try {
      const saved = await actions.save({ retentionDays: n });
      setDone(`Saved. ${describe(saved.retentionDays)}`);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      class="card settings-form"
      onSubmit={submit}
      aria-labelledby="retention-title"
      data-testid="retention-form"
      novalidate
    >
      <h2 id="retention-title" class="card-title">
        <span class="card-title-icon" aria-hidden="true">
          <ClockIcon />
        </span>
        Data retention
      </h2>
      <FormMessage kind="error" message={error()} />
      <FormMessage kind="notice" message={done()} />
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
      <div class="settings-actions">
        <button type="submit" class="button primary" disabled={busy()} data-testid="retention-save">
          {busy() ? "Saving…" : "Save"}
        </button>
      </div>
    </form>
  );
}

/** Privacy erasure: delete every conversation of one person, found by email or visitor id. */
function ErasureForm() {
  const [target, setTarget] = createSignal("");
  const [confirming, setConfirming] = createSignal(false);
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal<string | null>(null);
  const [dialogError, setDialogError] = createSignal<string | null>(null);
  const [done, setDone] = createSignal<string | null>(null);

  const who = () => target().trim();

  const submit = (e: SubmitEvent) => {
    e.preventDefault();
    setDone(null);
    if (!who()) return setError("Enter the person's email address or visitor id.");
    setError(null);
    setDialogError(null);
    setConfirming(true);
  };

  const erase = async () => {
    if (busy()) return;
    setBusy(true);
    setDialogError(null);
    try {
      // An address has an @; anything else is taken as a visitor id. The server checks both.
      const value = who();
      const { deleted } = await api.erase(value.includes("@") ? { email: value } : { visitorId: value });
      setConfirming(false);
      setTarget("");
      setDone(`Deleted ${deleted} ${deleted === 1 ? "conversation" : "conversations"} of ${value}.`);
    } catch (err) {
      setDialogError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      class="card settings-form"
      onSubmit={submit}
      aria-labelledby="erasure-title"
      data-testid="erasure-form"
      novalidate
    >
      <h2 id="erasure-title" class="card-title">
        <span class="card-title-icon danger" aria-hidden="true">
          <ShieldIcon />
        </span>
        Privacy erasure
      </h2>
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
        open={confirming()}
        title="Erase all data of this person?"
        danger
        confirmLabel="Erase all data"
        busyLabel="Erasing…"
        busy={busy()}
        error={dialogError()}
        confirmTestId="confirm-erasure"
        testId="erasure-dialog"
        onConfirm={() => void erase()}
        onCancel={() => setConfirming(false)}
      >
        <p>
          Every conversation of <strong>{who()}</strong> is deleted for good, with its messages, files and visitor
          details. This cannot be undone.
        </p>
      </ConfirmDialog>
    </form>
  );
}
