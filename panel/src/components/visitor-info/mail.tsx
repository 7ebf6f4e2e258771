/** Visitor info for email: the workspace address their mail came to, and their other conversations (same address). */
import { For, Match, Show, Switch } from "solid-js";
import type { ConversationSummary, VisitorInfo } from "../../../../worker/protocol";
import { ago, mailboxAddress, STATUS_LABEL } from "../../lib/format";
import { conversationPath } from "../../lib/paths";
import { Time } from "../time";
import { Section } from "./section";

export function MailSection(props: { mail: NonNullable<VisitorInfo["mail"]> }) {
  return (
    <Section title="Email" testId="visitor-mail">
      <dl class="vi-list">
        <dt>Wrote to</dt>
        <dd data-testid="visitor-mailbox" title={props.mail.to}>
          {mailboxAddress(props.mail.to)}
        </dd>
        <dt>Mails</dt>
        <dd data-testid="visitor-mail-count">{props.mail.count}</dd>
        <dt>First</dt>
        <dd>
          <Time at={props.mail.firstAt} as={ago} />
        </dd>
        <Show when={props.mail.unverified > 0}>
          <dt>Sender</dt>
          <dd data-testid="visitor-mail-unverified">
            <span class="tag tag-unverified">Not verified</span>{" "}
            {props.mail.unverified === props.mail.count
              ? "Their mail could not be verified as coming from this address."
              : `${props.mail.unverified} of their mails could not be verified as coming from this address.`}
          </dd>
        </Show>
      </dl>
    </Section>
  );
}

/** The visitor's other conversations (same email address), newest first, each a link. */
export function ThreadsSection(props: { threads: ConversationSummary[] | null }) {
  return (
    <Section
      title="Other conversations"
      testId="visitor-threads"
      aside={
        <Show when={props.threads}>
          {(list) => (
            <span class="count" data-testid="visitor-threads-count">
              {list().length}
            </span>
          )}
        </Show>
      }
    >
      <Switch>
        <Match when={props.threads === null}>
          {/* A status (announced when it appears), its words as hidden text inside it. */}
          <span class="skeleton line" role="status" aria-busy="true">
            <span class="sr-only">Loading other conversations</span>
          </span>
        </Match>
        <Match when={props.threads?.length === 0}>
          <p class="muted small">No other conversations with this address.</p>
        </Match>
        <Match when={props.threads}>
          {(list) => (
            <ul class="vi-threads">
              <For each={list()}>
                {(c) => (
                  <li data-testid="visitor-thread">
                    <a class="vi-thread" href={conversationPath(c.id)}>
                      <span class="vi-thread-preview ellipsis" title={c.preview}>
                        {c.preview || "…"}
                      </span>
                      <span class="vi-thread-meta muted small">
                        <span class={`status-pill status-${c.status}`}>{STATUS_LABEL[c.status]}</span>
                        <Time at={c.lastAt} />
                      </span>
                    </a>
                  </li>
                )}
              </For>
            </ul>
          )}
        </Match>
      </Switch>
    </Section>
  );
}
