/**
 * The right pane: the header, the message log and the composer of one
 * conversation, with the visitor info beside it (wide screens) or in a
 * drawer. Owns one conversation socket while mounted. Files dropped anywhere
 * on it are sent (once joined), on the reply channel chosen in the composer.
 */
import { createEffect, Match, on, onCleanup, Show, Switch } from "solid-js";
import type { ConversationSummary, Operator, VisitorRef } from "../../../../worker/protocol";
import { createConfirmation } from "../../lib/async";
import { visitorName } from "../../lib/format";
import { createConversation } from "../../stores/conversation";
import { liveRow, type LiveRow } from "../../stores/live-row";
import { useNotifications } from "../../stores/notifications";
import { useSettings } from "../../stores/settings";
import { ConfirmDialog } from "../dialog";
import { InlineError, Spinning } from "../status";
import { Composer } from "./composer";
import { createFileDrop, DropOverlay } from "./file-drop";
import { MessageList } from "./message-list";
import { createReplyChannel } from "./reply-channel";
import { createInfoDrawer, VisitorAside } from "./visitor-aside";
import { WindowHeader, WindowHeaderSkeleton } from "./window-header";

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

  const remove = createConfirmation((_id: string) => actions.remove());
  // Deleted or gone under the question: nothing is left to confirm.
  createEffect(() => state.phase !== "ready" && remove.cancel());

  const joined = () => state.conversation?.operators.some((o) => o.id === props.me.id) ?? false;
  // The workspace's rule (Settings): admins, and unless it says admins only, the operators in it. The server decides.
  const [settings] = useSettings();
  const canDelete = () => props.me.admin || (settings.settings?.deleteBy !== "admins" && joined());
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

  const reply = createReplyChannel(props.id, () => state.conversation);
  const canDrop = () => state.phase === "ready" && joined();
  const drop = createFileDrop(canDrop, (files) => actions.upload(files, reply.channel()));

  const visitor = (): VisitorRef | null => state.conversation?.visitor ?? props.summary?.visitor ?? null;
  // Whether the visitor is online, as the socket last said; null while it is down (what it said may no longer hold).
  const presence = (): boolean | null | undefined =>
    state.connection === "open" ? state.conversation?.visitorOnline : state.conversation ? null : undefined;
  const drawer = createInfoDrawer();
  // Nothing is asked of a conversation that is gone or was deleted (its visitor info would only answer 404).
  const live = () => state.phase !== "gone" && state.phase !== "deleted";
  const infoShown = () => live() && (drawer.wide() || drawer.open());
  const infoId = `visitor-info-${props.id}`;

  return (
    <div
      class="window-layout"
      classList={{ "info-column": drawer.wide(), "info-drawer": !drawer.wide() && drawer.open() }}
    >
      <div class="window" role="region" aria-label="Conversation" {...drop.handlers}>
        <Show when={visitor()} fallback={<WindowHeaderSkeleton onBack={props.onBack} />}>
          {(v) => (
            <WindowHeader
              visitor={v()}
              state={state.conversation}
              presence={presence()}
              summary={props.summary}
              meId={props.me.id}
              joined={joined()}
              busy={state.busy}
              deleting={remove.target() !== null}
              ready={state.phase === "ready"}
              canDelete={canDelete()}
              infoButton={!drawer.wide() && live()}
              infoOpen={drawer.open()}
              infoId={infoId}
              infoToggleRef={drawer.toggleRef}
              joinRef={(el) => (joinButton = el)}
              onBack={props.onBack}
              onToggleInfo={drawer.toggle}
              onJoin={() => void actions.join()}
              onLeave={() => void leave()}
              onDelete={() => remove.ask(props.id)}
            />
          )}
        </Show>

        <Switch>
          <Match when={state.phase === "gone"}>
            <div class="window-empty">
              <p>This conversation no longer exists.</p>
            </div>
          </Match>
          <Match when={state.phase === "loading"}>
            <Spinning
              class="window-empty"
              testId="conversation-loading"
              text={
                state.connection === "reconnecting"
                  ? "Cannot reach Microchat. The conversation opens as soon as the connection is back…"
                  : "Loading conversation…"
              }
            />
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
            <InlineError message={state.error} onAction={() => actions.dismissError()} testId="conversation-error" />
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
                channel={reply.channel()}
                onChannel={reply.pick}
                emailTo={reply.email()}
                onSend={(t) => actions.send(t, reply.channel())}
                onFiles={(files) => actions.upload(files, reply.channel())}
              />
            </Show>
          </Match>
        </Switch>
        <ConfirmDialog
          confirmation={remove}
          title="Delete this conversation?"
          confirmLabel="Delete for good"
          busyLabel="Deleting…"
          confirmTestId="confirm-delete"
          testId="delete-dialog"
        >
          <p>
            All messages and files of the conversation with{" "}
            <strong>{visitor() ? visitorName(visitor()!) : "this visitor"}</strong>, and what is known about the visitor
            (name, email, pages viewed, location), are removed for good. This cannot be undone.
          </p>
          <p class="muted">If the visitor writes again, it starts as a new conversation.</p>
        </ConfirmDialog>
        <Show when={drop.dragging()}>
          <DropOverlay canDrop={canDrop()} byEmail={reply.channel() === "email"} />
        </Show>
      </div>
      <VisitorAside
        drawer={drawer}
        id={infoId}
        conversationId={props.id}
        visitor={visitor()}
        online={presence()}
        shown={infoShown()}
      />
    </div>
  );
}
