/**
 * The signed-in panel around the routed page: the nav rail, the stores every
 * page shares (the conversation index over the panel socket, notifications,
 * workspace settings, the operator's own status) and the toasts. Pages reach
 * the shared stores through `useShell()`.
 */
import { useLocation, useMatch, useNavigate } from "@solidjs/router";
import { createContext, createEffect, on, onCleanup, useContext, type JSX } from "solid-js";
import type { Operator } from "../../../worker/protocol";
import { visitorName } from "../lib/format";
import { conversationId, conversationPath, sectionOf } from "../lib/paths";
import { createInbox } from "../stores/inbox";
import { resumeKept } from "../stores/kept-replies";
import type { InboxActions, InboxState } from "../stores/inbox-state";
import { createNotifications, NotificationsContext } from "../stores/notifications";
import { createOwnStatus } from "../stores/own-status";
import { createSettings, SettingsContext } from "../stores/settings";
import { createConfirmation } from "../lib/async";
import { ConfirmDialog } from "./dialog";
import { NavRail } from "./nav-rail";
import { NotifyToasts } from "./notifications";
import { Toasts } from "./toast";

export interface ShellValue {
  me: Operator;
  inbox: InboxState;
  inboxActions: InboxActions;
  /** Check the session (sockets call this when they keep failing to connect). */
  verify: () => void;
}

const ShellContext = createContext<ShellValue>();

/** The shell's shared stores; only valid inside the signed-in shell. */
export function useShell(): ShellValue {
  const shell = useContext(ShellContext);
  if (!shell) throw new Error("useShell outside the shell");
  return shell;
}

export function Shell(props: {
  me: Operator;
  onLogout: () => void;
  /** Sign out everywhere; throws the server's error for the dialog to show. */
  onLogoutEverywhere: () => Promise<void>;
  verify: () => void;
  children: JSX.Element;
}) {
  // Replies a closed window or a reload left on their way go out now (before any page opens a window).
  resumeKept(props.me.id);
  const navigate = useNavigate();
  const location = useLocation();
  const opened = useMatch(() => "/conversations/:id");
  const selectedId = () => conversationId(opened()?.params.id) ?? null;

  const notifications = createNotifications({ openId: selectedId, open: (id) => navigate(conversationPath(id)) });
  const [alerts, alertActions] = notifications;

  const [inbox, inboxActions] = createInbox(props.me.id, {
    onRepeatedFailure: props.verify,
    onNotify: (c, reason) => {
      // The server skips Away operators; a frame racing a status change is skipped here too.
      if (own.status() === "online") alertActions.waiting(c, reason);
    },
    onUpsert: (before, after) => {
      // A toast says what the list says: the visitor's current name.
      alertActions.update(after);
      // A visitor wrote in a conversation I joined: worth a system notification if the tab is hidden.
      if (
        before &&
        after.lastAt > before.lastAt &&
        after.previewRole === "visitor" &&
        after.operators.some((o) => o.id === props.me.id)
      )
        alertActions.visitorMessage({ id: after.id, name: visitorName(after.visitor), text: after.preview });
    },
  });
  inboxActions.connect();
  onCleanup(() => inboxActions.disconnect());
  const own = createOwnStatus(props.me.id, () => inbox.operators);
  // The workspace settings, shared with the Settings page.
  const settings = createSettings();
  void settings[1].load();

  // Toasts of conversations someone joined (or that were deleted) go away.
  createEffect(() => alertActions.prune(new Set(inbox.unassigned.map((c) => c.id))));
  // Opening a conversation sees what was said about it.
  createEffect(
    on(selectedId, (id) => {
      if (id) alertActions.seen(id);
    }),
  );
  createEffect(() => {
    const unseen = alertActions.unseen();
    document.title = unseen ? `(${unseen}) Microchat` : "Microchat";
  });
  onCleanup(() => (document.title = "Microchat"));

  const shell: ShellValue = { me: props.me, inbox, inboxActions, verify: props.verify };
  const everywhere = createConfirmation(() => props.onLogoutEverywhere());
  return (
    <ShellContext.Provider value={shell}>
      <SettingsContext.Provider value={settings}>
        <NotificationsContext.Provider value={notifications}>
          <div class="shell">
            <NavRail
              me={props.me}
              active={sectionOf(location.pathname)}
              waiting={inbox.waiting}
              onLogout={props.onLogout}
              onAccount={() => everywhere.ask(props.me)}
              status={own.status()}
              statusBusy={own.busy()}
              onStatus={(s) => void own.set(s)}
              muted={alerts.muted}
              onMuted={alertActions.setMuted}
            />
            {props.children}
          </div>
          <ConfirmDialog
            confirmation={everywhere}
            title="Sign out everywhere?"
            confirmLabel="Sign out everywhere"
            busyLabel="Signing out…"
            confirmTestId="confirm-sign-out-everywhere"
            testId="sign-out-everywhere-dialog"
          >
            <p>
              You are signed in as <strong>{props.me.name}</strong> ({props.me.email}). This ends your sessions in every
              browser and on every device, this one included, and closes your open panels.
            </p>
            <p class="muted small">API tokens keep working; an admin revokes them under Integrations.</p>
          </ConfirmDialog>
          <NotifyToasts state={alerts} actions={alertActions} />
          <Toasts />
        </NotificationsContext.Provider>
      </SettingsContext.Provider>
    </ShellContext.Provider>
  );
}
