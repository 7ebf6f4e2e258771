/**
 * The panel's root: the session gate (setup / login) and, once signed in,
 * the shell with the nav rail and the routed page.
 */
import {
  createEffect,
  createMemo,
  createSignal,
  lazy,
  Match,
  on,
  onCleanup,
  onMount,
  Suspense,
  Switch,
} from "solid-js";
import type { Operator, PresenceStatus } from "../../worker/protocol";
import { NavRail } from "./components/nav-rail";
import { NotifyToasts } from "./components/notifications";
import { notify, Toasts } from "./components/toast";
import { api, errorText } from "./lib/api";
import { visitorName } from "./lib/format";
import { navigate, parseRoute, path } from "./lib/router";
import ConversationsPage from "./pages/conversations";
import LoginPage from "./pages/login";
import OperatorsPage from "./pages/operators";
import ReportsPage from "./pages/reports";
import SettingsPage from "./pages/settings";
import SetupPage from "./pages/setup";
import { createInbox } from "./stores/inbox";
import { createNotifications, NotificationsContext } from "./stores/notifications";
import { createSession } from "./stores/session";
import { createSettings, SettingsContext } from "./stores/settings";

// Admins only, and rarely: loaded when first opened.
const IntegrationsPage = lazy(() => import("./pages/integrations"));

export function App() {
  const [session, actions] = createSession();
  onMount(() => void actions.init());

  return (
    <Switch>
      <Match when={session.phase === "loading"}>
        <main class="gate" aria-busy="true">
          <span class="spinner large" aria-label="Loading" />
        </main>
      </Match>
      <Match when={session.phase === "error"}>
        <main class="gate">
          <div class="card gate-card" role="alert">
            <h1>Cannot reach Microchat</h1>
            <p class="muted">{session.error}</p>
            <button type="button" class="button primary block" onClick={() => void actions.init()}>
              Try again
            </button>
          </div>
        </main>
      </Match>
      <Match when={session.phase === "setup"}>
        <SetupPage onSetup={actions.setup} />
      </Match>
      <Match when={session.phase === "login"}>
        <LoginPage notice={session.notice} onLogin={actions.login} />
      </Match>
      <Match when={session.phase === "ready" && session.me} keyed>
        {(me) => <Shell me={me} onLogout={() => void actions.logout()} verify={() => void actions.verify()} />}
      </Match>
    </Switch>
  );
}

function Shell(props: { me: Operator; onLogout: () => void; verify: () => void }) {
  const route = createMemo(() => parseRoute(path()));
  const selectedId = () => {
    const r = route();
    return r.name === "conversations" ? r.id : null;
  };

  const notifications = createNotifications({ openId: selectedId });
  const [alerts, alertActions] = notifications;

  const [inbox, inboxActions] = createInbox(props.me.id, {
    onRepeatedFailure: props.verify,
    onNotify: (c, reason) => {
      // The server skips Away operators; a frame racing a status change is skipped here too.
      if (ownStatus() === "online") alertActions.waiting(c, reason);
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
  // The workspace settings, shared with the Settings page.
  const settings = createSettings();
  void settings[1].load();

  createEffect(() => {
    const r = route();
    const adminOnly = r.name === "operators" || r.name === "settings" || r.name === "integrations";
    if (r.name === "unknown" || (adminOnly && !props.me.admin)) navigate("/conversations", { replace: true });
  });

  // Online / Away. The presence frames are the truth; `wanted` shows the
  // switch's new position while the request is in flight.
  const [wanted, setWanted] = createSignal<PresenceStatus | null>(null);
  const serverStatus = (): PresenceStatus => inbox.operators.find((o) => o.id === props.me.id)?.status ?? "online";
  const ownStatus = (): PresenceStatus => wanted() ?? serverStatus();
  const setStatus = async (status: PresenceStatus) => {
    setWanted(status);
    try {
      await api.setStatus(status);
    } catch (e) {
      notify(`Could not change your status: ${errorText(e)}`);
    } finally {
      setWanted(null);
    }
  };

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

  const presence = (id: string) => inbox.operators.find((o) => o.id === id);

  const reportTab = () => {
    const r = route();
    return r.name === "reports" ? r.tab : "operator";
  };

  const active = () => {
    const name = route().name;
    return name === "unknown" ? null : name;
  };

  return (
    <SettingsContext.Provider value={settings}>
      <NotificationsContext.Provider value={notifications}>
        <div class="shell">
          <NavRail
            me={props.me}
            active={active()}
            waiting={inbox.waiting}
            onLogout={props.onLogout}
            status={ownStatus()}
            statusBusy={wanted() !== null}
            onStatus={(s) => void setStatus(s)}
            muted={alerts.muted}
            onMuted={alertActions.setMuted}
          />
          <Switch>
            <Match when={route().name === "conversations"}>
              <ConversationsPage
                me={props.me}
                inbox={inbox}
                inboxActions={inboxActions}
                selectedId={selectedId()}
                onRepeatedFailure={props.verify}
              />
            </Match>
            <Match when={route().name === "reports"}>
              <ReportsPage tab={reportTab()} />
            </Match>
            <Match when={route().name === "operators" && props.me.admin}>
              <OperatorsPage me={props.me} presence={presence} />
            </Match>
            <Match when={route().name === "integrations" && props.me.admin}>
              <Suspense
                fallback={
                  <div class="gate" aria-busy="true">
                    <span class="spinner large" aria-label="Loading" />
                  </div>
                }
              >
                <IntegrationsPage />
              </Suspense>
            </Match>
            <Match when={route().name === "settings" && props.me.admin}>
              <SettingsPage />
            </Match>
          </Switch>
        </div>
        <NotifyToasts state={alerts} actions={alertActions} />
        <Toasts />
      </NotificationsContext.Provider>
    </SettingsContext.Provider>
  );
}
