/**
 * The list column: Unassigned (with JOIN on each row), then the Mine / All tabs.
 */
import { createSignal, For, Match, Show, Switch, type JSX } from "solid-js";
import type { ConversationSummary, PagedView } from "../../../worker/protocol";
import { relativeTime, fullTime, visitorName } from "../lib/format";
import { conversationPath } from "../lib/paths";
import type { InboxActions, InboxState } from "../stores/inbox";
import { VisitorAvatar } from "./avatar";
import { VirtualRows } from "./virtual-rows";

type TabName = "mine" | "all";

export function ConversationList(props: {
  inbox: InboxState;
  actions: InboxActions;
  selectedId: string | null;
  joining: string | null;
  onJoin: (id: string) => void;
  error: string | null;
  onDismissError: () => void;
  /** Shown under the header (the desktop notifications offer). */
  banner?: JSX.Element;
}) {
  const [tab, setTab] = createSignal<TabName>("mine");

  const onTabKey = (e: KeyboardEvent) => {
    if (e.key === "ArrowRight" || e.key === "ArrowLeft") {
      e.preventDefault();
      const next: TabName = tab() === "mine" ? "all" : "mine";
      setTab(next);
      document.getElementById(`tab-${next}`)?.focus();
    }
  };

  const onScroll = (e: Event) => {
    const el = e.currentTarget as HTMLElement;
    if (el.scrollHeight - el.scrollTop - el.clientHeight < 120) props.actions.loadMore(tab());
  };

  return (
    <div class="list-scroll" data-scroll-container onScroll={onScroll}>
      <header class="list-header">
        <h1>Conversations</h1>
      </header>
      {props.banner}

      <Show when={props.error}>
        <div class="inline-error" role="alert">
          <span>{props.error}</span>
          <button type="button" class="link-button" onClick={() => props.onDismissError()}>
            Dismiss
          </button>
        </div>
      </Show>

      <section class="list-section" aria-labelledby="unassigned-heading">
        <h2 id="unassigned-heading" class="section-title">
          Unassigned
          <Show when={props.inbox.waiting > 0}>
            <span class="count" data-testid="waiting-count" aria-label={`${props.inbox.waiting} waiting`}>
              {props.inbox.waiting}
            </span>
          </Show>
        </h2>
        <div class="list-body" data-testid="unassigned-list" aria-busy={props.inbox.phase === "loading"}>
          <ConversationRows
            items={props.inbox.unassigned}
            loading={props.inbox.phase === "loading"}
            empty="No one is waiting"
            selectedId={props.selectedId}
            joinable
            joining={props.joining}
            onJoin={props.onJoin}
          >
            <LoadMore
              view="unassigned"
              inbox={props.inbox}
              actions={props.actions}
              label={(() => {
                const more = props.inbox.waiting - props.inbox.unassigned.length;
                return more > 0 ? `Show ${more} more waiting` : "Show more waiting";
              })()}
            />
          </ConversationRows>
        </div>
      </section>

      <div class="tabs" role="tablist" aria-label="Conversation lists">
        <Tab name="mine" selected={tab() === "mine"} onSelect={setTab} onKeyDown={onTabKey}>
          Mine
          <Show when={props.inbox.mine.length > 0}>
            <span class="count">
              {props.inbox.mine.length}
              {props.inbox.hasMore.mine ? "+" : ""}
            </span>
          </Show>
        </Tab>
        <Tab name="all" selected={tab() === "all"} onSelect={setTab} onKeyDown={onTabKey}>
          All
        </Tab>
      </div>

      <Show
        when={tab() === "mine"}
        fallback={
          <TabPanel name="all">
            <ConversationRows
              items={props.inbox.all}
              loading={props.inbox.phase === "loading"}
              empty="No conversations yet"
              selectedId={props.selectedId}
              onJoin={props.onJoin}
            >
              <LoadMore view="all" inbox={props.inbox} actions={props.actions} label="Load more" />
            </ConversationRows>
          </TabPanel>
        }
      >
        <TabPanel name="mine">
          <ConversationRows
            items={props.inbox.mine}
            loading={props.inbox.phase === "loading"}
            empty="You have no active conversations"
            selectedId={props.selectedId}
            onJoin={props.onJoin}
          >
            <LoadMore view="mine" inbox={props.inbox} actions={props.actions} label="Load more" />
          </ConversationRows>
        </TabPanel>
      </Show>
    </div>
  );
}

/** The button under a list whose older rows are still on the server. */
function LoadMore(props: { view: PagedView; inbox: InboxState; actions: InboxActions; label: string }) {
  return (
    <Show when={props.inbox.hasMore[props.view]}>
      <div class="load-more">
        <button
          type="button"
          class="button secondary"
          data-testid={`load-more-${props.view}`}
          disabled={props.inbox.loadingMore !== null}
          onClick={() => props.actions.loadMore(props.view)}
        >
          {props.inbox.loadingMore === props.view ? "Loading…" : props.label}
        </button>
      </div>
    </Show>
  );
}

