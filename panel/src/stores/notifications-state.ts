/** The shape of the notifications store (see notifications.ts): the alerts held and what can be done with them. */
import type { ConversationSummary } from "../../../worker/protocol";
import type { Permission } from "../lib/desktop-notification";

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
