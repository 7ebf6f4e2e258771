/** Visitor info > Visitor: online or last seen, verified or not, and the name, email and id (name and email editable). */
import { createSignal, Match, Show, Switch } from "solid-js";
import type { VisitorInfo } from "../../../../worker/protocol";
import { createAction } from "../../lib/async";
import { ago } from "../../lib/format";
import { Field, FormMessage } from "../field";
import { Section } from "./section";

export function IdentitySection(props: {
  info: VisitorInfo;
  verified: boolean | undefined;
  /** null: not known now (the conversation's socket is reconnecting). */
  online: boolean | null;
  onSave: (input: { name: string | null; email: string | null }) => Promise<void>;
}) {
  const [editing, setEditing] = createSignal(false);
  const [name, setName] = createSignal("");
  const [email, setEmail] = createSignal("");
  let editButton: HTMLButtonElement | undefined;
  let nameInput: HTMLInputElement | undefined;

  const open = () => {
    setName(props.info.name ?? "");
    setEmail(props.info.email ?? "");
    save.setError(null);
    setEditing(true);
    queueMicrotask(() => nameInput?.focus());
  };
  const close = () => {
    setEditing(false);
    queueMicrotask(() => editButton?.focus());
  };
  // An emptied field clears the value.
  const save = createAction(async () => {
    await props.onSave({ name: name().trim() || null, email: email().trim() || null });
    close();
  });

  return (
    <Section
      title="Visitor"
      testId="visitor-identity"
      aside={
        <Show when={!editing()}>
          <button
            type="button"
            class="link-button small"
            ref={editButton}
            onClick={open}
            aria-label="Edit the visitor's name and email"
            data-testid="visitor-edit"
          >
            Edit
          </button>
        </Show>
      }
    >
      <p class="vi-presence" data-testid="visitor-presence">
        <Switch
          fallback={
            <span class="presence">{props.info.lastSeen ? `Last seen ${ago(props.info.lastSeen)}` : "Offline"}</span>
          }
        >
          <Match when={props.online}>
            <span class="presence online">Online now</span>
          </Match>
          <Match when={props.online === null}>
            <span class="presence unknown">Not known while reconnecting</span>
          </Match>
          <Match when={!props.info.web && props.info.mail}>
            {(mail) => <span>Writes by email · last mail {ago(mail().lastAt)}</span>}
          </Match>
        </Switch>
        <Show when={props.verified !== undefined}>
          <span
            class="tag"
            classList={{ "tag-ok": props.verified === true, "tag-warn": props.verified === false }}
            data-testid="visitor-verified"
            title={
              props.verified
                ? "The site vouched for this identity (signed with the identity secret)."
                : "The site gave this name without a valid signature: it may not be who they say."
            }
          >
            {props.verified ? "Verified" : "Unverified"}
          </span>
        </Show>
      </p>
      <Show
        when={editing()}
        fallback={
          <dl class="vi-list">
            <dt>Name</dt>
            <dd>{props.info.name || <span class="muted">Not given</span>}</dd>
            <dt>Email</dt>
            <dd class="vi-break">{props.info.email || <span class="muted">Not given</span>}</dd>
            <dt>ID</dt>
            <dd class="vi-mono vi-break" data-testid="visitor-id">
              {props.info.id}
            </dd>
          </dl>
        }
      >
        <form
          class="vi-edit"
          onSubmit={(e) => {
            e.preventDefault();
            void save.run();
          }}
          novalidate
          data-testid="visitor-edit-form"
        >
          <FormMessage kind="error" message={save.error()} />
          <Field
            label="Name"
            ref={nameInput}
            name="name"
            autocomplete="off"
            maxLength={80}
            value={name()}
            onValue={setName}
          />
          <Field
            label="Email"
            name="email"
            type="email"
            autocomplete="off"
            maxLength={254}
            value={email()}
            onValue={setEmail}
          />
          <p class="muted small">Leave a field empty to clear it.</p>
          <div class="vi-edit-actions">
            <button type="submit" class="button primary small" disabled={save.busy()}>
              {save.busy() ? "Saving…" : "Save"}
            </button>
            <button type="button" class="button secondary small" disabled={save.busy()} onClick={close}>
              Cancel
            </button>
          </div>
        </form>
      </Show>
    </Section>
  );
}
