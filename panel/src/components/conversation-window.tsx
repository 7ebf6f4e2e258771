/**
 * The right pane: header (visitor, status, Join / Leave Conversation,
 * Delete), the message log and the composer. Owns one conversation socket while mounted.
 * Files dropped anywhere on it are sent (once joined), on the reply channel
 * chosen in the composer.
 */
import { createEffect, createMemo, createSignal, Match, on, onCleanup, onMount, Show, Switch } from "solid-js";
import type { Channel, ConversationState, ConversationSummary, Operator, VisitorRef } from "../../../worker/protocol";
import { errorText } from "../lib/api";
import { STATUS_LABEL, visitorName } from "../lib/format";
import { createMediaQuery } from "../lib/media";
import { createConversation } from "../stores/conversation";
import { liveRow, type LiveRow } from "../stores/live-row";
import { useNotifications } from "../stores/notifications";
import { VisitorAvatar } from "./avatar";
import { Composer } from "./composer";
import { ConfirmDialog } from "./dialog";
import { BackIcon, CloseIcon, InfoIcon, TrashIcon, UploadIcon } from "./icons";
import { MessageList } from "./message-list";
import { VisitorInfoPanel } from "./visitor-info";

// The channel an operator picked by hand, per conversation; it outlives
// switching conversations (like drafts), not reloads.
const pickedChannel = new Map<string, Channel>();

