/**
 * The browser's Notification API, as the panel uses it: permission is only
 * ever asked from a click, and a notification carries its conversation as
 * `tag` so a newer one replaces the older instead of piling up.
 */

export type Permission = NotificationPermission | "unsupported";

export function currentPermission(): Permission {
  return typeof Notification === "undefined" ? "unsupported" : Notification.permission;
}

/** Asks for permission (call from a click); the answer, or what holds now when asking failed. */
export async function askPermission(): Promise<Permission> {
  if (typeof Notification === "undefined") return "unsupported";
  try {
    return await Notification.requestPermission();
  } catch {
    return currentPermission();
  }
}

/** A system notification about conversation `id`, if permitted; `onOpen` runs when it is clicked. */
export function notifySystem(id: string, title: string, body: string, onOpen: () => void): void {
  if (currentPermission() !== "granted") return;
  try {
    const n = new Notification(title, { body, tag: `conversation-${id}`, icon: "/favicon.svg" });
    n.onclick = () => {
      window.focus();
      onOpen();
      n.close();
    };
  } catch {
    // Some browsers (Chrome on Android) only notify from a service worker: the toast remains.
  }
}

/** A yes/no choice kept in localStorage ("1" or absent); false when storage is blocked. */
export function storedFlag(key: string): boolean {
  try {
    return localStorage.getItem(key) === "1";
  } catch {
    return false;
  }
}

export function storeFlag(key: string, on: boolean): void {
  try {
    if (on) localStorage.setItem(key, "1");
    else localStorage.removeItem(key);
  } catch {
    // Private mode: the choice lasts for this page only.
  }
}
