/** The left rail: Conversations, Reports, Operators and Settings (admins), who is signed in, Logout. */
import { Show } from "solid-js";
import type { Operator } from "../../../worker/protocol";
import { linkClick } from "../lib/router";
import { OperatorAvatar } from "./avatar";
import { ChartIcon, ChatIcon, LogoutIcon, SettingsIcon, UsersIcon } from "./icons";

export function NavRail(props: {
  me: Operator;
  active: "conversations" | "reports" | "operators" | "settings" | null;
  waiting: number;
  onLogout: () => void;
}) {
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
      <div class="rail-me" title={`${props.me.name} (${props.me.email})`}>
        <OperatorAvatar name={props.me.name} size="sm" />
        <span class="rail-me-name">{props.me.name}</span>
      </div>
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
