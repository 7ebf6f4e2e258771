/**
 * The message log: infinite scroll upwards, scroll kept in place when older
 * pages are prepended, and pinned to the bottom while the operator is there.
 */
import { createEffect, For, Match, on, onCleanup, onMount, Show, Switch } from "solid-js";
import type { Message } from "../../../worker/protocol";
import { clockTime, fullTime } from "../lib/format";
import type { ConversationActions, ConversationStoreState, PendingMessage } from "../stores/conversation";

/** How close to the bottom still counts as "at the bottom", in px. */
const STICK = 48;

export function MessageList(props: {
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
      }),
      (now, prev) => {
        if (!prev) toBottom();
        else if (now.first !== prev.first && now.last === prev.last && now.outbox === prev.outbox) {
          // Older page prepended: keep the same distance from the bottom so
          // what the operator was reading stays where it was.
          el.scrollTop = el.scrollHeight - el.clientHeight - fromBottom;
          record();
        } else if (atBottom || now.outbox > prev.outbox) toBottom();
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

  const dayOf = (at: number) => new Date(at).toDateString();

  return (
    <div class="messages" ref={el} onScroll={onScroll} tabIndex={0} aria-label="Messages">
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
              p.kind === "text" &&
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
              <MessageItem m={m} meId={props.meId} showAuthor={!sameRun()} />
            </>
          );
        }}
      </For>
      <For each={props.state.outbox}>{(p) => <PendingItem p={p} actions={props.actions} />}</For>
      <Show
        when={props.state.phase === "ready" && props.state.messages.length === 0 && props.state.outbox.length === 0}
      >
        <p class="empty center">No messages yet</p>
      </Show>
    </div>
  );
}

function eventText(m: Message): string {
  if (m.text.trim()) return m.text;
  const who = m.author.name || "An operator";
  return m.event === "left" ? `${who} left` : `${who} joined`;
}

function MessageItem(props: { m: Message; meId: string; showAuthor: boolean }) {
  const m = () => props.m;
  return (
    <Show
      when={m().kind === "text"}
      fallback={
        <div class="event" data-testid="message" data-seq={m().seq} data-role={m().author.role} data-kind="event">
          <span>{eventText(m())}</span>
          <time dateTime={new Date(m().at).toISOString()} title={fullTime(m().at)}>
            {clockTime(m().at)}
          </time>
        </div>
      }
    >
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
      >
        <Show when={props.showAuthor && m().author.role !== "visitor"}>
          <div class="msg-author">{m().author.id === props.meId ? `${m().author.name} (you)` : m().author.name}</div>
        </Show>
        <div class="bubble">{m().text}</div>
        <div class="msg-meta">
          <time dateTime={new Date(m().at).toISOString()} title={fullTime(m().at)}>
            {clockTime(m().at)}
          </time>
        </div>
      </div>
    </Show>
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
    >
      <div class="bubble">{props.p.text}</div>
      <div class="msg-meta">
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
