/**
 * The message log: infinite scroll upwards, scroll kept in place when older
 * pages are prepended, and pinned to the bottom while the operator is there.
 * Pictures show inline, other files as download cards, uploads with progress.
 * Email messages get their own card (`EmailMessage`).
 */
import { createEffect, For, Match, on, onCleanup, onMount, Show, Switch } from "solid-js";
import type { Message, VisitorRef } from "../../../worker/protocol";
import { clockTime, fileSize, fullTime, stars } from "../lib/format";
import type {
  ConversationActions,
  ConversationStoreState,
  PendingMessage,
  PendingUpload,
} from "../stores/conversation";
import { Attachment } from "./attachment";
import { AuthorAvatar } from "./avatar";
import { EmailBadge, EmailMessage } from "./email-message";
import { FileIcon } from "./icons";

/** How close to the bottom still counts as "at the bottom", in px. */
const STICK = 48;

export function MessageList(props: {
  conversationId: string;
  state: ConversationStoreState;
  actions: ConversationActions;
  meId: string;
  /** Called when the newest messages are on screen and the tab is visible. */
  onSeen: () => void;
}) {
  let el!: HTMLDivElement;
  let fromBottom = 0;
  let atBottom = true;

  const record = () => {
    fromBottom = el.scrollHeight - el.scrollTop - el.clientHeight;
    atBottom = fromBottom < STICK;
  };
  const toBottom = () => {
    el.scrollTop = el.scrollHeight;
    record();
  };
  const seen = () => {
    if (atBottom && document.visibilityState === "visible") props.onSeen();
  };
  const fillIfShort = () => {
    // A first page shorter than the window gives nothing to scroll: fetch more.
    if (props.state.hasMore && el.scrollHeight <= el.clientHeight + 40) props.actions.loadOlder();
  };

  const onScroll = () => {
    record();
    if (el.scrollTop < 200) props.actions.loadOlder();
    seen();
  };

  createEffect(
    on(
      () => ({
        first: props.state.messages[0]?.seq ?? 0,
        last: props.state.messages[props.state.messages.length - 1]?.seq ?? 0,
        outbox: props.state.outbox.length,
        uploads: props.state.uploads.length,
      }),
      (now, prev) => {
        if (!prev) toBottom();
        else if (
          now.first !== prev.first &&
          now.last === prev.last &&
          now.outbox === prev.outbox &&
          now.uploads === prev.uploads
        ) {
          // Older page prepended: keep the same distance from the bottom so
          // what the operator was reading stays where it was.
          el.scrollTop = el.scrollHeight - el.clientHeight - fromBottom;
          record();
        } else if (atBottom || now.outbox > prev.outbox || now.uploads > prev.uploads) toBottom();
        else record();
        fillIfShort();
        seen();
      },
    ),
  );

  onMount(() => {
    const ro = new ResizeObserver(() => {
      if (atBottom) toBottom();
      else record();
    });
    ro.observe(el);
    const onVisible = () => seen();
    document.addEventListener("visibilitychange", onVisible);
    window.addEventListener("focus", onVisible);
    onCleanup(() => {
      ro.disconnect();
      document.removeEventListener("visibilitychange", onVisible);
      window.removeEventListener("focus", onVisible);
    });
  });

  // Pictures have no known size until they load, so the log grows under the
  // operator's feet: stay pinned at the bottom, and when the picture is above
  // what is being read (an older page), keep the reading in place.
  const onMediaLoad = (img: HTMLImageElement) => {
    if (atBottom) toBottom();
    else if (img.getBoundingClientRect().bottom <= el.getBoundingClientRect().top) {
      el.scrollTop = el.scrollHeight - el.clientHeight - fromBottom;
      record();
    } else record();
  };

  const dayOf = (at: number) => new Date(at).toDateString();

  return (
    <div class="messages" ref={el} onScroll={onScroll} tabIndex={0} role="region" aria-label="Messages">
      <div class="messages-top">
        <Switch>
          <Match when={props.state.loadingOlder}>
            <span class="muted small">Loading earlier messages…</span>
          </Match>
          <Match when={props.state.hasMore}>
            <button type="button" class="link-button small" onClick={() => props.actions.loadOlder()}>
              Load earlier messages
            </button>
          </Match>
          <Match when={props.state.phase === "ready" && props.state.messages.length > 0}>
            <span class="muted small">Start of conversation</span>
          </Match>
        </Switch>
      </div>
      <For each={props.state.messages}>
        {(m, i) => {
          const prev = () => props.state.messages[i() - 1];
          const newDay = () => !prev() || dayOf(prev()!.at) !== dayOf(m.at);
          const sameRun = () => {
            const p = prev();
            return (
              !!p &&
              !newDay() &&
              p.kind !== "event" &&
              p.channel !== "email" &&
              m.channel !== "email" &&
              p.author.role === m.author.role &&
              p.author.id === m.author.id &&
              m.at - p.at < 5 * 60_000
            );
          };
          return (
            <>
              <Show when={newDay()}>
                <div class="day-divider" role="separator">
                  <span>
                    {new Date(m.at).toLocaleDateString(undefined, { weekday: "long", day: "numeric", month: "long" })}
                  </span>
                </div>
              </Show>
              <MessageItem
                m={m}
                meId={props.meId}
                conversationId={props.conversationId}
                showAuthor={!sameRun()}
                visitor={props.state.conversation?.visitor}
                onMediaLoad={onMediaLoad}
              />
            </>
          );
        }}
      </For>
      <For each={props.state.outbox}>{(p) => <PendingItem p={p} actions={props.actions} />}</For>
      <For each={props.state.uploads}>{(u) => <UploadItem u={u} actions={props.actions} />}</For>
      <Show
        when={
          props.state.phase === "ready" &&
          props.state.messages.length === 0 &&
          props.state.outbox.length === 0 &&
          props.state.uploads.length === 0
        }
      >
        <p class="empty center">No messages yet</p>
      </Show>
    </div>
  );
}

