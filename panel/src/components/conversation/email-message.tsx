/**
 * A message that travelled by email: the blue envelope, subject and sender,
 * the text (quoted history trimmed, the full mail on request), attachments,
 * the delivery state of a reply, and the workspace address it came to or
 * went out from under it. "View formatted" shows the mail's HTML only in a
 * sandboxed frame (email-frame.tsx says why that is safe). A mail whose
 * sender could not be verified says so above its text, and a mail not shown
 * in full says what was left out, with the original to download.
 */
import { createSignal, For, Show, type JSX } from "solid-js";
import type { EmailMeta, Message } from "../../../../worker/protocol";
import { clockTime } from "../../lib/format";
import { Time } from "../time";
import { Attachment } from "./attachment";
import { EmailFrame } from "./email-frame";
import { CutNote, DeliveryState, EmailBadge, mailbox, MailboxNote, UnverifiedNote } from "./email-parts";

export function EmailMessage(props: {
  m: Message;
  meId: string;
  conversationId: string;
  showAuthor: boolean;
  /** The author's avatar, beside the first message of a group. */
  avatar?: JSX.Element;
  onMediaLoad: (img: HTMLImageElement) => void;
}) {
  const m = () => props.m;
  const meta = (): EmailMeta | undefined => m().email;
  const inbound = () => m().author.role === "visitor";
  const [full, setFull] = createSignal(false);
  const [formatted, setFormatted] = createSignal(false);
  const hasFull = () => {
    const t = meta()?.fullText;
    return !!t && t.trim() !== m().text.trim();
  };
  const body = () => (full() && hasFull() ? meta()!.fullText! : m().text);
  const skipped = () => meta()?.skipped ?? [];
  const attachments = () => meta()?.attachments ?? [];
  const uid = () => `mail-${props.conversationId}-${m().seq}`;

  return (
    <div
      class="msg msg-email"
      classList={{
        "msg-visitor": inbound(),
        "msg-operator": !inbound(),
        "msg-own": m().author.id === props.meId,
      }}
      data-testid="message"
      data-seq={m().seq}
      data-role={m().author.role}
      data-status="sent"
      data-kind={m().kind === "file" ? "file" : "text"}
      data-channel="email"
    >
      {props.avatar}
      <Show when={props.showAuthor && !inbound()}>
        <div class="msg-author">{m().author.id === props.meId ? `${m().author.name} (you)` : m().author.name}</div>
      </Show>
      <div class="bubble bubble-email">
        <div class="email-head">
          <EmailBadge />
          <div class="email-head-text">
            <div class="email-subject" data-testid="email-subject">
              {meta()?.subject || "(no subject)"}
            </div>
            <Show when={meta()}>
              {(e) => (
                <div class="email-from" data-testid="email-from">
                  <Show when={inbound()} fallback={<>To {e().to}</>}>
                    {mailbox(e().from)}
                  </Show>
                </div>
              )}
            </Show>
          </div>
          <Show when={meta()?.auto}>
            <span class="tag tag-auto" data-testid="email-auto" title="Sent automatically (auto-reply, bounce or list)">
              Auto-reply
            </span>
          </Show>
        </div>
        <Show when={inbound() && meta()?.unverified}>{(reason) => <UnverifiedNote reason={reason()} />}</Show>

        <Show when={m().kind === "file" && m().file}>
          {(f) => (
            <div class="email-attachments">
              <Attachment file={f()} conversationId={props.conversationId} onMediaLoad={props.onMediaLoad} />
            </div>
          )}
        </Show>
        <Show when={m().kind !== "file"}>
          <Show
            when={formatted() && meta()?.html}
            fallback={
              <div class="email-body" id={`${uid()}-body`} data-testid="email-body">
                {body()}
              </div>
            }
          >
            {(html) => <EmailFrame html={html()} subject={meta()?.subject ?? ""} />}
          </Show>
        </Show>

        <Show when={attachments().length > 0}>
          <div class="email-attachments" data-testid="email-attachments">
            <For each={attachments()}>
              {(f) => <Attachment file={f} conversationId={props.conversationId} onMediaLoad={props.onMediaLoad} />}
            </For>
          </div>
        </Show>
        <Show when={meta()?.cut}>
          {(cut) => <CutNote cut={cut()} original={meta()?.original} conversationId={props.conversationId} />}
        </Show>
        <Show when={skipped().length > 0}>
          <p class="email-skipped" data-testid="email-skipped">
            {skipped().length} {skipped().length === 1 ? "attachment" : "attachments"} not stored:{" "}
            {skipped().join(", ")}
          </p>
        </Show>
        <Show when={hasFull() || meta()?.html}>
          <div class="email-actions">
            <Show when={hasFull() && !formatted()}>
              <button
                type="button"
                class="link-button small"
                aria-expanded={full()}
                aria-controls={`${uid()}-body`}
                data-testid="email-full-toggle"
                onClick={() => setFull(!full())}
              >
                {full() ? "Hide full message" : "Show full message"}
              </button>
            </Show>
            <Show when={meta()?.html}>
              <button
                type="button"
                class="link-button small"
                aria-pressed={formatted()}
                data-testid="email-formatted-toggle"
                onClick={() => setFormatted(!formatted())}
              >
                {formatted() ? "View as text" : "View formatted"}
              </button>
            </Show>
          </div>
        </Show>
      </div>
      <div class="msg-meta">
        <Time at={m().at} as={clockTime} />
        <Show when={m().delivery}>{(d) => <DeliveryState delivery={d()} />}</Show>
      </div>
      <Show when={meta()}>{(e) => <MailboxNote meta={e()} inbound={inbound()} />}</Show>
    </div>
  );
}