/** One tab of the Mine / All tablist; it controls the panel `panel-<name>`. */
function Tab(props: {
  name: TabName;
  selected: boolean;
  onSelect: (name: TabName) => void;
  onKeyDown: (e: KeyboardEvent) => void;
  children: JSX.Element;
}) {
  return (
    <button
      type="button"
      role="tab"
      id={`tab-${props.name}`}
      aria-selected={props.selected}
      aria-controls={`panel-${props.name}`}
      tabIndex={props.selected ? 0 : -1}
      class="tab"
      onClick={() => props.onSelect(props.name)}
      onKeyDown={(e) => props.onKeyDown(e)}
      data-testid={`tab-${props.name}`}
    >
      {props.children}
    </button>
  );
}

/** The panel a `Tab` controls; its list is found by `data-testid="<name>-list"`. */
function TabPanel(props: { name: TabName; children: JSX.Element }) {
  return (
    <section
      id={`panel-${props.name}`}
      role="tabpanel"
      aria-labelledby={`tab-${props.name}`}
      class="list-section list-body"
      data-testid={`${props.name}-list`}
    >
      {props.children}
    </section>
  );
}

/**
 * One list of conversations: skeleton rows while loading, a line of text when
 * empty, else the rows followed by `children` (e.g. a "Load more" button).
 * Only Unassigned rows are `joinable`; `joining` is the id being joined.
 */
function ConversationRows(props: {
  items: ConversationSummary[];
  loading: boolean;
  empty: string;
  selectedId: string | null;
  joinable?: boolean;
  joining?: string | null;
  onJoin: (id: string) => void;
  children?: JSX.Element;
}) {
  return (
    <Switch>
      <Match when={props.loading}>
        <LoadingRows />
      </Match>
      <Match when={props.items.length === 0}>
        <p class="empty">{props.empty}</p>
      </Match>
      <Match when={true}>
        <VirtualRows items={props.items}>
          {(c) => (
            <ConversationRow
              c={c}
              selected={props.selectedId === c.id}
              joinable={props.joinable ?? false}
              joining={props.joining === c.id}
              onJoin={props.onJoin}
            />
          )}
        </VirtualRows>
        {props.children}
      </Match>
    </Switch>
  );
}

function ConversationRow(props: {
  c: ConversationSummary;
  selected: boolean;
  joinable: boolean;
  joining: boolean;
  onJoin: (id: string) => void;
}) {
  const name = () => visitorName(props.c.visitor);
  const preview = () => props.c.preview || (props.c.previewRole === "system" ? "" : "…");
  return (
    <div
      class="row"
      classList={{ selected: props.selected, unread: props.c.unread > 0, joinable: props.joinable }}
      data-testid="conversation-row"
      data-conversation-id={props.c.id}
      data-status={props.c.status}
    >
      <a class="row-link" href={conversationPath(props.c.id)} aria-current={props.selected ? "page" : undefined}>
        <VisitorAvatar visitor={props.c.visitor} />
        <span class="row-main">
          <span class="row-top">
            <span class="row-name" title={name()}>
              {name()}
            </span>
            <time class="row-time" dateTime={new Date(props.c.lastAt).toISOString()} title={fullTime(props.c.lastAt)}>
              {relativeTime(props.c.lastAt)}
            </time>
          </span>
          <span class="row-bottom">
            <span class="row-preview" classList={{ system: props.c.previewRole === "system" }}>
              <Show when={props.c.previewRole === "operator"}>
                <span class="row-preview-who">Reply: </span>
              </Show>
              {preview()}
            </span>
            <Show when={props.c.unread > 0}>
              <span class="badge" aria-label={`${props.c.unread} unread`} data-testid="unread-badge">
                {props.c.unread > 99 ? "99+" : props.c.unread}
              </span>
            </Show>
          </span>
        </span>
      </a>
      <Show when={props.joinable}>
        <button
          type="button"
          class="button join small"
          data-testid="join-button"
          aria-label={`Join conversation with ${name()}`}
          disabled={props.joining}
          onClick={() => props.onJoin(props.c.id)}
        >
          {props.joining ? "Joining…" : "Join"}
        </button>
      </Show>
    </div>
  );
}

function LoadingRows() {
  return (
    <div class="loading-rows" aria-busy="true" aria-label="Loading conversations">
      <For each={[0, 1, 2]}>
        {() => (
          <div class="skeleton-row">
            <span class="skeleton avatar-md" />
            <span class="skeleton-lines">
              <span class="skeleton line" />
              <span class="skeleton line short" />
            </span>
          </div>
        )}
      </For>
    </div>
  );
}
