/**
 * The in-panel side of notifications: toasts for visitors waiting in
 * Unassigned (with View), and the polite banner that offers desktop
 * notifications (permission is asked only when its button is clicked).
 */
import { For, Show } from "solid-js";
import type { NotificationsActions, NotificationsState } from "../stores/notifications-state";
import { CloseIcon } from "./icons";

const SHOWN = 3;

const REASON: Record<"new" | "requeued" | "message", string> = {
  new: "New conversation",
  requeued: "Back in Unassigned",
  message: "New message",
};

export function NotifyToasts(props: { state: NotificationsState; actions: NotificationsActions }) {
  const shown = () => props.state.items.filter((x) => x.kind === "waiting").slice(0, SHOWN);
  return (
    <div class="notify-toasts" role="region" aria-label="Notifications">
      <div role="status" aria-live="polite" class="notify-stack">
        <For each={shown()}>
          {(item) => (
            <div class="notify-toast" data-testid="notify-toast" data-conversation-id={item.id}>
              <div class="notify-text">
                <span class="notify-reason small">{REASON[item.reason]}</span>
                <strong class="notify-name ellipsis" title={item.name}>
                  {item.name}
                </strong>
                <span class="notify-preview">{item.preview}</span>
              </div>
              <div class="notify-actions">
                <button
                  type="button"
                  class="button primary small"
                  data-testid="notify-view"
                  aria-label={`View the conversation with ${item.name}`}
                  onClick={() => props.actions.view(item.id)}
                >
                  View
                </button>
                <button
                  type="button"
                  class="icon-button notify-close"
                  aria-label={`Dismiss the notification about ${item.name}`}
                  onClick={() => props.actions.dismiss(item.id)}
                >
                  <CloseIcon />
                </button>
              </div>
            </div>
          )}
        </For>
      </div>
    </div>
  );
}

export function NotificationBanner(props: { state: NotificationsState; actions: NotificationsActions }) {
  return (
    <Show when={props.state.permission === "default" && !props.state.bannerDismissed}>
      <div class="notify-banner" role="region" aria-label="Desktop notifications" data-testid="notification-banner">
        <p>Get a desktop notification when a visitor writes, even while this tab is in the background.</p>
        <div class="notify-banner-actions">
          <button
            type="button"
            class="button primary small"
            data-testid="enable-notifications"
            onClick={() => void props.actions.enable()}
          >
            Enable desktop notifications
          </button>
          <button type="button" class="button secondary small" onClick={() => props.actions.dismissBanner()}>
            Not now
          </button>
        </div>
      </div>
    </Show>
  );
}
