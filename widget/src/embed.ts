/**
 * The rest of the loader, loaded after it (see loader.ts): the visitor
 * session, sending page views, the chat frame and what it says to the page,
 * and the identity calls of window.Microchat.
 *
 * It runs in the customer's page, from our origin like widget.js, and hands
 * its functions to the loader through the one-time hook the loader set.
 */
import type { Core, Embed, EmbedStart, Session } from "./embed-api";

const start: EmbedStart = (core: Core): Embed => {
  core.addCss(`
    .f{position:fixed;right:20px;bottom:92px;width:380px;height:min(600px,calc(100vh - 120px));border:0;border-radius:14px;
      box-shadow:0 12px 40px rgba(0,0,0,.25);z-index:2147483647;background:#fff}
    .f[hidden]{display:none}
    @media (max-width:480px){.f{right:0;bottom:0;width:100vw;height:100%;border-radius:0}}
    .b{position:absolute;top:-2px;right:-2px;min-width:20px;height:20px;border-radius:10px;background:#dc2626;color:#fff;
      font:600 12px/20px system-ui,sans-serif;text-align:center;padding:0 5px;box-sizing:border-box}
    .b[hidden]{display:none}`);
  const { origin, launcher, store, keys } = core;

  // --- The visitor session: a random id and a server-signed token for their own conversation only ---
  let session = store.get<Session>(keys.session);
  // Read afresh each time it is handed out: another tab may have logged in, out, or rotated it.
  const held = () => (session = store.get<Session>(keys.session) ?? session);
  const setSession = (s: Session) => store.set(keys.session, (session = s));
  const forget = () => {
    store.set(keys.session, null);
    session = null;
  };
  /** A simple cross-site request (text/plain, no cookies, no preflight); a beacon when the page is being left. */
  const post = (path: string, body: unknown): Promise<Response | null> =>
    fetch(origin + path, {
      method: "POST",
      body: JSON.stringify(body),
      keepalive: true,
      headers: { "Content-Type": "text/plain" },
    }).catch(() => null);
  let sessionPromise: Promise<Session | null> | null = null;
  const ensureSession = (): Promise<Session | null> =>
    held()
      ? Promise.resolve(session)
      : (sessionPromise ??= post("/api/visitor/session", { siteKey: core.siteKey })
          .then((r) => (r && r.ok ? (r.json() as Promise<Session>) : null))
          .then((s) => {
            sessionPromise = null;
            if (s) setSession(s);
            return s;
          }));

  // --- Page views (queued by the loader) ---
  const firstReferrer =
    document.referrer && new URL(document.referrer).host !== location.host ? document.referrer : undefined;
  const flush = async (beacon: boolean) => {
    const s = await ensureSession();
    const sent = core.views().map(core.titled);
    if (!s || sent.length === 0) return;
    const body = { token: s.token, views: sent, referrer: firstReferrer };
    if (beacon) {
      // A beacon the browser took may still never be sent, and nothing says so: the views stay queued until a
      // later flush is answered (the server keeps one row per id, so a view sent twice is stored once).
      navigator.sendBeacon?.(
        `${origin}/api/visitor/pageviews`,
        new Blob([JSON.stringify(body)], { type: "text/plain" }),
      );
      return;
    }
    const res = await post("/api/visitor/pageviews", body);
    if (!res) return; // offline: all of it goes with the next flush
    const status = res.status;
    if (res.ok) {
      // The server hands back a fresh token when this one was due for rotation.
      const renewed = ((await res.json().catch(() => null)) as { session?: Session } | null)?.session;
      if (renewed && session === s) setSession(renewed);
    }
    if (res.ok || status === 400 || status === 413) {
      // Answered, or refused as it is (then it would be refused every time, and hold up every view after it): only
      // what went, as it went, leaves; a view whose time on page came while this was on its way stays queued.
      const done = new Map(sent.map((v) => [v.id, v.ms]));
      store.set(
        keys.views,
        core.views().filter((v) => !done.has(v.id) || done.get(v.id) !== v.ms),
      );
    } else if (status === 401 || status === 409 || status === 410) {
      // The conversation was deleted or the token no longer holds (expired, logged out): a new identity next time.
      // Pages already left were seen under the old one (maybe stored there by a beacon); a page still shown goes on.
      forget();
      store.set(
        keys.views,
        core.views().filter((v) => v.ms === undefined),
      );
    }
  };
  // After the loader's own pagehide listener, which ends the view shown (its time on page).
  addEventListener("pagehide", () => void flush(true));
  // The unread count on the launcher, while the chat is minimised.
  const badge = document.createElement("span");
  badge.className = "b";
  badge.hidden = true;
  launcher.append(badge);
  let frame: HTMLIFrameElement | null = null;
  /** Whether the chat in the frame has started and listens: nothing is posted to it before. */
  let ready = false;
  let lastOpen: boolean | null = null;
  const fire = (event: string, detail?: unknown) => {
    for (const fn of core.listeners[event] ?? []) {
      try {
        fn(detail);
      } catch (err) {
        console.error("Microchat listener failed", err);
      }
    }
  };
  const toFrame = (message: Record<string, unknown>) => {
    if (ready) frame?.contentWindow?.postMessage(message, origin);
  };
  const tellOpen = () => toFrame({ microchat: lastOpen ? "opened" : "minimised" });

  async function sync(): Promise<void> {
    const open = core.wanted();
    if (open && !frame) {
      // The chat asks for the session once loaded (by postMessage: a token never goes in its URL).
      launcher.setAttribute("aria-busy", "true");
      await ensureSession();
      launcher.removeAttribute("aria-busy");
      // Clicked again while the session was on its way: open only if the
      // visitor still wants it, and one frame however many clicks.
      if (!core.wanted()) return;
      if (!frame) {
        frame = document.createElement("iframe");
        frame.className = "f";
        frame.title = "Chat";
        frame.setAttribute("allow", "clipboard-write");
        // The site key travels in the fragment, which is never sent to a server or logged; no token does.
        frame.src = `${origin}/widget/frame.html#k=${encodeURIComponent(core.siteKey)}&p=${encodeURIComponent(location.href)}`;
        ready = false;
        core.root.append(frame);
      }
    }
    if (frame) frame.hidden = !open;
    if (open) badge.hidden = true;
    if (open !== (lastOpen ?? false)) fire(open ? "open" : "close");
    lastOpen = open;
    tellOpen();
  }
  /** Drops the chat frame (another identity, or logged out) and opens a fresh one if it was open. */
  const restart = () => {
    frame?.remove();
    frame = null;
    if (lastOpen) void sync();
  };

  addEventListener("message", (e) => {
    if (e.origin !== origin || !frame || e.source !== frame.contentWindow) return;
    const data = e.data as { microchat?: string; count?: number; session?: Session; message?: unknown } | null;
    const kind = data?.microchat;
    if (kind === "ready") {
      ready = true;
      tellOpen();
    } else if (kind === "getSession") {
      // The session, only to our frame's window at our origin.
      frame.contentWindow!.postMessage({ microchat: "session", session: held() }, origin);
    } else if (kind === "session" && typeof data?.session?.token === "string") {
      // The chat started a fresh conversation (the old one was deleted) or its token was rotated: follow it.
      setSession(data.session);
    } else if (kind === "minimise") {
      core.want(false);
      void sync();
      launcher.focus();
    } else if (kind === "message") {
      fire("message", data?.message);
    } else if (kind === "unread" && typeof data?.count === "number") {
      badge.textContent = data.count > 9 ? "9+" : String(data.count);
      badge.hidden = data.count === 0 || !frame.hidden;
    }
  });

  return {
    flush: () => flush(false),
    sync,
    remounted: () => {
      ready = false;
    },
    async setUser(user) {
      const before = held();
      const res = await post("/api/visitor/identify", { siteKey: core.siteKey, token: before?.token, user });
      if (!res?.ok) return false;
      const next = (await res.json()) as Session & { verified: boolean };
      setSession(next);
      // Another identity: reload the chat on it.
      if (next.token !== before?.token && frame) restart();
      return next.verified;
    },
    async logout() {
      const token = held()?.token;
      const res = token ? await post("/api/visitor/logout", { siteKey: core.siteKey, token }) : null;
      forget();
      store.set(keys.views, []);
      if (frame) restart();
      return !token || !!res?.ok;
    },
  };
};

(window as unknown as { __microchatEmbed?: (s: EmbedStart) => void }).__microchatEmbed?.(start);
