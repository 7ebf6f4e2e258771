/**
 * The list column: Unassigned (with JOIN on each row), then the Mine / All tabs.
 */
import { createSignal, Match, Show, Switch, type JSX } from "solid-js";
import type { ConversationSummary, PagedView } from "../../../../worker/protocol";
import type { InboxActions, InboxState } from "../../stores/inbox-state";
import { InlineError } from "../status";
import { ConversationRow, LoadingRows } from "./conversation-row";
import { VirtualRows } from "./virtual-rows";

type TabName = "mine" | "all";

const EMPTY: Record<TabName, string> = { mine: "You have no active conversations", all: "No conversations yet" };

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

      <InlineError message={props.error} action="Dismiss" onAction={props.onDismissError} />

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

      {/* Keyed: the other tab's list is a new list (its scroll and rows start afresh). */}
      <Show when={tab()} keyed>
        {(name) => (
          <TabPanel name={name}>
            <ConversationRows
              items={props.inbox[name]}
              loading={props.inbox.phase === "loading"}
              empty={EMPTY[name]}
              selectedId={props.selectedId}
              onJoin={props.onJoin}
            >
              <LoadMore view={name} inbox={props.inbox} actions={props.actions} label="Load more" />
            </ConversationRows>
          </TabPanel>
        )}
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
