/**
 * The left rail: Conversations, Reports, Operators, Integrations and Settings
 * (admins), the notification sound switch, who is signed in (press it to
 * sign out everywhere) with their Online / Away switch, Logout.
 */
import { Show, type JSX } from "solid-js";
import type { Operator, PresenceStatus } from "../../../worker/protocol";
import type { Section } from "../lib/paths";
import { OperatorAvatar } from "./avatar";
import { BellIcon, BellOffIcon, ChartIcon, ChatIcon, LogoutIcon, PlugIcon, SettingsIcon, UsersIcon } from "./icons";

/** One link of the rail: marks itself current (the router makes it navigate without a reload). */
function RailLink(props: {
  section: Section;
  active: Section | null;
  label: string;
  title?: string;
  children: JSX.Element;
}) {
  return (
    <a
      href={`/${props.section}`}
      class="rail-item"
      classList={{ active: props.active === props.section }}
      aria-current={props.active === props.section ? "page" : undefined}
      aria-label={props.label}
      title={props.title ?? props.label}
      data-testid={`nav-${props.section}`}
    >
      {props.children}
    </a>
  );
}

export function NavRail(props: {
  me: Operator;
  active: Section | null;
  waiting: number;
  onLogout: () => void;
  /** The signed-in operator's own block was pressed: offers signing out everywhere. */
  onAccount: () => void;
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
      <RailLink
        section="conversations"
        active={props.active}
        label={props.waiting ? `Conversations, ${props.waiting} waiting` : "Conversations"}
        title="Conversations"
      >
        <ChatIcon />
        <Show when={props.waiting > 0}>
          <span class="rail-badge" aria-hidden="true">
            {props.waiting > 99 ? "99+" : props.waiting}
          </span>
        </Show>
      </RailLink>
      <RailLink section="reports" active={props.active} label="Reports">
        <ChartIcon />
      </RailLink>
      <Show when={props.me.admin}>
        <RailLink section="operators" active={props.active} label="Operators">
          <UsersIcon />
        </RailLink>
        <RailLink section="integrations" active={props.active} label="Integrations">
          <PlugIcon />
        </RailLink>
        <RailLink section="settings" active={props.active} label="Settings">
          <SettingsIcon />
        </RailLink>
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
      <button
        type="button"
        class="rail-me"
        title={`${props.me.name} (${props.me.email}): sign out everywhere…`}
        aria-haspopup="dialog"
        onClick={() => props.onAccount()}
        data-testid="rail-account"
      >
        <span class="rail-me-avatar" aria-hidden="true">
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
        {/* The name is hidden on narrow screens; what the button does is always said. */}
        <span class="sr-only">Sign out everywhere…</span>
      </button>
      <button
        type="button"
        role="switch"
        class="presence-switch"
        classList={{ away: !online() }}
        aria-checked={online()}
        aria-label="Online: get notified of waiting visitors"
        title={online() ? "Online: you are notified. Click to go Away." : "Away: no notifications. Click to go Online."}
        // aria-disabled, not disabled: a disabled button drops keyboard focus to the page while the change is saved.
        aria-disabled={props.statusBusy}
        onClick={() => !props.statusBusy && props.onStatus(online() ? "away" : "online")}
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
