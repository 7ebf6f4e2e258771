/**
 * The chat's side of the conversation with the host page (the loader, which
 * owns the iframe): what the loader told us in the URL, the messages we post
 * to it, and whether the chat is open or minimised there.
 *
 * Security: postMessage goes only to the host page's origin, and only
 * messages from the parent window at that origin are believed.
 */

const params = new URLSearchParams(location.hash.slice(1));

/** A value the loader put in the iframe's URL fragment (`k` site key, `p` page, `s` session). */
export const param = (name: string): string | null => params.get(name);

/** The host page's origin: the only window our postMessages go to. */
const hostOrigin = (() => {
  try {
    return new URL(param("p") ?? "").origin;
  } catch {
    return location.origin;
  }
})();

/** Posts `{ microchat: kind, ...data }` to the host page. */
export function toHost(kind: string, data: Record<string, unknown> = {}): void {
  parent.postMessage({ microchat: kind, ...data }, hostOrigin);
}

/** Whether the chat is open on the host page (it starts open: the loader creates it when opened). */
let visible = true;
/** Operator messages that arrived while minimised; shown on the launcher. */
let unread = 0;

/** An operator's message arrived: counts as unread while the chat is minimised. */
export function operatorWrote(): void {
  if (visible) return;
  unread++;
  toHost("unread", { count: unread });
}

/** Listens to the loader: `onOpened` runs each time the visitor opens the chat. */
export function listenToHost(onOpened: () => void): void {
  addEventListener("message", (e) => {
    if (e.source !== parent || e.origin !== hostOrigin) return;
    const kind = (e.data as { microchat?: string } | null)?.microchat;
    if (kind === "opened") {
      visible = true;
      unread = 0;
      toHost("unread", { count: 0 });
      onOpened();
    } else if (kind === "minimised") {
      visible = false;
    }
  });
}
