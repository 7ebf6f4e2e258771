/**
 * A WebSocket that reconnects by itself.
 *
 * Both panel sockets (`/ws/panel` and `/ws/conversations/:id`) use it. It only
 * moves JSON frames and keeps the connection alive; what to resend after a
 * reconnect (hello, outbox) is the owning store's business, done in `onOpen`.
 *
 * Keep-alive: while open it sends `{"type":"ping"}` every 15 s. The Durable
 * Objects answer that exact text with `{"type":"pong"}` through
 * `setWebSocketAutoResponse`, without waking, so pings are cheap. A socket
 * that hears nothing at all for 45 s is treated as dead (a NAT or proxy can
 * drop a connection without the browser ever seeing a close) and replaced
 * through the usual backoff path. Pongs stop here; owners never see them.
 *
 * Invariant: at most one socket (`ws`) and at most one pending reconnect
 * (`retryTimer`) exist at any time. `connect()` refuses to run while a socket
 * exists, and every path that schedules a reconnect clears the previous one.
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
/** How often a ping is sent while open. */
const PING_EVERY = 15_000;
/** Silence after which an open socket is considered dead. */
const DEAD_AFTER = 45_000;
/** How often the open socket is checked (ping due? silent too long?). */
const TICK = 5_000;
/** The exact text the server's auto-response matches; do not reformat. */
const PING = '{"type":"ping"}';

/** URL of a socket path on the page's own origin. */
export function socketUrl(path: string): string {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  return `${proto}//${location.host}${path}`;
}

export class LiveSocket<In, Out> {
  private ws: WebSocket | null = null;
  /** Whether `ws` reached "open" (decides the backoff after it closes). */
  private opened = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private tickTimer: ReturnType<typeof setInterval> | undefined;
  private lastHeard = 0;
  private lastPing = 0;
  /** Pings sent since the last frame arrived. */
  private unanswered = 0;
  private failures = 0;
  private started = false;
  private stopped = false;
  private status: SocketStatus = "connecting";

  constructor(private readonly opts: LiveSocketOptions<In>) {}

  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    window.addEventListener("online", this.onOnline);
    window.addEventListener("offline", this.onOffline);
    this.connect();
  }

  /** Close for good; no further reconnects. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    window.removeEventListener("online", this.onOnline);
    window.removeEventListener("offline", this.onOffline);
    this.discard();
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
    if (this.stopped || this.ws) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    let ws: WebSocket;
    try {
      ws = new WebSocket(socketUrl(this.opts.path));
    } catch {
      this.scheduleRetry(false);
      return;
    }
    this.ws = ws;
    this.opened = false;
    ws.onopen = () => {
      if (this.ws !== ws) return;
      this.opened = true;
      this.failures = 0;
      this.lastHeard = this.lastPing = Date.now();
      this.unanswered = 0;
      clearInterval(this.tickTimer);
      this.tickTimer = setInterval(() => this.tick(ws), TICK);
      this.setStatus("open");
      this.opts.onOpen();
    };
    ws.onmessage = (e: MessageEvent) => {
      if (this.ws !== ws) return;
      this.lastHeard = Date.now();
      this.unanswered = 0;
      if (typeof e.data !== "string") return;
      let frame: unknown;
      try {
        frame = JSON.parse(e.data);
      } catch {
        return;
      }
      if (!frame || typeof frame !== "object" || !("type" in frame)) return;
      if (frame.type === "pong") return;
      this.opts.onFrame(frame as In);
    };
    // "error" is always followed by "close"; reconnecting happens there only.
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.drop();
    };
  }

  private tick(ws: WebSocket): void {
    if (this.ws !== ws || ws.readyState !== WebSocket.OPEN) return;
    const now = Date.now();
    // Also require two unanswered pings: a background tab's timers can be
    // throttled to once a minute, and then 45 s pass between our own pings
    // even though every one of them was answered.
    if (now - this.lastHeard >= DEAD_AFTER && this.unanswered >= 2) {
      this.drop();
      return;
    }
    if (now - this.lastPing >= PING_EVERY) {
      ws.send(PING);
      this.lastPing = now;
      this.unanswered++;
    }
  }

  /** Forget the current socket (its late events are ignored) and close it. */
  private discard(): void {
    clearInterval(this.tickTimer);
    this.tickTimer = undefined;
    const ws = this.ws;
    this.ws = null;
    if (ws && ws.readyState <= WebSocket.OPEN) ws.close(1000, "bye");
  }

  /** The current socket closed or went silent: replace it after a backoff. */
  private drop(): void {
    const wasOpen = this.opened;
    this.discard();
    this.scheduleRetry(wasOpen);
  }

  private scheduleRetry(wasOpen: boolean): void {
    if (this.stopped) return;
    this.setStatus("reconnecting");
    clearTimeout(this.retryTimer);
    // Offline, an attempt cannot succeed: probe slowly (the browser's flag is
    // sometimes wrong) without counting failures; "online" reconnects at once.
    if (!navigator.onLine) {
      this.retryTimer = setTimeout(() => this.connect(), MAX_DELAY);
      return;
    }
    if (!wasOpen) {
      this.failures++;
      if (this.failures === 3 || (this.failures > 3 && this.failures % 5 === 0)) this.opts.onRepeatedFailure?.();
    }
    // Exponential backoff with jitter so a restarted server is not hit by
    // every panel at the same instant.
    const base = Math.min(MAX_DELAY, MIN_DELAY * 2 ** Math.max(0, this.failures - 1));
    const delay = wasOpen ? MIN_DELAY : base * (0.8 + Math.random() * 0.4);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  private readonly onOffline = (): void => {
    if (this.stopped) return;
    // Drop at once so the banner shows now rather than after 45 s of silence.
    if (this.ws) this.drop();
    else this.scheduleRetry(false);
  };

  private readonly onOnline = (): void => {
    if (this.stopped || this.isOpen) return;
    // A socket still connecting was started while offline and may hang; start afresh.
    this.discard();
    this.failures = 0;
    this.connect();
  };
}
