/** Conversations: the list column and the open conversation side by side. */
import { Navigate, useNavigate, useParams } from "@solidjs/router";
import { createSignal, ErrorBoundary, lazy, Show, Suspense } from "solid-js";
import { api, errorText } from "../lib/api";
import { conversationId, conversationPath } from "../lib/paths";
import { ConversationList } from "../components/inbox/conversation-list";
import { ConnectionBanner } from "../components/connection-banner";
import { LoadFailed } from "../components/load-failed";
import { ChatIcon } from "../components/icons";
import { NotificationBanner } from "../components/notifications";
import { useShell } from "../components/shell";
import { notify } from "../components/toast";
import { useNotifications } from "../stores/notifications";

// The open conversation (its log, composer, visitor info) is loaded when first wanted: the list is drawn without
// waiting for it (bench/panel.mjs), and pointing at the list or a deep link fetches it before the click lands.
const loadWindow = () => import("../components/conversation/window");
const ConversationWindow = lazy(() => loadWindow().then((m) => ({ default: m.ConversationWindow })));
const prefetchWindow = () => void loadWindow().catch(() => undefined);

export default function ConversationsPage() {
  const params = useParams();
  // A malformed id in the address (undefined) is no conversation: back to the list.
  const id = () => conversationId(params.id);
  return (
    <Show when={id() !== undefined} fallback={<Navigate href="/conversations" />}>
      <Conversations selectedId={id() ?? null} />
    </Show>
  );
}

function Conversations(props: { selectedId: string | null }) {
  const { me, inbox, inboxActions, verify } = useShell();
  const navigate = useNavigate();
  const [joining, setJoining] = createSignal<string | null>(null);
  const [error, setError] = createSignal<string | null>(null);
  const [windowDown, setWindowDown] = createSignal(false);

  const join = async (id: string) => {
    if (joining()) return;
    setJoining(id);
    setError(null);
    try {
      await api.join(id);
      navigate(conversationPath(id));
    } catch (e) {
      setError(errorText(e));
    } finally {
      setJoining(null);
    }
  };

  const notifications = useNotifications();
  const bannerShown = () => inbox.connection === "reconnecting" || windowDown();

  return (
    <div class="page conversations" classList={{ "has-selection": props.selectedId !== null }}>
      <ConnectionBanner show={bannerShown()} />
      {/* Both panes are the main content: on a phone only one of them shows at a time. */}
      <main class="panes">
        <section
          class="list-pane"
          aria-label="Conversation lists"
          onPointerEnter={prefetchWindow}
          onFocusIn={prefetchWindow}
        >
          <ConversationList
            inbox={inbox}
            actions={inboxActions}
            selectedId={props.selectedId}
            joining={joining()}
            onJoin={(id) => void join(id)}
            error={error() ?? inbox.error}
            onDismissError={() => {
              setError(null);
              inboxActions.dismissError();
            }}
            banner={<Show when={notifications}>{(n) => <NotificationBanner state={n()[0]} actions={n()[1]} />}</Show>}
          />
        </section>
        <div class="window-pane">
          {/* On a phone the list, and its heading, hide while a conversation is open: the page keeps its h1. */}
          <h1 class="sr-only window-pane-heading">Conversations</h1>
          <Show
            when={props.selectedId}
            keyed
            fallback={
              <div class="window-empty">
                <ChatIcon />
                <p>Select a conversation to read it, or join one that is waiting.</p>
              </div>
            }
          >
            {(id) => (
              <ErrorBoundary
                fallback={(_err, retry) => <LoadFailed what="The conversation" retry={retry} class="window-empty" />}
              >
                <Suspense
                  fallback={
                    <div class="window-empty" aria-busy="true">
                      <span class="spinner large" aria-label="Loading the conversation" />
                    </div>
                  }
                >
                  <ConversationWindow
                    id={id}
                    me={me}
                    summary={inboxActions.find(id)}
                    onBack={() => navigate("/conversations")}
                    onDeleted={() => {
                      navigate("/conversations", { replace: true });
                      notify("Conversation deleted");
                    }}
                    onConnection={setWindowDown}
                    onLive={(row) => inboxActions.live(id, row)}
                    onRepeatedFailure={verify}
                  />
                </Suspense>
              </ErrorBoundary>
            )}
          </Show>
        </div>
      </main>
    </div>
  );
}