export function ConversationWindow(props: {
  id: string;
  me: Operator;
  /** The list row for this conversation, if loaded: shown until the socket answers. */
  summary: ConversationSummary | undefined;
  onBack: () => void;
  /** The conversation was deleted, by this operator or another: close it. Called once. */
  onDeleted: () => void;
  onConnection: (down: boolean) => void;
  onRepeatedFailure: () => void;
  /** What this conversation's socket knows about its list row, at once (null when closed). */
  onLive: (row: LiveRow | null) => void;
}) {
  const alerts = useNotifications()?.[1];
  // Keyed <Show> remounts this component per id, so the store is per conversation.
  const [state, actions] = createConversation(props.id, props.me, {
    onRepeatedFailure: props.onRepeatedFailure,
    // Joined and the tab hidden: the operator hears of it (the notifier checks both).
    onVisitorMessage: (m) => {
      if (joined() && state.conversation)
        alerts?.visitorMessage({
          id: props.id,
          name: visitorName(state.conversation.visitor),
          text: m.kind === "file" ? `Sent a file: ${m.text}` : m.text,
        });
    },
  });
  onCleanup(() => {
    actions.dispose();
    props.onConnection(false);
    props.onLive(null);
  });
  // The list row follows what this socket sees (new messages, replies, reads) without waiting for the index.
  createEffect(() => {
    if (state.phase !== "ready") return;
    const row = liveRow(state.messages, state.readSeq, state.hasMore);
    if (row) props.onLive(row);
  });

  createEffect(() =>
    props.onConnection(state.phase !== "gone" && state.phase !== "deleted" && state.connection === "reconnecting"),
  );
  createEffect(
    on(
      () => state.phase === "deleted",
      (deleted) => deleted && props.onDeleted(),
    ),
  );

  const [confirmDelete, setConfirmDelete] = createSignal(false);
  const [deleteError, setDeleteError] = createSignal<string | null>(null);
  const remove = async () => {
    setDeleteError(null);
    try {
      await actions.remove();
    } catch (e) {
      setDeleteError(errorText(e));
    }
  };

  const joined = () => state.conversation?.operators.some((o) => o.id === props.me.id) ?? false;
  // Joining makes this operator responsible: what is on screen now counts as read.
  createEffect(on(joined, (j) => j && document.visibilityState === "visible" && actions.markRead()));
  // Leaving removes the Leave button that had the keyboard focus: JOIN, which takes its
  // place, gets it rather than the page (only when focus was lost, never taken from elsewhere).
  let joinButton: HTMLButtonElement | undefined;
  const leave = async () => {
    await actions.leave();
    const lost = !document.activeElement || document.activeElement === document.body;
    if (!joined() && lost) joinButton?.focus();
  };

  // Reply channel: Email while the visitor is away and has an address (the
  // answer would otherwise wait unseen in a closed widget), Chat otherwise.
  // Recomputed as the visitor comes and goes, unless the operator picked one.
  const visitorEmail = () => state.conversation?.visitor.email ?? null;
  const [picked, setPicked] = createSignal<Channel | undefined>(pickedChannel.get(props.id));
  const channel = createMemo<Channel>(() => {
    const c = state.conversation;
    const wanted = picked() ?? (c && !c.visitorOnline && c.visitor.email ? "email" : "chat");
    return wanted === "email" && !visitorEmail() ? "chat" : wanted;
  });
  const pick = (c: Channel) => {
    pickedChannel.set(props.id, c);
    setPicked(c);
  };

  // Drag and drop. dragenter/dragleave fire for every child crossed, so count them.
  const [dragging, setDragging] = createSignal(false);
  let dragDepth = 0;
  const hasFiles = (e: DragEvent) => e.dataTransfer?.types.includes("Files") ?? false;
  const canDrop = () => state.phase === "ready" && joined();
  const onDragEnter = (e: DragEvent) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    dragDepth++;
    setDragging(true);
  };
  const onDragOver = (e: DragEvent) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    if (e.dataTransfer) e.dataTransfer.dropEffect = canDrop() ? "copy" : "none";
  };
  const onDragLeave = (e: DragEvent) => {
    if (!hasFiles(e)) return;
    dragDepth = Math.max(0, dragDepth - 1);
    if (dragDepth === 0) setDragging(false);
  };
  const onDrop = (e: DragEvent) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    dragDepth = 0;
    setDragging(false);
    const files = Array.from(e.dataTransfer?.files ?? []);
    if (canDrop() && files.length) actions.upload(files, channel());
  };
  // A file dropped a little outside the window would make the browser open
  // it in place of the panel: refuse drops everywhere else while this is open.
  onMount(() => {
    const guard = (e: DragEvent) => {
      if (hasFiles(e)) e.preventDefault();
    };
    window.addEventListener("dragover", guard);
    window.addEventListener("drop", guard);
    onCleanup(() => {
      window.removeEventListener("dragover", guard);
      window.removeEventListener("drop", guard);
    });
  });

  const visitor = (): VisitorRef | null => state.conversation?.visitor ?? props.summary?.visitor ?? null;

  // Visitor info: a column beside the messages on wide screens, a drawer opened with a button otherwise.
  const wide = createMediaQuery("(min-width: 1100px)");
  const [drawer, setDrawer] = createSignal(false);
  const infoShown = () => state.phase !== "gone" && (wide() || drawer());
  const infoId = `visitor-info-${props.id}`;
  let infoToggle: HTMLButtonElement | undefined;
  let infoAside: HTMLElement | undefined;
  const closeDrawer = () => {
    setDrawer(false);
    infoToggle?.focus();
  };
  createEffect(
    on(drawer, (open) => {
      if (open && !wide()) queueMicrotask(() => infoAside?.focus());
    }),
  );

  return (
    <div class="window-layout" classList={{ "info-column": wide(), "info-drawer": !wide() && drawer() }}>
      <div
        class="window"
        role="region"
        aria-label="Conversation"
        onDragEnter={onDragEnter}
        onDragOver={onDragOver}
        onDragLeave={onDragLeave}
        onDrop={onDrop}
      >
        <Show when={visitor()} fallback={<WindowHeaderSkeleton onBack={props.onBack} />}>
          {(v) => (
            <header class="window-header" data-testid="conversation-header">
              <button
                type="button"
                class="icon-button back"
                aria-label="Back to conversations"
                onClick={() => props.onBack()}
              >
                <BackIcon />
              </button>
              <VisitorAvatar visitor={v()} size="lg" online={state.conversation?.visitorOnline} />
              <div class="window-title">
                <div class="window-name-line">
                  <h2 class="window-name" title={visitorName(v())}>
                    {visitorName(v())}
                  </h2>
                  <Show when={state.conversation && joined()}>
                    <button
                      type="button"
                      class="button secondary small"
                      data-testid="leave-button"
                      disabled={state.busy}
                      onClick={() => void leave()}
                    >
                      Leave<span class="button-label"> Conversation</span>
                    </button>
                  </Show>
                </div>
                <StatusLine state={state.conversation} summary={props.summary} visitor={v()} meId={props.me.id} />
              </div>
              <div class="window-actions">
                <Show when={!wide() && state.phase !== "gone"}>
                  <button
                    type="button"
                    class="button secondary visitor-info-toggle"
                    ref={infoToggle}
                    aria-expanded={drawer()}
                    aria-controls={infoId}
                    aria-label="Visitor info"
                    title="Visitor info"
                    data-testid="visitor-info-toggle"
                    onClick={() => (drawer() ? closeDrawer() : setDrawer(true))}
                  >
                    <InfoIcon />
                    <span class="visitor-info-toggle-label">Visitor info</span>
                  </button>
                </Show>
                <Show when={state.conversation && !joined()}>
                  <button
                    type="button"
                    class="button primary join"
                    ref={joinButton}
                    data-testid="join-button"
                    disabled={state.busy}
                    onClick={() => void actions.join()}
                  >
                    {state.busy && !confirmDelete() ? "Joining…" : "Join"}
                  </button>
                </Show>
                <Show when={state.phase === "ready"}>
                  <button
                    type="button"
                    class="button danger-ghost"
                    data-testid="delete-conversation"
                    disabled={state.busy}
                    onClick={() => {
                      setDeleteError(null);
                      setConfirmDelete(true);
                    }}
                  >
                    <TrashIcon />
                    <span class="button-label">Delete</span>
                  </button>
                </Show>
              </div>
            </header>
          )}
        </Show>

        <Switch>
          <Match when={state.phase === "gone"}>
            <div class="window-empty">
              <p>This conversation no longer exists.</p>
            </div>
          </Match>
          <Match when={state.phase === "loading"}>
            <div class="window-empty" aria-busy="true">
              <span class="spinner" aria-hidden="true" />
              <p class="muted">Loading conversation…</p>
            </div>
          </Match>
          <Match when={true}>
            <MessageList
              conversationId={props.id}
              state={state}
              actions={actions}
              meId={props.me.id}
              onSeen={() => actions.markRead()}
            />
            <div class="sr-only" aria-live="polite" aria-atomic="true">
              {state.announcement}
            </div>
            <Show when={state.error}>
              <div class="inline-error" role="alert" data-testid="conversation-error">
                <span>{state.error}</span>
                <button
                  type="button"
                  class="icon-button"
                  aria-label="Dismiss error"
                  onClick={() => actions.dismissError()}
                >
                  <CloseIcon />
                </button>
              </div>
            </Show>
            <Show
              when={joined()}
              fallback={
                <div class="join-hint" data-testid="join-hint">
                  Join to reply
                </div>
              }
            >
              <Composer
                conversationId={props.id}
                channel={channel()}
                onChannel={pick}
                emailTo={visitorEmail()}
                onSend={(t) => actions.send(t, channel())}
                onFiles={(files) => actions.upload(files, channel())}
              />
            </Show>
          </Match>
        </Switch>
        <ConfirmDialog
          open={confirmDelete() && state.phase === "ready"}
          title="Delete this conversation?"
          danger
          confirmLabel="Delete for good"
          busyLabel="Deleting…"
          busy={state.busy}
          error={deleteError()}
          confirmTestId="confirm-delete"
          testId="delete-dialog"
          onConfirm={() => void remove()}
          onCancel={() => setConfirmDelete(false)}
        >
          <p>
            All messages and files of the conversation with{" "}
            <strong>{visitor() ? visitorName(visitor()!) : "this visitor"}</strong>, and what is known about the visitor
            (name, email, pages viewed, location), are removed for good. This cannot be undone.
          </p>
          <p class="muted">If the visitor writes again, it starts as a new conversation.</p>
        </ConfirmDialog>
        <Show when={dragging()}>
          <div class="drop-overlay" classList={{ refused: !canDrop() }} data-testid="drop-overlay" aria-hidden="true">
            <div class="drop-target">
              <UploadIcon />
              <span>
                {canDrop()
                  ? channel() === "email"
                    ? "Drop to send by email"
                    : "Drop to send"
                  : "Join the conversation to send files"}
              </span>
            </div>
          </div>
        </Show>
      </div>
      <Show when={infoShown()}>
        <aside
          id={infoId}
          ref={infoAside}
          class="visitor-aside"
          aria-label="Visitor info"
          data-testid="visitor-info"
          tabIndex={-1}
          onKeyDown={(e) => {
            if (e.key === "Escape" && !wide()) {
              e.stopPropagation();
              closeDrawer();
            }
          }}
        >
          <VisitorInfoPanel
            conversationId={props.id}
            visitor={visitor()}
            online={state.conversation?.visitorOnline}
            active={infoShown()}
            onClose={wide() ? undefined : closeDrawer}
          />
        </aside>
      </Show>
    </div>
  );
}

