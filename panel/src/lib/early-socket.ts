/**
 * The panel socket, opened the moment the panel's script runs.
 *
 * The conversations screen needs three answers before its first row: who is
 * signed in (`/api/auth/me`), whether setup is needed, and the conversation
 * index (the first frame of `/ws/panel`). Asked one after another they cost
 * three round trips plus the drawing in between. The page preloads the first
 * two (index.html), and its first, classic script (panel/build-early.mjs) opens the
 * socket while the page is still parsed, so the handshake and the index
 * travel while the module script arrives and is evaluated; this module takes
 * that socket (or opens one, if the script did not). The inbox takes it over (`liveSocket`'s `early` option) with the
 * frames heard so far. The cookie decides as it does for any socket: without
 * a session the upgrade is refused and the socket closes, unused.
 */
import type { EarlySocket } from "../../../widget/src/lib/live-socket";
import { HINT, openPanelSocket, PARKED, type OpenedEarly } from "./early-open";

let early: OpenedEarly | null = null;

export function rememberSignedIn(signedIn: boolean): void {
  try {
    if (signedIn) localStorage.setItem(HINT, "1");
    else localStorage.removeItem(HINT);
  } catch {
    // Storage refused (private mode, policy): the socket just opens later.
  }
}

/**
 * The socket the page's first script opened (panel/build-early.mjs), taken once; or, if it
 * opened none (not signed in before, or the script did not run), one opened now.
 */
export function openEarlySocket(): void {
  if (early) return;
  const w = window as unknown as Record<string, OpenedEarly | undefined>;
  early = w[PARKED] ?? openPanelSocket();
  delete w[PARKED];
}

/** The early socket and what it heard, once; null if none was opened or it was taken or dropped. */
export function takeEarlySocket(): EarlySocket | null {
  const taken = early;
  early = null;
  taken?.stop();
  return taken;
}

/** Nobody will use it (the session needs a login or setup first): close it. */
export function dropEarlySocket(): void {
  const s = takeEarlySocket();
  if (s && s.ws.readyState <= WebSocket.OPEN) s.ws.close(1000, "unused");
}
