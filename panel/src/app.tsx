/**
 * The panel's root: the routes (@solidjs/router; see
 * docs/decisions/panel-libraries.md), the session gate (setup / login) and,
 * once signed in, the shell around the routed page.
 *
 * Every route is reached by its URL; a path the panel does not know, or an
 * admin page for someone who is not an admin, goes to /conversations.
 */
import { Navigate, Route, Router, useParams, type RouteSectionProps } from "@solidjs/router";
import { lazy, Match, onMount, Show, Suspense, Switch, type Component } from "solid-js";
import { Shell, useShell } from "./components/shell";
import { REPORT_TABS, type ReportTab } from "./lib/paths";
import ConversationsPage from "./pages/conversations";
import LoginPage from "./pages/login";
import OperatorsPage from "./pages/operators";
import ReportsPage from "./pages/reports";
import SettingsPage from "./pages/settings";
import SetupPage from "./pages/setup";
import { createSession } from "./stores/session";

// Admins only, and rarely: loaded when first opened.
const IntegrationsPage = lazy(() => import("./pages/integrations"));

const Loading = () => (
  <div class="gate" aria-busy="true">
    <span class="spinner large" aria-label="Loading" />
  </div>
);

const ToConversations = () => <Navigate href="/conversations" />;

/** An admin page: anyone else is sent to the conversations. */
const adminOnly =
  (Page: Component): Component =>
  () => {
    const { me } = useShell();
    return (
      <Show when={me.admin} fallback={<ToConversations />}>
        <Page />
      </Show>
    );
  };

const Reports = () => {
  const params = useParams();
  return <ReportsPage tab={(params.tab as ReportTab | undefined) ?? "operator"} />;
};

const Integrations = () => (
  <Suspense fallback={<Loading />}>
    <IntegrationsPage />
  </Suspense>
);

export function App() {
  return (
    <Router root={Gate}>
      <Route path={["/", "/conversations/:id?"]} component={ConversationsPage} />
      <Route path="/reports/:tab?" matchFilters={{ tab: [...REPORT_TABS] }} component={Reports} />
      <Route path="/operators" component={adminOnly(OperatorsPage)} />
      <Route path="/integrations" component={adminOnly(Integrations)} />
      <Route path="/settings" component={adminOnly(SettingsPage)} />
      <Route path="*" component={ToConversations} />
    </Router>
  );
}

/** Until someone is signed in: loading, cannot reach the server, first-run setup, or login. */
function Gate(props: RouteSectionProps) {
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
        {(me) => (
          <Shell
            me={me}
            onLogout={() => void actions.logout()}
            onLogoutEverywhere={actions.logoutEverywhere}
            verify={() => void actions.verify()}
          >
            {props.children}
          </Shell>
        )}
      </Match>
    </Switch>
  );
}
