/**
 * The widget loader: the only code a host page loads up front.
 *
 *   <script src="https://chat.example.com/widget.js" data-site-key="demo" async></script>
 *
 * It draws a launcher button inside a shadow root (host CSS cannot
 * reach it, and ours cannot leak out) and loads the chat itself, an iframe
 * on the Microchat origin, only when the visitor opens it. Minimising hides
 * the iframe without destroying it, so the conversation stays where it was.
 *
 * It works wherever the tag is pasted: under a strict Content-Security-Policy
 * (no inline style or script: its CSS is a constructed stylesheet), included
 * twice or in <head> without async (one launcher), in single-page apps (each
 * pushState, replaceState, popstate and hashchange to a new URL is a page
 * view), on Turbo/pjax sites that replace <body> (the launcher hangs off
 * <html>, so it and the open chat stay), and with storage blocked (what it
 * would keep is kept in memory for the visit).
 */
(() => {
  const w = window as unknown as { __microchat?: boolean; Microchat?: unknown };
  const script = document.currentScript as HTMLScriptElement | null;
  if (!script || w.__microchat) return;
  w.__microchat = true;
  const siteKey = script.dataset.siteKey ?? "";
  const origin = new URL(script.src).origin;
  const OPEN_KEY = "microchat:open";
  const SESSION_KEY = `microchat:session:${siteKey}`;
  const VIEWS_KEY = `microchat:views:${siteKey}`;

  // --- Storage, with memory standing in where it is blocked ------------------
  /** A storage that works, or null: blocked storage throws on access, not only on writes. */
  const usable = (name: "localStorage" | "sessionStorage"): Storage | null => {
    try {
      const s = window[name];
      s.setItem("microchat:t", "1");
      s.removeItem("microchat:t");
      return s;
    } catch {
      return null;
    }
  };
  const mem = new Map<string, string>();
  const keep = (s: Storage | null) => ({
    get<T>(key: string): T | null {
      try {
        return JSON.parse((s ? s.getItem(key) : mem.get(key)) ?? "null") as T | null;
      } catch {
        return null;
      }
    },
    set(key: string, value: unknown): void {
      const raw = JSON.stringify(value);
      try {
        if (s) s.setItem(key, raw);
        else mem.set(key, raw);
      } catch {
        mem.set(key, raw); // full: this visit still has it
      }
    },
  });
  const store = keep(usable("localStorage"));
  const tab = keep(usable("sessionStorage"));

  // --- Visitor identity and page views -------------------------------------
  // The loader holds the visitor session (a random id and a server-signed
  // token for their own conversation only) so page views are recorded on
  // every page load, even when the chat is never opened. Calls are simple
  // cross-site requests (text/plain, no cookies); page views are batched
  // in storage and flushed when the browser is idle, after an in-page
  // navigation, and with a beacon when the page is left.
  type Session = { token: string };
  type View = { id: string; url: string; title: string; at: number; ms?: number };
  let session = store.get<Session>(SESSION_KEY);
  // Read afresh each time it is handed out: another tab may have logged in, out, or rotated it.
  const held = () => (session = store.get<Session>(SESSION_KEY) ?? session);
  const forget = () => {
    store.set(SESSION_KEY, null);
    session = null;
  };
  let sessionPromise: Promise<Session | null> | null = null;
  const post = (path: string, body: unknown, beacon = false): Promise<Response | null> | boolean => {
    const data = JSON.stringify(body);
    if (beacon && navigator.sendBeacon)
      return navigator.sendBeacon(origin + path, new Blob([data], { type: "text/plain" }));
    return fetch(origin + path, {
      method: "POST",
      body: data,
      keepalive: true,
      headers: { "Content-Type": "text/plain" },
    }).catch(() => null);
  };
  const ensureSession = (): Promise<Session | null> =>
    session
      ? Promise.resolve(session)
      : (sessionPromise ??= (post("/api/visitor/session", { siteKey }) as Promise<Response | null>)
          .then((r) => (r && r.ok ? (r.json() as Promise<Session>) : null))
          .then((s) => {
            sessionPromise = null;
            if (s) store.set(SESSION_KEY, (session = s));
            return s;
          }));
  const rid = () => {
    const b = crypto.getRandomValues(new Uint8Array(16));
    return btoa(String.fromCharCode(...b))
      .replace(/\+/g, "-")
      .replace(/\//g, "_")
      .slice(0, 22);
  };
  const firstReferrer =
    document.referrer && new URL(document.referrer).host !== location.host ? document.referrer : undefined;
  const views = () => store.get<View[]>(VIEWS_KEY) ?? [];
  /** Puts `v` in the queue (in place of an earlier copy: the server keeps one row per id). */
  const queue = (v: View) =>
    store.set(VIEWS_KEY, [
      ...views()
        .filter((x) => x.id !== v.id)
        .slice(-19),
      v,
    ]);
  let current: View;
  /** The title a view is sent with: the page's as it is now, while it is still the page shown. */
  const titled = (v: View): View => (v.id === current.id ? { ...v, title: document.title.slice(0, 300) } : v);
  /** A new page view: the first of this load, or an in-page navigation to another URL. */
  const visit = () => {
    current = { id: rid(), url: location.href, title: document.title.slice(0, 300), at: Date.now() };
    queue(current);
  };
  /** The page view shown until now ends: its time on page, and its title as it was. */
  const leave = () => queue({ ...titled(current), ms: Date.now() - current.at });
  const flush = async (beacon: boolean) => {
    const s = await ensureSession();
    const sent = views().map(titled);
    if (!s || sent.length === 0) return;
    const body = { token: s.token, views: sent, referrer: firstReferrer };
    if (beacon) {
      if (post("/api/visitor/pageviews", body, true) === true) store.set(VIEWS_KEY, []);
      return;
    }
    const res = await (post("/api/visitor/pageviews", body) as Promise<Response | null>);
    if (res?.ok) {
      // The server hands back a fresh token when this one was due for rotation.
      const renewed = ((await res.json().catch(() => null)) as { session?: Session } | null)?.session;
      if (renewed && session === s) store.set(SESSION_KEY, (session = renewed));
      const done = new Set(sent.map((v) => v.id));
      store.set(
        VIEWS_KEY,
        views().filter((v) => !done.has(v.id)),
      );
    } else if (res && (res.status === 401 || res.status === 409 || res.status === 410)) {
      // The conversation was deleted or the token no longer holds (expired, logged out): a new identity next time.
      forget();
    }
  };
  visit();
  // Off the page's critical path: when the browser is idle.
  const idle = (fn: () => void) =>
    "requestIdleCallback" in window ? requestIdleCallback(fn, { timeout: 3000 }) : setTimeout(fn, 200);
  idle(() => void flush(false));
  addEventListener("pagehide", () => {
    leave(); // time on page, reported with the last beacon of this page
    void flush(true);
  });
  // Single-page apps: a navigation to another URL is a page view. It is sent a
  // second later, so it carries the title the app gives the new page.
  let later: ReturnType<typeof setTimeout> | undefined;
  const navigated = () => {
    if (location.href === current.url) return;
    leave();
    visit();
    clearTimeout(later);
    later = setTimeout(() => void flush(false), 1000);
  };
  for (const name of ["pushState", "replaceState"] as const) {
    const original = history[name];
    history[name] = function (this: History, ...args: Parameters<History["pushState"]>) {
      original.apply(this, args);
      navigated();
    };
  }
  addEventListener("popstate", navigated);
  addEventListener("hashchange", navigated);

  // --- The launcher and the chat frame -------------------------------------
  const host = document.createElement("div");
  host.setAttribute("data-microchat", "");
  const root = host.attachShadow({ mode: "open" });
  const css = `
    :host{all:initial}
    .l{position:fixed;right:20px;bottom:20px;width:60px;height:60px;border-radius:50%;border:0;cursor:pointer;
      background:#2563eb;color:#fff;box-shadow:0 6px 20px rgba(0,0,0,.25);z-index:2147483646;display:grid;place-items:center}
    .l:focus-visible{outline:3px solid #1d4ed8;outline-offset:2px;box-shadow:0 0 0 2px #fff,0 6px 20px rgba(0,0,0,.25)}
    .g{display:contents}
    .l svg{width:28px;height:28px}
    .b{position:absolute;top:-2px;right:-2px;min-width:20px;height:20px;border-radius:10px;background:#dc2626;color:#fff;
      font:600 12px/20px system-ui,sans-serif;text-align:center;padding:0 5px;box-sizing:border-box}
    .b[hidden]{display:none}
    .f{position:fixed;right:20px;bottom:92px;width:380px;height:min(600px,calc(100vh - 120px));border:0;border-radius:14px;
      box-shadow:0 12px 40px rgba(0,0,0,.25);z-index:2147483647;background:#fff}
    .f[hidden]{display:none}
    @media (max-width:480px){.f{right:0;bottom:0;width:100vw;height:100%;border-radius:0}}`;
  // A constructed stylesheet is not inline style: a site's CSP needs no 'unsafe-inline' for it.
  if (root.adoptedStyleSheets) {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    root.adoptedStyleSheets = [sheet];
  } else {
    const style = document.createElement("style");
    style.textContent = css;
    root.append(style);
  }
  const launcher = document.createElement("button");
  launcher.className = "l";
  launcher.type = "button";
  launcher.setAttribute("aria-label", "Open chat");
  launcher.setAttribute("aria-expanded", "false");
  // Static markup of our own (no page or user data), so innerHTML is safe here.
  const icon = (path: string) =>
    `<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><path d="${path}"/></svg>`;
  const CHAT_ICON = icon("M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z");
  const CLOSE_ICON = icon("M6 9l6 6 6-6");
  const glyph = document.createElement("span");
  glyph.className = "g";
  glyph.innerHTML = CHAT_ICON;
  launcher.append(glyph);
  const badge = document.createElement("span");
  badge.className = "b";
  badge.hidden = true;
  launcher.append(badge);
  root.append(launcher);

  let frame: HTMLIFrameElement | null = null;
  /** Whether the chat in the frame has started and listens: nothing is posted to it before. */
  let ready = false;
  let lastOpen: boolean | null = null;
  type Listener = (detail?: unknown) => void;
  const listeners: Record<string, Listener[]> = {};
  const fire = (event: string, detail?: unknown) => {
    for (const fn of listeners[event] ?? []) {
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

  let wanted = false;
  /** The launcher shows what the visitor asked for at once, even while the chat is still on its way. */
  const showWanted = (open: boolean) => {
    launcher.setAttribute("aria-expanded", String(open));
    launcher.setAttribute("aria-label", open ? "Minimise chat" : "Open chat");
    glyph.innerHTML = open ? CLOSE_ICON : CHAT_ICON;
    tab.set(OPEN_KEY, open);
  };
  async function setOpen(open: boolean): Promise<void> {
    wanted = open;
    showWanted(open);
    if (open && !frame) {
      // The chat asks for the session once loaded (by postMessage: a token never goes in its URL).
      launcher.setAttribute("aria-busy", "true");
      await ensureSession();
      launcher.removeAttribute("aria-busy");
      // Clicked again while the session was on its way: open only if the
      // visitor still wants it, and one frame however many clicks.
      if (!wanted) return;
      if (!frame) {
        frame = document.createElement("iframe");
        frame.className = "f";
        frame.title = "Chat";
        frame.setAttribute("allow", "clipboard-write");
        // The site key travels in the fragment, which is never sent to a server or logged; no token does.
        frame.src = `${origin}/widget/frame.html#k=${encodeURIComponent(siteKey)}&p=${encodeURIComponent(location.href)}`;
        ready = false;
        root.append(frame);
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
    if (lastOpen) void setOpen(true);
  };

  launcher.addEventListener("click", () => void setOpen(!wanted));
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
      store.set(SESSION_KEY, (session = data.session));
    } else if (kind === "minimise") {
      void setOpen(false);
      launcher.focus();
    } else if (kind === "message") {
      fire("message", data?.message);
    } else if (kind === "unread" && typeof data?.count === "number") {
      badge.textContent = data.count > 9 ? "9+" : String(data.count);
      badge.hidden = data.count === 0 || !frame.hidden;
    }
  });

  // Off <body>: Turbo and pjax replace the body, and the launcher and open chat stay.
  const mount = () => {
    document.documentElement.append(host);
    // A page that empties <html> itself gets the launcher back (the chat reloads with its history).
    new MutationObserver(() => {
      if (host.isConnected) return;
      ready = false;
      document.documentElement.append(host);
    }).observe(document.documentElement, { childList: true });
    if (tab.get<boolean>(OPEN_KEY)) void setOpen(true);
  };
  if (document.body) mount();
  else addEventListener("DOMContentLoaded", mount);
  // --- The JavaScript API: window.Microchat ---------------------------------
  w.Microchat = {
    open: () => void setOpen(true),
    close: () => void setOpen(false),
    /** `fn` runs on "open", "close", and "message" (a new message from an operator). */
    on(event: "message" | "open" | "close", fn: Listener) {
      (listeners[event] ??= []).push(fn);
    },
    /**
     * Tells Microchat who the logged-in customer is. With `hash` (hex
     * HMAC-SHA256 of `id` with the workspace's identity secret, computed by
     * the site's server) the customer gets the same conversation on every
     * device; without it, name and email show as unverified.
     */
    async setUser(user: { id: string; name?: string; email?: string; hash?: string }): Promise<boolean> {
      const res = (await post("/api/visitor/identify", { siteKey, token: held()?.token, user })) as Response | null;
      if (!res?.ok) return false;
      const next = (await res.json()) as Session & { verified: boolean };
      const changed = next.token !== session?.token;
      store.set(SESSION_KEY, (session = next));
      // Another identity: reload the chat on it.
      if (changed && frame) restart();
      return next.verified;
    },
    /**
     * Logs the visitor out (call it when the site's user logs out): the
     * token is revoked on the server, the chat's socket closes, what this
     * browser kept of the visitor is cleared, and the chat starts afresh
     * and empty. Resolves to whether the server confirmed the revocation.
     */
    async logout(): Promise<boolean> {
      const token = held()?.token;
      const res = token ? ((await post("/api/visitor/logout", { siteKey, token })) as Response | null) : null;
      forget();
      store.set(VIEWS_KEY, []);
      if (frame) restart();
      return !token || !!res?.ok;
    },
  };
})();