function eventText(m: Message): string {
  if (m.text.trim()) return m.text;
  if (m.event === "rated" && m.rating) return `Rated ${m.rating}/5`;
  const who = m.author.name || "An operator";
  return m.event === "left" ? `${who} left` : `${who} joined`;
}

/** The visitor's survey answer, 1–5, if this is a valid "rated" event. */
function ratingOf(m: Message): number | null {
  return m.event === "rated" && typeof m.rating === "number" && m.rating >= 1 && m.rating <= 5 ? m.rating : null;
}

function MessageItem(props: {
  m: Message;
  meId: string;
  conversationId: string;
  /** First of a group of messages by one author: name and avatar go beside it. */
  showAuthor: boolean;
  visitor: VisitorRef | undefined;
  onMediaLoad: (img: HTMLImageElement) => void;
}) {
  const m = () => props.m;
  const avatar = () => (props.showAuthor ? <AuthorAvatar author={m().author} visitor={props.visitor} /> : undefined);
  const file = () => (m().kind === "file" ? m().file : undefined);
  return (
    <Switch
      fallback={
        <div
          class="event"
          classList={{ "event-rated": ratingOf(m()) !== null }}
          data-testid="message"
          data-seq={m().seq}
          data-role={m().author.role}
          data-kind="event"
          data-event={m().event}
        >
          <Show when={ratingOf(m())}>
            {/* The text says "Rated 4/5" already: the stars are for the eye only. */}
            {(r) => (
              <span class="event-stars" aria-hidden="true" data-testid="rating-stars">
                {stars(r())}
              </span>
            )}
          </Show>
          <span>{eventText(m())}</span>
          <time dateTime={new Date(m().at).toISOString()} title={fullTime(m().at)}>
            {clockTime(m().at)}
          </time>
        </div>
      }
    >
      <Match when={m().kind !== "event" && m().channel === "email"}>
        <EmailMessage
          m={m()}
          meId={props.meId}
          conversationId={props.conversationId}
          showAuthor={props.showAuthor}
          avatar={avatar()}
          onMediaLoad={props.onMediaLoad}
        />
      </Match>
      <Match when={m().kind !== "event"}>
        <div
          class="msg"
          classList={{
            "msg-visitor": m().author.role === "visitor",
            "msg-operator": m().author.role !== "visitor",
            "msg-own": m().author.id === props.meId,
            "msg-run": !props.showAuthor,
          }}
          data-testid="message"
          data-seq={m().seq}
          data-role={m().author.role}
          data-status="sent"
          data-kind={file() ? "file" : "text"}
        >
          {avatar()}
          <Show when={props.showAuthor && m().author.role !== "visitor"}>
            <div class="msg-author">{m().author.id === props.meId ? `${m().author.name} (you)` : m().author.name}</div>
          </Show>
          <Show when={file()} fallback={<div class="bubble">{m().text}</div>}>
            {(f) => (
              <div class="bubble bubble-file">
                <Attachment
                  file={f()}
                  conversationId={props.conversationId}
                  onMediaLoad={(img) => props.onMediaLoad(img)}
                />
              </div>
            )}
          </Show>
          <div class="msg-meta">
            <time dateTime={new Date(m().at).toISOString()} title={fullTime(m().at)}>
              {clockTime(m().at)}
            </time>
          </div>
        </div>
      </Match>
    </Switch>
  );
}

