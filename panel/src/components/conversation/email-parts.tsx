/** Small pieces of email messages: the envelope badge, a mailbox as text, a reply's delivery state, the address note. */
import { Match, Show, Switch } from "solid-js";
import type { Delivery, EmailMeta } from "../../../../worker/protocol";
import { mailboxAddress } from "../../lib/format";
import { MailIcon } from "../icons";

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
