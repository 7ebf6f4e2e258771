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
import { armChime, chime } from "../lib/chime";
import { askPermission, currentPermission, notifySystem, storedFlag, storeFlag } from "../lib/desktop-notification";
import { visitorName } from "../lib/format";
import type { AlertItem, NotificationsActions, NotificationsState } from "./notifications-state";

const MUTED_KEY = "microchat.notifications.muted";
const BANNER_KEY = "microchat.notifications.bannerDismissed";
const REPEAT_MS = 5_000;

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
    muted: storedFlag(MUTED_KEY),
    bannerDismissed: storedFlag(BANNER_KEY),
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
      notifySystem(c.id, reason === "message" ? name : `${name} is waiting`, preview, () => actions.view(c.id));
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
      notifySystem(id, name, preview, () => actions.view(id));
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
      setState("permission", await askPermission());
    },
    dismissBanner() {
      storeFlag(BANNER_KEY, true);
      setState("bannerDismissed", true);
    },
    setMuted(muted) {
      storeFlag(MUTED_KEY, muted);
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
