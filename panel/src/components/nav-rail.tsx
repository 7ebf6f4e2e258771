/**
 * The left rail: Conversations, Reports, Operators, Integrations and Settings
 * (admins), the notification sound switch, who is signed in with their
 * Online / Away switch, Logout.
 */
import { Show } from "solid-js";
import type { Operator, PresenceStatus } from "../../../worker/protocol";
import { linkClick } from "../lib/router";
import { OperatorAvatar } from "./avatar";
import { BellIcon, BellOffIcon, ChartIcon, ChatIcon, LogoutIcon, PlugIcon, SettingsIcon, UsersIcon } from "./icons";

export function NavRail(props: {
  me: Operator;
  active: "conversations" | "reports" | "operators" | "integrations" | "settings" | null;
  waiting: number;
  onLogout: () => void;
  /** The operator's own choice: Away gets no notifications. */
  status: PresenceStatus;
  statusBusy: boolean;
  onStatus: (status: PresenceStatus) => void;
  muted: boolean;
  onMuted: (muted: boolean) => void;
}) {
  const online = () => props.status === "online";
  return (
    <nav class="rail" aria-label="Main">
      <div class="rail-logo" aria-hidden="true">
        M
      </div>
      <a
        href="/conversations"
        class="rail-item"
        classList={{ active: props.active === "conversations" }}
        aria-current={props.active === "conversations" ? "page" : undefined}
        aria-label={props.waiting ? `Conversations, ${props.waiting} waiting` : "Conversations"}
        title="Conversations"
        onClick={linkClick}
        data-testid="nav-conversations"
      >
        <ChatIcon />
        <Show when={props.waiting > 0}>
          <span class="rail-badge" aria-hidden="true">
            {props.waiting > 99 ? "99+" : props.waiting}
          </span>
        </Show>
      </a>
      <a
        href="/reports"
        class="rail-item"
        classList={{ active: props.active === "reports" }}
        aria-current={props.active === "reports" ? "page" : undefined}
        aria-label="Reports"
        title="Reports"
        onClick={linkClick}
        data-testid="nav-reports"
      >
        <ChartIcon />
      </a>
      <Show when={props.me.admin}>
        <a
          href="/operators"
          class="rail-item"
          classList={{ active: props.active === "operators" }}
          aria-current={props.active === "operators" ? "page" : undefined}
          aria-label="Operators"
          title="Operators"
          onClick={linkClick}
          data-testid="nav-operators"
        >
          <UsersIcon />
        </a>
        <a
          href="/integrations"
          class="rail-item"
          classList={{ active: props.active === "integrations" }}
          aria-current={props.active === "integrations" ? "page" : undefined}
          aria-label="Integrations"
          title="Integrations"
          onClick={linkClick}
          data-testid="nav-integrations"
        >
          <PlugIcon />
        </a>
        <a
          href="/settings"
          class="rail-item"
          classList={{ active: props.active === "settings" }}
          aria-current={props.active === "settings" ? "page" : undefined}
          aria-label="Settings"
          title="Settings"
          onClick={linkClick}
          data-testid="nav-settings"
        >
          <SettingsIcon />
        </a>
      </Show>
      <div class="rail-spacer" />
      <button
        type="button"
        class="rail-item"
        aria-pressed={props.muted}
        aria-label="Mute notification sound"
        title={props.muted ? "Notification sound is off" : "Notification sound is on"}
        onClick={() => props.onMuted(!props.muted)}
        data-testid="mute-toggle"
      >
        <Show when={props.muted} fallback={<BellIcon />}>
          <BellOffIcon />
        </Show>
      </button>
      <div class="rail-me" title={`${props.me.name} (${props.me.email})`}>
        <span class="rail-me-avatar">
          <OperatorAvatar name={props.me.name} size="sm" />
          <span
            class="presence-dot"
            classList={{ away: !online() }}
            data-testid="own-presence"
            data-status={props.status}
            aria-hidden="true"
          />
        </span>
        <span class="rail-me-name">{props.me.name}</span>
      </div>
      <button
        type="button"
        role="switch"
        class="presence-switch"
        classList={{ away: !online() }}
        aria-checked={online()}
        aria-label="Online: get notified of waiting visitors"
        title={online() ? "Online: you are notified. Click to go Away." : "Away: no notifications. Click to go Online."}
        disabled={props.statusBusy}
        onClick={() => props.onStatus(online() ? "away" : "online")}
        data-testid="presence-toggle"
        data-status={props.status}
      >
        <span class="presence-switch-dot" aria-hidden="true" />
        <span class="presence-switch-label" aria-hidden="true">
          {online() ? "Online" : "Away"}
        </span>
      </button>
      <button
        type="button"
        class="rail-item"
        aria-label="Log out"
        title="Log out"
        onClick={() => props.onLogout()}
        data-testid="nav-logout"
      >
        <LogoutIcon />
      </button>
    </nav>
  );
}
