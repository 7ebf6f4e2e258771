/**
 * The chat's side of the conversation with the host page (the loader, which
 * owns the iframe): what the loader put in the URL fragment (site key and
 * page, never a token), the visitor session it hands over by postMessage,
 * the messages we post to it, and whether the chat is open or minimised there
 * (the unread count it shows on the launcher is unread.ts's).
 *
 * Security: postMessage goes only to the host page's origin, and only
 * messages from the parent window at that origin are believed. The loader
 * answers a session request only to this frame's window at our origin.
 */
import type { VisitorSession } from "../../worker/protocol";

const params = new URLSearchParams(location.hash.slice(1));

/** A value the loader put in the iframe's URL fragment (`k` site key, `p` page). */
export const param = (name: string): string | null => params.get(name);

/**
 * The host page's origin: the only window our postMessages go to. Where the
 * browser names our parent's origin, that is it; else the page the loader named.
 */
const hostOrigin = (() => {
  const ancestor = (location as Location & { ancestorOrigins?: DOMStringList }).ancestorOrigins?.[0];
  if (ancestor) return ancestor;
  try {
    return new URL(param("p") ?? "").origin;
  } catch {
    return location.origin;
  }
})();

/** Whether `e` came from the loader: our parent window, at the host page's origin. */
const fromHost = (e: MessageEvent): boolean => e.source === parent && e.origin === hostOrigin;

/** How long to wait for the loader's answer before going on without it (a page with no loader). */
const HOST_ANSWER_MS = 3000;

/** Posts `{ microchat: kind, ...data }` to the host page. */
export function toHost(kind: string, data: Record<string, unknown> = {}): void {
  parent.postMessage({ microchat: kind, ...data }, hostOrigin);
}

/**
 * The visitor session the loader holds (it reads it from the host page's
 * storage each time), handed over by postMessage rather than in our URL;
 * null when it has none, or when no loader answers (a page without one).
 */
export function sessionFromHost(): Promise<VisitorSession | null> {
  if (parent === window) return Promise.resolve(null);
  return new Promise((resolve) => {
    const done = (session: VisitorSession | null) => {
      removeEventListener("message", onAnswer);
      clearTimeout(timer);
      resolve(session);
    };
    const onAnswer = (e: MessageEvent) => {
      const data = e.data as { microchat?: string; session?: VisitorSession | null } | null;
      if (!fromHost(e) || data?.microchat !== "session") return;
      done(typeof data.session?.token === "string" ? data.session : null);
    };
    const timer = setTimeout(() => done(null), HOST_ANSWER_MS);
    addEventListener("message", onAnswer);
    toHost("getSession");
  });
}

/**
 * Listens to the loader: `onShown` runs each time the visitor opens (true)
 * or minimises (false) the chat. Then tells the loader we listen: it posts
 * nothing to us before (a message to a frame still loading would be lost).
 */
export function listenToHost(onShown: (open: boolean) => void): void {
  addEventListener("message", (e) => {
    if (!fromHost(e)) return;
    const kind = (e.data as { microchat?: string } | null)?.microchat;
    if (kind === "opened" || kind === "minimised") onShown(kind === "opened");
  });
  toHost("ready");
}
