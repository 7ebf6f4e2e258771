/**
 * Telling the operator that a visitor wrote: a system notification (the
 * browser's Notification API), a chime, a toast in the panel and a count in
 * the tab title.
 *
 * Two sources:
 * - `notify` frames from the panel socket: a visitor wrote in Unassigned. The
 *   server sends them only to operators who are online and not away.
 * - visitor messages in conversations this operator joined, while the panel's
 *   tab is hidden (nobody is looking at the unread badge): these get a system
 *   notification and count in the title, but no toast.
 *
 * The same message can arrive twice (the open conversation's socket and the
 * panel's upsert), so system notifications carry the conversation as `tag`
 * (a newer one replaces the older) and repeats within a few seconds are dropped.
 *
 * Permission is only ever asked from a click (`enable`), never on load.
 */
import { createContext, onCleanup, useContext } from "solid-js";
import { createStore, produce } from "solid-js/store";
import type { ConversationSummary } from "../../../worker/protocol";
import { armChime, chime } from "../lib/chime";
import { visitorName } from "../lib/format";

export type Permission = NotificationPermission | "unsupported";

export interface AlertItem {
  /** The conversation. */
  id: string;
  /** "waiting": in Unassigned (toast + JOIN); "mine": a joined conversation while the tab was hidden. */
  kind: "waiting" | "mine";
  name: string;
  preview: string;
  reason: "new" | "requeued" | "message";
  at: number;
  /** Notifications about it not seen yet (they count in the tab title). */
  unseen: number;
}

export interface NotificationsState {
  /** Newest first. */
  items: AlertItem[];
  permission: Permission;
  muted: boolean;
  /** The operator said "Not now" to the permission banner. */
  bannerDismissed: boolean;
}

export interface NotificationsActions {
  /** A `notify` frame: a visitor wrote in Unassigned. */
  waiting(c: ConversationSummary, reason: AlertItem["reason"]): void;
  /** A conversation changed: its alerts take the visitor's current name, as the lists show it. */
  update(c: ConversationSummary): void;
  /** A visitor message in a conversation this operator joined; alerts only while the tab is hidden. */
  visitorMessage(input: { id: string; name: string; text: string }): void;
  /** Open the conversation (from a toast or a system notification). */
  view(id: string): void;
  dismiss(id: string): void;
  /** The conversation is on screen: what was said about it is seen. */
  seen(id: string): void;
  /** Drop toasts of conversations no longer waiting (someone joined, or it was deleted). */
  prune(waiting: ReadonlySet<string>): void;
  /** Ask for permission (call from a click). */
  enable(): Promise<void>;
  dismissBanner(): void;
  setMuted(muted: boolean): void;
  unseen(): number;
}

const MUTED_KEY = "microchat.notifications.muted";
const BANNER_KEY = "microchat.notifications.bannerDismissed";
const REPEAT_MS = 5_000;

function stored(key: string): boolean {
  try {
    return localStorage.getItem(key) === "1";
  } catch {
    return false;
  }
}
function store(key: string, on: boolean): void {
  try {
    if (on) localStorage.setItem(key, "1");
    else localStorage.removeItem(key);
  } catch {
    // Private mode: the choice lasts for this page only.
  }
}

function currentPermission(): Permission {
  return typeof Notification === "undefined" ? "unsupported" : Notification.permission;
}

const hidden = () => document.visibilityState === "hidden";

