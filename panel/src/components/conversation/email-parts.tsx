/**
 * Small pieces of email messages: the envelope badge, a mailbox as text, a
 * reply's delivery state, the address note, the "sender not verified" note
 * and the note on what of a mail is not shown.
 */
import { For, Match, Show, Switch } from "solid-js";
import type { Delivery, EmailMeta, FileRef } from "../../../../worker/protocol";
import { api } from "../../lib/api";
import { fileSize, mailboxAddress } from "../../lib/format";
import { MailIcon, ShieldIcon } from "../icons";

/** The blue envelope that marks email on a message (and in the composer). */
export function EmailBadge() {
  return (
    <span class="email-badge" data-testid="email-badge" role="img" aria-label="Email" title="Email">
      <MailIcon />
    </span>
  );
}

/** "Name <address>", or just the address when there is no name. */
export function mailbox(who: EmailMeta["from"]): string {
  const name = who.name.trim();
  if (!who.address) return name;
  return name && name !== who.address ? `${name} <${who.address}>` : who.address;
}

export function DeliveryState(props: { delivery: Delivery }) {
  return (
    <span
      class="delivery"
      classList={{ failed: props.delivery.state === "failed", sent: props.delivery.state === "sent" }}
      data-testid="delivery-state"
      data-state={props.delivery.state}
      role="status"
    >
      <Switch>
        <Match when={props.delivery.state === "sending"}>Sending…</Match>
        <Match when={props.delivery.state === "sent"}>Sent</Match>
        <Match when={props.delivery.state === "failed"}>Failed: {props.delivery.error || "not delivered"}</Match>
      </Switch>
    </span>
  );
}

/**
 * Under every email message: the address it was received at or sent from,
 * as stored with that message. (Not today's Settings: the address may have
 * changed since.) Nothing is shown until a reply's stored copy arrives.
 */
export function MailboxNote(props: { meta: EmailMeta; inbound: boolean }) {
  const address = () => (props.inbound ? mailboxAddress(props.meta.to) : props.meta.from.address.trim());
  return (
    <Show when={address()}>
      {(a) => (
        <div class="email-address-note" data-testid="email-address-note" title={props.inbound ? props.meta.to : a()}>
          {props.inbound ? "Received at" : "Sent from"} {a()}
        </div>
      )}
    </Show>
  );
}

/**
 * Above the text of a mail whose sender could not be verified: anyone can
 * write someone else's address in From, so the operator reads it as a claim.
 * The reason is visible text, not a tooltip, so it reads on a phone and to a
 * screen reader alike.
 */
export function UnverifiedNote(props: { reason: string }) {
  return (
    <div class="email-unverified" role="note" data-testid="email-unverified">
      <span class="tag tag-unverified">
        <ShieldIcon /> Sender not verified
      </span>
      <p>
        {props.reason} Anyone can put another person's address in From, so this mail was kept in a conversation of its
        own. Check before acting on it.
      </p>
    </div>
  );
}

/** Under a mail not shown in full: what was left out, in words, and the mail as it arrived to download. */
export function CutNote(props: { cut: string[]; original: FileRef | undefined; conversationId: string }) {
  return (
    <div class="email-cut" role="note" data-testid="email-cut">
      <p>Part of this mail is not shown here:</p>
      <ul>
        <For each={props.cut}>{(line) => <li>{line}</li>}</For>
      </ul>
      <Show when={props.original}>
        {(file) => (
          <a
            class="link-button small"
            href={api.fileUrl(props.conversationId, file().id, false)}
            download={file().name}
            data-testid="email-original"
          >
            Download the original mail ({fileSize(file().size)})
          </a>
        )}
      </Show>
    </div>
  );
}
