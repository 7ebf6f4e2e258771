/**
 * The panel's root: the routes (@solidjs/router; see
 * docs/decisions/panel-libraries.md), the session gate (setup / login) and,
 * once signed in, the shell around the routed page.
 *
 * Every route is reached by its URL; a path the panel does not know, or an
 * admin page for someone who is not an admin, goes to /conversations.
 */
import { Navigate, Route, Router, useParams, type RouteSectionProps } from "@solidjs/router";
import { ErrorBoundary, lazy, Match, onMount, Show, Suspense, Switch, type Component } from "solid-js";
import { LoadFailed } from "./components/load-failed";
import { Shell, useShell } from "./components/shell";
import { REPORT_TABS, type ReportTab } from "./lib/paths";
import ConversationsPage from "./pages/conversations";
import LoginPage from "./pages/login";
import { createSession } from "./stores/session";

// Loaded when first opened: the conversations screen, the one every operator starts on, does not wait for them
// (bench/panel.mjs). Setup is seen once per workspace; the rest are admin pages or reports.
const SetupPage = lazy(() => import("./pages/setup"));
const ReportsPage = lazy(() => import("./pages/reports"));
const OperatorsPage = lazy(() => import("./pages/operators"));
const SettingsPage = lazy(() => import("./pages/settings"));
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

/** A page loaded on first use: the spinner while it loads, and a way to try again if it cannot be (offline). */
const later =
  (Page: Component): Component =>
  () => (
    <ErrorBoundary fallback={(_err, retry) => <LoadFailed what="This page" retry={retry} />}>
      <Suspense fallback={<Loading />}>
        <Page />
      </Suspense>
    </ErrorBoundary>
  );

const Reports = later(() => {
  const params = useParams();
  return <ReportsPage tab={(params.tab as ReportTab | undefined) ?? "operator"} />;
});

export function App() {
  return (
    <Router root={Gate}>
      <Route path={["/", "/conversations/:id?"]} component={ConversationsPage} />
      <Route path="/reports/:tab?" matchFilters={{ tab: [...REPORT_TABS] }} component={Reports} />
      <Route path="/operators" component={adminOnly(later(OperatorsPage))} />
      <Route path="/integrations" component={adminOnly(later(IntegrationsPage))} />
      <Route path="/settings" component={adminOnly(later(SettingsPage))} />
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
        <Suspense fallback={<Loading />}>
          <SetupPage onSetup={actions.setup} />
        </Suspense>
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
