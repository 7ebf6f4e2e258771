/**
 * The live socket: a WebSocket that stays connected, shared by the operator
 * panel (`/ws/panel`, `/ws/conversations/:id`) and the visitor widget
 * (`/ws/visitor`). It moves JSON frames and keeps the connection alive; what
 * a connection means (the outbox, the message log) is the owner's business.
 *
 * - Reconnect: exponential backoff from 0.5 s to 10 s with ±20 % jitter, so a
 *   restarted server is not hit by every panel and widget at the same instant.
 *   A socket that had opened is replaced after the shortest delay.
 * - Resume: `resume()` is the first frame of every connection (a `hello` with
 *   the last seq held), so the server sends only what was missed.
 * - Keep-alive: while open it sends `{"type":"ping"}` every 15 s. The Durable
 *   Objects answer that exact text with `{"type":"pong"}` through
 *   `setWebSocketAutoResponse`, without waking, so pings are cheap. A socket
 *   that hears nothing for 45 s (and two pings in a row unanswered) is treated
 *   as dead: a NAT or proxy can drop a connection without the browser ever
 *   seeing a close. Pongs stop here; owners never see them.
 * - Online / offline: the browser's `offline` event drops the socket at once
 *   (the owner says so now, not after 45 s of silence) and retries slowly
 *   without counting failures; `online` reconnects at once.
 *
 * Invariant: at most one socket, one URL being resolved and one pending retry
 * exist at any time. `connect()` refuses to run while either of the first two
 * exists, and every path that schedules a retry clears the previous one.
 *
 * Written as a closure rather than a class: it is in the widget's bundle, and
 * local names minify where properties would not.
 */

export type SocketStatus =
  /** First attempt, never connected yet. */
  | "connecting"
  | "open"
  /** Was open or failed, waiting for the next attempt. */
  | "reconnecting";

export interface LiveSocketOptions<In, Out> {
  /**
   * Where to connect on this origin: a path such as `/ws/panel`, or a
   * function asked before every attempt (the widget fetches a one-use
   * ticket). A function that throws or rejects counts as a failed attempt.
   */
  path: string | (() => string | Promise<string>);
  /** The resume hook: the first frame sent on every (re)connection. */
  resume?: () => Out;
  onFrame(frame: In): void;
  onStatus?(status: SocketStatus): void;
  /**
   * Called after 3 attempts in a row failed before opening, then every 5th.
   * The upgrade answer's status is invisible to the browser, so this is where
   * the owner checks whether its session expired (and stops the socket if so).
   */
  onRepeatedFailure?(): void;
  /**
   * A socket to this path opened before the owner existed (the panel opens
   * its own as its script starts, so the index is on its way while the page
   * draws), with the frames it has heard so far. Used for the first attempt
   * if it is still connecting or open; otherwise forgotten, and no failure is
   * counted.
   */
  early?: () => EarlySocket | null;
}

/** A socket opened ahead of its owner, and the text frames it heard before being taken. */
export interface EarlySocket {
  ws: WebSocket;
  heard: string[];
}

