/**
 * Small socket chores both Durable Objects share. A hibernatable socket may
 * close between the moment it is found and the moment it is written to:
 * those writes are best-effort, and the close event tidies up.
 */

/** Sends text to a socket that may have closed meanwhile. */
export function trySend(ws: WebSocket, text: string): void {
  try {
    ws.send(text);
  } catch {
    // Closed meanwhile; its close event tidies up.
  }
}

/**
 * Completes the close handshake a client started, echoing its code.
 * 1005/1006 mean "no code" and may not be sent back: a normal close answers.
 */
export function echoClose(ws: WebSocket, code: number): void {
  try {
    ws.close(code === 1005 || code === 1006 ? 1000 : code, "Closed");
  } catch {
    // Already closed.
  }
}
