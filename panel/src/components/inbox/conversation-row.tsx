/** One row of a conversation list (the visitor, time, preview, unread badge, JOIN in Unassigned), and the rows shown while loading. */
import { For, Show } from "solid-js";
import type { ConversationSummary } from "../../../../worker/protocol";
import { visitorName } from "../../lib/format";
import { conversationPath } from "../../lib/paths";
import { VisitorAvatar } from "../avatar";
import { Time } from "../time";

export function ConversationRow(props: {
  c: ConversationSummary;
  selected: boolean;
  joinable: boolean;
  joining: boolean;
  onJoin: (id: string) => void;
}) {
  const name = () => visitorName(props.c.visitor);
  const preview = () => props.c.preview || (props.c.previewRole === "system" ? "" : "…");
  return (
    <div
      class="row"
      classList={{ selected: props.selected, unread: props.c.unread > 0, joinable: props.joinable }}
      data-testid="conversation-row"
      data-conversation-id={props.c.id}
      data-status={props.c.status}
    >
      <a class="row-link" href={conversationPath(props.c.id)} aria-current={props.selected ? "page" : undefined}>
        <VisitorAvatar visitor={props.c.visitor} />
        <span class="row-main">
          <span class="row-top">
            <span class="row-name" title={name()}>
              {name()}
            </span>
            <Time class="row-time" at={props.c.lastAt} />
          </span>
          <span class="row-bottom">
            <span class="row-preview" classList={{ system: props.c.previewRole === "system" }}>
              <Show when={props.c.previewRole === "operator"}>
                <span class="row-preview-who">Reply: </span>
              </Show>
              {preview()}
            </span>
            <Show when={props.c.unread > 0}>
              <span class="badge" aria-label={`${props.c.unread} unread`} data-testid="unread-badge">
                {props.c.unread > 99 ? "99+" : props.c.unread}
              </span>
            </Show>
          </span>
        </span>
      </a>
      <Show when={props.joinable}>
        <button
          type="button"
          class="button join small"
          data-testid="join-button"
          aria-label={`Join conversation with ${name()}`}
          disabled={props.joining}
          onClick={() => props.onJoin(props.c.id)}
        >
          {props.joining ? "Joining…" : "Join"}
        </button>
      </Show>
    </div>
  );
}

export function LoadingRows() {
  return (
    <div class="loading-rows" aria-busy="true" aria-label="Loading conversations">
      <For each={[0, 1, 2]}>
        {() => (
          <div class="skeleton-row">
            <span class="skeleton avatar-md" />
            <span class="skeleton-lines">
              <span class="skeleton line" />
              <span class="skeleton line short" />
            </span>
          </div>
        )}
      </For>
    </div>
  );
}
