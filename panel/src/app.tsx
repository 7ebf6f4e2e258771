/**
 * The panel's root: the session gate (setup / login) and, once signed in,
 * the shell with the nav rail and the routed page.
 */
import { createEffect, createMemo, Match, onCleanup, onMount, Switch } from "solid-js";
import type { Operator } from "../../worker/protocol";
import { NavRail } from "./components/nav-rail";
import { Toasts } from "./components/toast";
import { navigate, parseRoute, path } from "./lib/router";
import ConversationsPage from "./pages/conversations";
import LoginPage from "./pages/login";
import OperatorsPage from "./pages/operators";
import ReportsPage from "./pages/reports";
import SettingsPage from "./pages/settings";
import SetupPage from "./pages/setup";
import { createInbox } from "./stores/inbox";
import { createSession } from "./stores/session";
import { createSettings, SettingsContext } from "./stores/settings";

export function App() {
  const [session, actions] = createSession();
  onMount(() => void actions.init());

  return (
    <Switch>
      <Match when={session.phase === "loading"}>
        <div class="gate" aria-busy="true">
          <span class="spinner large" aria-label="Loading" />
        </div>
      </Match>
      <Match when={session.phase === "error"}>
        <div class="gate">
          <div class="card gate-card" role="alert">
            <h1>Cannot reach Microchat</h1>
            <p class="muted">{session.error}</p>
            <button type="button" class="button primary block" onClick={() => void actions.init()}>
              Try again
            </button>
          </div>
        </div>
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
  const [inbox, inboxActions] = createInbox(props.me.id, { onRepeatedFailure: props.verify });
  inboxActions.connect();
  onCleanup(() => inboxActions.disconnect());
  // Any operator reads the settings: the mailbox address shows under email messages.
  const settings = createSettings();
  void settings[1].load();

  const route = createMemo(() => parseRoute(path()));
  createEffect(() => {
    const r = route();
    if (r.name === "unknown" || ((r.name === "operators" || r.name === "settings") && !props.me.admin))
      navigate("/conversations", { replace: true });
  });

  createEffect(() => {
    const waiting = inbox.unassigned.length;
    document.title = waiting ? `(${waiting}) Microchat` : "Microchat";
  });
  onCleanup(() => (document.title = "Microchat"));

  const online = (id: string) => inbox.operators.some((o) => o.id === id && o.online);
  const selectedId = () => {
    const r = route();
    return r.name === "conversations" ? r.id : null;
  };

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
      <div class="shell">
        <NavRail me={props.me} active={active()} waiting={inbox.unassigned.length} onLogout={props.onLogout} />
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
            <OperatorsPage me={props.me} online={online} />
          </Match>
          <Match when={route().name === "settings" && props.me.admin}>
            <SettingsPage />
          </Match>
        </Switch>
      </div>
      <Toasts />
    </SettingsContext.Provider>
  );
}