export interface LiveSocket<Out> {
  /** Connect, and keep connecting until `stop()`. */
  start(): void;
  /** Close for good; no further reconnects. */
  stop(): void;
  /** Send a frame if open; false when it was not sent. */
  send(frame: Out): boolean;
  isOpen(): boolean;
  status(): SocketStatus;
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

/** A live socket to `opts.path` on this page's origin; nothing happens before `start()`. */
export function liveSocket<In extends { type: string }, Out>(opts: LiveSocketOptions<In, Out>): LiveSocket<Out> {
  let ws: WebSocket | null = null;
  /** Whether `ws` reached "open" (decides the backoff after it closes). */
  let opened = false;
  /** A path function is being awaited. */
  let resolving = false;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let tickTimer: ReturnType<typeof setInterval> | undefined;
  let lastHeard = 0;
  let lastPing = 0;
  /** Pings sent since the last frame arrived. */
  let unanswered = 0;
  let failures = 0;
  let started = false;
  let stopped = false;
  let status: SocketStatus = "connecting";

  const isOpen = () => ws?.readyState === WebSocket.OPEN;

  const setStatus = (next: SocketStatus) => {
    if (status === next) return;
    status = next;
    opts.onStatus?.(next);
  };

  const send = (frame: Out): boolean => {
    if (!ws || !isOpen()) return false;
    ws.send(JSON.stringify(frame));
    return true;
  };

  const connect = () => {
    if (stopped || ws || resolving) return;
    clearTimeout(retryTimer);
    retryTimer = undefined;
    let path: string | Promise<string>;
    try {
      path = typeof opts.path === "string" ? opts.path : opts.path();
    } catch {
      return scheduleRetry(false);
    }
    if (typeof path === "string") return open(path);
    resolving = true;
    path.then(
      (p) => {
        resolving = false;
        open(p);
      },
      () => {
        resolving = false;
        scheduleRetry(false);
      },
    );
  };

  const open = (path: string) => {
    if (stopped || ws) return;
    let s: WebSocket;
    const early = opts.early?.();
    const taken = early && early.ws.readyState <= WebSocket.OPEN ? early : null;
    try {
      s = taken?.ws ?? new WebSocket(`${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}${path}`);
    } catch {
      return scheduleRetry(false);
    }
    ws = s;
    opened = false;
    const opens = () => {
      if (ws !== s) return;
      opened = true;
      failures = unanswered = 0;
      lastHeard = lastPing = Date.now();
      clearInterval(tickTimer);
      tickTimer = setInterval(tick, TICK);
      if (opts.resume) send(opts.resume());
      setStatus("open");
    };
    s.onopen = opens;
    const hear = (data: unknown) => {
      if (ws !== s) return;
      lastHeard = Date.now();
      unanswered = 0;
      let frame: In | null = null;
      try {
        frame = JSON.parse(data as string) as In;
      } catch {
        // Not JSON: nothing an owner could use.
      }
      if (frame && typeof frame === "object" && frame.type !== "pong") opts.onFrame(frame);
    };
    s.onmessage = (e: MessageEvent) => hear(e.data);
    // "error" is always followed by "close"; reconnecting happens there only.
    s.onclose = () => {
      if (ws === s) drop();
    };
    if (taken && s.readyState === WebSocket.OPEN) {
      opens();
      for (const data of taken.heard.splice(0)) hear(data);
    }
  };

  const tick = () => {
    if (!ws || !isOpen()) return;
    const now = Date.now();
    // Also require two unanswered pings: a background tab's timers can be
    // throttled to once a minute, and then 45 s pass between our own pings
    // even though every one of them was answered.
    if (now - lastHeard >= DEAD_AFTER && unanswered >= 2) return drop();
    if (now - lastPing >= PING_EVERY) {
      ws.send(PING);
      lastPing = now;
      unanswered++;
    }
  };

  /** Forget the current socket (its late events are ignored) and close it. */
  const discard = () => {
    clearInterval(tickTimer);
    tickTimer = undefined;
    const s = ws;
    ws = null;
    if (s && s.readyState <= WebSocket.OPEN) s.close(1000, "bye");
  };

  /** The current socket closed or went silent: replace it after a backoff. */
  const drop = () => {
    const wasOpen = opened;
    discard();
    scheduleRetry(wasOpen);
  };

  const scheduleRetry = (wasOpen: boolean) => {
    if (stopped) return;
    setStatus("reconnecting");
    clearTimeout(retryTimer);
    // Offline, an attempt cannot succeed: probe slowly (the browser's flag is
    // sometimes wrong) without counting failures; "online" reconnects at once.
    if (!navigator.onLine) {
      retryTimer = setTimeout(connect, MAX_DELAY);
      return;
    }
    if (!wasOpen) {
      failures++;
      if (failures === 3 || (failures > 3 && failures % 5 === 0)) opts.onRepeatedFailure?.();
    }
    const base = wasOpen ? MIN_DELAY : Math.min(MAX_DELAY, MIN_DELAY * 2 ** Math.max(0, failures - 1));
    retryTimer = setTimeout(connect, base * (0.8 + Math.random() * 0.4));
  };

  const onOffline = () => {
    if (stopped) return;
    if (ws) drop();
    else if (!resolving) scheduleRetry(false);
  };

  const onOnline = () => {
    if (stopped || isOpen() || resolving) return;
    // A socket still connecting was started while offline and may hang; start afresh.
    discard();
    failures = 0;
    connect();
  };

  return {
    start() {
      if (started || stopped) return;
      started = true;
      addEventListener("online", onOnline);
      addEventListener("offline", onOffline);
      connect();
    },
    stop() {
      stopped = true;
      clearTimeout(retryTimer);
      removeEventListener("online", onOnline);
      removeEventListener("offline", onOffline);
      discard();
    },
    send,
    isOpen,
    status: () => status,
  };
}
