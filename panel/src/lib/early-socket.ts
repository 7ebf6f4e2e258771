/**
 * The panel socket, opened the moment the panel's script runs.
 *
 * The conversations screen needs three answers before its first row: who is
 * signed in (`/api/auth/me`), whether setup is needed, and the conversation
 * index (the first frame of `/ws/panel`). Asked one after another they cost
 * three round trips plus the drawing in between; opened here, the socket's
 * handshake and the index travel while the page starts and the session is
 * checked. The inbox takes it over (`liveSocket`'s `early` option) with the
 * frames heard so far. The cookie decides as it does for any socket: without
 * a session the upgrade is refused and the socket closes, unused.
 */
import type { EarlySocket } from "../../../widget/src/lib/live-socket";

let early: (EarlySocket & { stop(): void }) | null = null;

/**
 * Whether this browser was signed in when the panel last knew: a hint, so a
 * signed-out visitor's browser does not try (and log a refused socket); the
 * cookie still decides.
 */
const HINT = "microchat.signedIn";

export function rememberSignedIn(signedIn: boolean): void {
  try {
    if (signedIn) localStorage.setItem(HINT, "1");
    else localStorage.removeItem(HINT);
  } catch {
    // Storage refused (private mode, policy): the socket just opens later.
  }
}

function wasSignedIn(): boolean {
  try {
    return localStorage.getItem(HINT) === "1";
  } catch {
    return false;
  }
}

/** Open `/ws/panel` ahead of the inbox (once), if this browser was signed in. */
export function openEarlySocket(): void {
  if (early || typeof WebSocket !== "function" || !wasSignedIn()) return;
  let ws: WebSocket;
  try {
    ws = new WebSocket(`${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/ws/panel`);
  } catch {
    return;
  }
  const heard: string[] = [];
  const onMessage = (e: MessageEvent) => heard.push(e.data as string);
  ws.addEventListener("message", onMessage);
  early = { ws, heard, stop: () => ws.removeEventListener("message", onMessage) };
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
