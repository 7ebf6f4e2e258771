/**
 * Opening the panel socket ahead of its owner, shared by the page's first
 * classic script (panel/build-early.mjs) and the module (early-socket.ts). Imports
 * nothing, so the classic script stays a few hundred bytes.
 */

/**
 * Whether this browser was signed in when the panel last knew: a hint, so a
 * signed-out visitor's browser does not try (and log a refused socket); the
 * cookie still decides.
 */
export const HINT = "microchat.signedIn";

/** Where the classic script leaves the socket it opened, for the module to take. */
export const PARKED = "__microchatPanelSocket";

/** A socket opened ahead of its owner: the text frames it heard so far, and how to stop listening. */
export interface OpenedEarly {
  ws: WebSocket;
  heard: string[];
  stop(): void;
}

function wasSignedIn(): boolean {
  try {
    return localStorage.getItem(HINT) === "1";
  } catch {
    return false;
  }
}

/** Opens `/ws/panel` if this browser was signed in, recording what it hears; null otherwise. */
export function openPanelSocket(): OpenedEarly | null {
  if (typeof WebSocket !== "function" || !wasSignedIn()) return null;
  let ws: WebSocket;
  try {
    ws = new WebSocket(`${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/ws/panel`);
  } catch {
    return null;
  }
  const heard: string[] = [];
  const onMessage = (e: MessageEvent) => heard.push(e.data as string);
  ws.addEventListener("message", onMessage);
  return { ws, heard, stop: () => ws.removeEventListener("message", onMessage) };
}