function StatusLine(props: {
  state: ConversationState | null;
  summary: ConversationSummary | undefined;
  visitor: VisitorRef;
  meId: string;
}) {
  const status = () => props.state?.status ?? props.summary?.status ?? "unassigned";
  const operators = () => props.state?.operators ?? props.summary?.operators ?? [];
  const others = () =>
    operators()
      .map((o) => (o.id === props.meId ? "you" : o.name))
      .join(", ");
  const email = () => (props.visitor.name && props.visitor.email ? props.visitor.email : null);
  return (
    <p class="window-status">
      <span class={`status-pill status-${status()}`} data-testid="conversation-status">
        {STATUS_LABEL[status()]}
      </span>
      <Show when={operators().length > 0}>
        <span>with {others()}</span>
      </Show>
      <Show when={props.state}>
        <span classList={{ online: props.state?.visitorOnline === true }} class="presence">
          {props.state?.visitorOnline ? "Online" : "Offline"}
        </span>
      </Show>
      <Show when={email()}>
        <span class="muted ellipsis" title={email() ?? undefined}>
          {email()}
        </span>
      </Show>
    </p>
  );
}

function WindowHeaderSkeleton(props: { onBack: () => void }) {
  return (
    <header class="window-header">
      <button type="button" class="icon-button back" aria-label="Back to conversations" onClick={() => props.onBack()}>
        <BackIcon />
      </button>
      <span class="skeleton avatar-lg" />
      <span class="skeleton line" />
    </header>
  );
}
