/**
 * The open conversation's header: back (phones), the visitor, Leave
 * Conversation, the status line, and the actions (Visitor info on narrow
 * screens, Join, Delete).
 */
import { Show } from "solid-js";
import type { ConversationState, ConversationSummary, VisitorRef } from "../../../../worker/protocol";
import { STATUS_LABEL, visitorName } from "../../lib/format";
import { VisitorAvatar } from "../avatar";
import { BackIcon, InfoIcon, TrashIcon } from "../icons";

function BackButton(props: { onBack: () => void }) {
  return (
    <button type="button" class="icon-button back" aria-label="Back to conversations" onClick={() => props.onBack()}>
      <BackIcon />
    </button>
  );
}

export function WindowHeader(props: {
  visitor: VisitorRef;
  state: ConversationState | null;
  /** Whether the visitor is online: undefined before the socket answers, null while it is down (not known). */
  presence: boolean | null | undefined;
  summary: ConversationSummary | undefined;
  meId: string;
  joined: boolean;
  /** Join / Leave / Delete in flight. */
  busy: boolean;
  /** Delete is being asked or done (Join then does not say "Joining…"). */
  deleting: boolean;
  /** The conversation is open and live (Delete is offered, if `canDelete`). */
  ready: boolean;
  /** This operator may delete it (an admin, or in it unless the workspace allows admins only). */
  canDelete: boolean;
  /** Offer the Visitor info button (narrow screens, conversation not gone). */
  infoButton: boolean;
  infoOpen: boolean;
  infoId: string;
  infoToggleRef: (el: HTMLButtonElement) => void;
  joinRef: (el: HTMLButtonElement) => void;
  onBack: () => void;
  onToggleInfo: () => void;
  onJoin: () => void;
  onLeave: () => void;
  onDelete: () => void;
}) {
  return (
    <header class="window-header" data-testid="conversation-header">
      <BackButton onBack={props.onBack} />
      <VisitorAvatar visitor={props.visitor} size="lg" online={props.presence === true} />
      <div class="window-title">
        <div class="window-name-line">
          <h2 class="window-name" title={visitorName(props.visitor)}>
            {visitorName(props.visitor)}
          </h2>
          <Show when={props.state && props.joined}>
            <button
              type="button"
              class="button secondary small"
              data-testid="leave-button"
              disabled={props.busy}
              onClick={() => props.onLeave()}
            >
              {/* One box, so the button's gap does not open between the two words. */}
              <span>Leave Conversation</span>
            </button>
          </Show>
        </div>
        <StatusLine
          state={props.state}
          presence={props.presence}
          summary={props.summary}
          visitor={props.visitor}
          meId={props.meId}
        />
      </div>
      <div class="window-actions">
        <Show when={props.infoButton}>
          <button
            type="button"
            class="button secondary visitor-info-toggle"
            ref={props.infoToggleRef}
            aria-expanded={props.infoOpen}
            aria-controls={props.infoId}
            aria-label="Visitor info"
            title="Visitor info"
            data-testid="visitor-info-toggle"
            onClick={() => props.onToggleInfo()}
          >
            <InfoIcon />
            <span class="visitor-info-toggle-label">Visitor info</span>
          </button>
        </Show>
        <Show when={props.state && !props.joined}>
          <button
            type="button"
            class="button primary join"
            ref={props.joinRef}
            data-testid="join-button"
            disabled={props.busy}
            onClick={() => props.onJoin()}
          >
            {props.busy && !props.deleting ? "Joining…" : "Join"}
          </button>
        </Show>
        <Show when={props.ready && props.canDelete}>
          <button
            type="button"
            class="button danger-ghost"
            data-testid="delete-conversation"
            disabled={props.busy}
            onClick={() => props.onDelete()}
          >
            <TrashIcon />
            <span class="button-label">Delete</span>
          </button>
        </Show>
      </div>
    </header>
  );
}

function StatusLine(props: {
  state: ConversationState | null;
  presence: boolean | null | undefined;
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
      <Show when={props.presence !== undefined}>
        <span
          classList={{ online: props.presence === true, unknown: props.presence === null }}
          class="presence"
          data-testid="header-presence"
          title={props.presence === null ? "Not known while the connection is down" : undefined}
        >
          {props.presence === null ? "Reconnecting…" : props.presence ? "Online" : "Offline"}
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

/** The header while the visitor is not known yet. */
export function WindowHeaderSkeleton(props: { onBack: () => void }) {
  return (
    <header class="window-header">
      <BackButton onBack={props.onBack} />
      <span class="skeleton avatar-lg" />
      <span class="skeleton line" />
    </header>
  );
}
