/**
 * A WebSocket that reconnects by itself.
 *
 * Both panel sockets (`/ws/panel` and `/ws/conversations/:id`) use it. It only
 * moves JSON frames and keeps the connection alive; what to resend after a
 * reconnect (hello, outbox) is the owning store's business, done in `onOpen`.
 */

export type SocketStatus =
  /** First attempt, never connected yet. */
  | "connecting"
  | "open"
  /** Was open or failed, waiting for the next attempt. */
  | "reconnecting";

export interface LiveSocketOptions<In> {
  /** Path on this origin, e.g. `/ws/panel`. */
  path: string;
  onOpen(): void;
  onFrame(frame: In): void;
  onStatus?(status: SocketStatus): void;
  /**
   * Called after a few attempts in a row failed before opening. The upgrade
   * answer's status is invisible to the browser, so this is where the owner
   * checks whether the session expired (and stops the socket if so).
   */
  onRepeatedFailure?(): void;
}

const MIN_DELAY = 500;
const MAX_DELAY = 10_000;

/** URL of a socket path on the page's own origin. */
export function socketUrl(path: string): string {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  return `${proto}//${location.host}${path}`;
}

export class LiveSocket<In, Out> {
  private ws: WebSocket | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private failures = 0;
  private stopped = false;
  private status: SocketStatus = "connecting";

  constructor(private readonly opts: LiveSocketOptions<In>) {}

  start(): void {
    window.addEventListener("online", this.onOnline);
    this.connect();
  }

  /** Close for good; no further reconnects. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    window.removeEventListener("online", this.onOnline);
    const ws = this.ws;
    this.ws = null;
    if (ws && ws.readyState <= WebSocket.OPEN) ws.close(1000, "bye");
  }

  get isOpen(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  /** Send a frame if connected; returns false when it was not sent. */
  send(frame: Out): boolean {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  private setStatus(status: SocketStatus): void {
    if (this.status === status) return;
    this.status = status;
    this.opts.onStatus?.(status);
  }

  private connect(): void {
    if (this.stopped) return;
    let opened = false;
    let ws: WebSocket;
    try {
      ws = new WebSocket(socketUrl(this.opts.path));
    } catch {
      this.scheduleRetry(false);
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      if (this.ws !== ws) return;
      opened = true;
      this.failures = 0;
      this.setStatus("open");
      this.opts.onOpen();
    };
    ws.onmessage = (e: MessageEvent) => {
      if (this.ws !== ws || typeof e.data !== "string") return;
      let frame: unknown;
      try {
        frame = JSON.parse(e.data);
      } catch {
        return;
      }
      if (frame && typeof frame === "object" && "type" in frame) this.opts.onFrame(frame as In);
    };
    // "error" is always followed by "close"; reconnecting happens there only.
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.scheduleRetry(opened);
    };
  }

  private scheduleRetry(wasOpen: boolean): void {
    if (this.stopped) return;
    this.setStatus("reconnecting");
    if (!wasOpen) {
      this.failures++;
      if (this.failures === 3 || (this.failures > 3 && this.failures % 5 === 0)) this.opts.onRepeatedFailure?.();
    }
    // Exponential backoff with jitter so a restarted server is not hit by
    // every panel at the same instant.
    const base = Math.min(MAX_DELAY, MIN_DELAY * 2 ** Math.max(0, this.failures - 1));
    const delay = wasOpen ? MIN_DELAY : base * (0.8 + Math.random() * 0.4);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  private readonly onOnline = (): void => {
    if (this.stopped || this.ws) return;
    clearTimeout(this.timer);
    this.connect();
  };
}