function PendingItem(props: { p: PendingMessage; actions: ConversationActions }) {
  return (
    <div
      class="msg msg-operator msg-own msg-pending"
      classList={{ "msg-failed": props.p.status === "failed" }}
      data-testid="message"
      data-role="operator"
      data-status={props.p.status}
      data-client-id={props.p.clientId}
      data-channel={props.p.channel}
    >
      <div class="bubble">{props.p.text}</div>
      <div class="msg-meta">
        <Show when={props.p.channel === "email"}>
          <EmailBadge />
        </Show>
        <Show when={props.p.status === "failed"} fallback={<span>Sending…</span>}>
          <span class="error-text">Not sent{props.p.error ? `: ${props.p.error}` : ""}</span>
          <button type="button" class="link-button" onClick={() => props.actions.retry(props.p.clientId)}>
            Retry
          </button>
          <button type="button" class="link-button" onClick={() => props.actions.discard(props.p.clientId)}>
            Discard
          </button>
        </Show>
      </div>
    </div>
  );
}

function UploadItem(props: { u: PendingUpload; actions: ConversationActions }) {
  const status = () => {
    if (props.u.status === "queued") return "Waiting…";
    return props.u.percent < 100 ? `Uploading… ${props.u.percent}%` : "Processing…";
  };
  return (
    <div
      class="msg msg-operator msg-own msg-pending msg-upload"
      data-testid="message"
      data-role="operator"
      data-status="uploading"
      data-kind="file"
      data-client-id={props.u.clientId}
      data-channel={props.u.channel}
    >
      <div class="bubble upload-bubble">
        <div class="upload-name">
          <FileIcon />
          <span class="upload-text">
            <span class="file-card-name" title={props.u.name}>
              {props.u.name}
            </span>
            <span class="file-card-meta">{fileSize(props.u.size)}</span>
          </span>
        </div>
        <div
          class="progress"
          role="progressbar"
          data-testid="upload-progress"
          aria-label={`Uploading ${props.u.name}`}
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={props.u.percent}
        >
          <div class="progress-fill" style={{ width: `${props.u.percent}%` }} />
        </div>
      </div>
      <div class="msg-meta">
        <Show when={props.u.channel === "email"}>
          <EmailBadge />
        </Show>
        <span>{status()}</span>
        <button type="button" class="link-button" onClick={() => props.actions.cancelUpload(props.u.clientId)}>
          Cancel
        </button>
      </div>
    </div>
  );
}
