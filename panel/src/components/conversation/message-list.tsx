/**
 * The message log: infinite scroll upwards, scroll kept in place when older
 * pages are prepended, and pinned to the bottom while the operator is there.
 * Pictures show inline, other files as download cards, uploads with progress.
 * Email messages get their own card (`EmailMessage`).
 */
import { createEffect, For, Match, on, onCleanup, onMount, Show, Switch } from "solid-js";
import type { ConversationActions, ConversationStoreState } from "../../stores/conversation-state";
import { MessageItem } from "./message-item";
import { PendingItem, UploadItem } from "./pending-items";

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