export function createNotifications(opts: {
  /** The conversation open in the panel, if any. */
  openId: () => string | null;
  /** Opens a conversation in the panel. */
  open: (id: string) => void;
}): [NotificationsState, NotificationsActions] {
  const [state, setState] = createStore<NotificationsState>({
    items: [],
    permission: currentPermission(),
    muted: stored(MUTED_KEY),
    bannerDismissed: stored(BANNER_KEY),
  });
  armChime();

  const recent = new Map<string, number>();
  const repeated = (key: string): boolean => {
    const now = Date.now();
    for (const [k, at] of recent) if (now - at > REPEAT_MS) recent.delete(k);
    if (recent.has(key)) return true;
    recent.set(key, now);
    return false;
  };

  const system = (id: string, title: string, body: string) => {
    if (currentPermission() !== "granted") return;
    try {
      const n = new Notification(title, { body, tag: `conversation-${id}`, icon: "/favicon.svg" });
      n.onclick = () => {
        window.focus();
        actions.view(id);
        n.close();
      };
    } catch {
      // Some browsers (Chrome on Android) only notify from a service worker: the toast remains.
    }
  };

  const add = (item: Omit<AlertItem, "unseen">) =>
    setState(
      produce((s) => {
        const old = s.items.findIndex((x) => x.id === item.id);
        const unseen = (old >= 0 ? s.items[old]!.unseen : 0) + 1;
        if (old >= 0) s.items.splice(old, 1);
        s.items.unshift({ ...item, unseen });
      }),
    );

  const markSeen = (pred: (x: AlertItem) => boolean) =>
    setState(
      produce((s) => {
        for (const x of s.items) if (pred(x)) x.unseen = 0;
        // Hidden-tab alerts have no toast: once seen they are done.
        s.items = s.items.filter((x) => x.kind === "waiting" || x.unseen > 0);
      }),
    );

  const onVisibility = () => {
    if (!hidden()) markSeen(() => true);
  };
  document.addEventListener("visibilitychange", onVisibility);
  onCleanup(() => document.removeEventListener("visibilitychange", onVisibility));

  const actions: NotificationsActions = {
    waiting(c, reason) {
      // Looking at it already: nothing to tell.
      if (!hidden() && opts.openId() === c.id) return;
      const name = visitorName(c.visitor);
      const preview = c.preview.slice(0, 140);
      if (repeated(`${c.id}\n${c.lastAt}`)) return;
      add({ id: c.id, kind: "waiting", name, preview, reason, at: c.lastAt });
      if (!state.muted) chime();
      system(c.id, reason === "message" ? name : `${name} is waiting`, preview);
    },
    update(c) {
      const name = visitorName(c.visitor);
      if (state.items.some((x) => x.id === c.id && x.name !== name))
        setState("items", (x) => x.id === c.id, "name", name);
    },
    visitorMessage({ id, name, text }) {
      if (!hidden()) return;
      if (repeated(`${id}\n${text}`)) return;
      const preview = text.slice(0, 140);
      add({ id, kind: "mine", name, preview, reason: "message", at: Date.now() });
      if (!state.muted) chime();
      system(id, name, preview);
    },
    view(id) {
      opts.open(id);
      actions.dismiss(id);
    },
    dismiss(id) {
      setState("items", (list) => list.filter((x) => x.id !== id));
    },
    seen(id) {
      if (hidden()) return;
      markSeen((x) => x.id === id);
      // Opened: its toast has done its job.
      setState("items", (list) => list.filter((x) => x.id !== id));
    },
    prune(waiting) {
      setState("items", (list) => list.filter((x) => x.kind !== "waiting" || waiting.has(x.id)));
    },
    async enable() {
      if (typeof Notification === "undefined") return;
      try {
        setState("permission", await Notification.requestPermission());
      } catch {
        setState("permission", currentPermission());
      }
    },
    dismissBanner() {
      store(BANNER_KEY, true);
      setState("bannerDismissed", true);
    },
    setMuted(muted) {
      store(MUTED_KEY, muted);
      setState("muted", muted);
    },
    unseen() {
      return state.items.reduce((n, x) => n + x.unseen, 0);
    },
  };
  return [state, actions];
}

export const NotificationsContext = createContext<[NotificationsState, NotificationsActions]>();

/** The shell's notifier, or undefined outside it. */
export function useNotifications(): [NotificationsState, NotificationsActions] | undefined {
  return useContext(NotificationsContext);
}
