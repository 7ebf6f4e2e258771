/**
 * A message that travelled by email: the blue envelope, subject and sender,
 * the text (quoted history trimmed, the full mail on request), attachments,
 * the delivery state of a reply, and the workspace address it came to or
 * went out from under it.
 *
 * Security: mail HTML is never put into the panel's document. "View
 * formatted" shows it only inside `<iframe sandbox="allow-same-origin">`
 * (no script, no navigation, no forms, no popups) whose document starts
 * with a CSP that forbids every load but inline style. The server already
 * sanitised the HTML; the sandbox and the CSP are the second wall in case
 * it missed something.
 *
 * Why allow-same-origin: it lets the panel read the frame's document to
 * size the frame to the mail. Without allow-scripts nothing in the frame can
 * run, so the frame cannot use that origin itself (the dangerous pair is
 * allow-scripts with allow-same-origin, which lets a frame lift its own
 * sandbox; allow-scripts is never given).
 */
import { createSignal, For, Match, onCleanup, Show, Switch, type JSX } from "solid-js";
import type { Delivery, EmailMeta, Message } from "../../../worker/protocol";
import { clockTime, fullTime, mailboxAddress } from "../lib/format";
import { Attachment } from "./attachment";
import { MailIcon } from "./icons";

/**
 * Must come first in the frame's document so it applies before anything else
 * is parsed. (The doctype before it is no element: it only keeps the frame in
 * standards mode, where the page is as tall as its content, not the frame.)
 */
const FRAME_CSP = `<!doctype html><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`;
const FRAME_STYLE =
  "<style>body{margin:12px;font:14px/1.45 system-ui,sans-serif;color:#111827;overflow-wrap:anywhere}img{max-width:100%;height:auto}</style>";
/** The sandbox of the formatted-mail frame: never with allow-scripts (see the header). */
export const FRAME_SANDBOX = "allow-same-origin";
/** Heights a formatted mail's frame takes: its content's, within these (then it scrolls inside), in px. */
const FRAME_MIN_PX = 48;
const FRAME_MAX_PX = 640;

/** The `srcdoc` for a sanitised mail body. */
export function formattedDocument(html: string): string {
  return FRAME_CSP + FRAME_STYLE + html;
}

/**
 * Sizes the frame to its document, up to FRAME_MAX_PX, and again whenever
 * the frame's width changes (the text wraps differently). Reading the
 * document needs allow-same-origin; the frame's own scripts stay off.
 */
function fitToContent(frame: HTMLIFrameElement): () => void {
  const fit = () => {
    const root = frame.contentDocument?.documentElement;
    if (!root) return;
    // The frame's own border is part of its height (border-box), so add it to the page's height.
    const height = Math.ceil(root.getBoundingClientRect().height) + frame.offsetHeight - frame.clientHeight;
    const px = `${Math.min(FRAME_MAX_PX, Math.max(FRAME_MIN_PX, height))}px`;
    if (frame.style.height !== px) frame.style.height = px;
  };
  let width = 0;
  const resized = new ResizeObserver(([entry]) => {
    if (!entry || entry.contentRect.width === width) return;
    width = entry.contentRect.width;
    fit();
  });
  frame.addEventListener("load", fit);
  resized.observe(frame);
  return () => {
    frame.removeEventListener("load", fit);
    resized.disconnect();
  };
}

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
            {(html) => (
              <iframe
                class="email-frame"
                sandbox={FRAME_SANDBOX}
                title={`Formatted email: ${meta()?.subject ?? ""}`}
                ref={(frame) => onCleanup(fitToContent(frame))}
                srcdoc={formattedDocument(html())}
                data-testid="email-frame"
              />
            )}
          </Show>
        </Show>

        <Show when={attachments().length > 0}>
          <div class="email-attachments" data-testid="email-attachments">
            <For each={attachments()}>
              {(f) => <Attachment file={f} conversationId={props.conversationId} onMediaLoad={props.onMediaLoad} />}
            </For>
          </div>
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
        <time dateTime={new Date(m().at).toISOString()} title={fullTime(m().at)}>
          {clockTime(m().at)}
        </time>
        <Show when={m().delivery}>{(d) => <DeliveryState delivery={d()} />}</Show>
      </div>
      <Show when={meta()}>{(e) => <MailboxNote meta={e()} inbound={inbound()} />}</Show>
    </div>
  );
}
