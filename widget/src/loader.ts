/**
 * The widget loader: the only code a host page loads up front.
 *
 *   <script src="https://chat.example.com/widget.js" data-site-key="demo" async></script>
 *
 * It draws a launcher button inside a shadow root (host CSS cannot
 * reach it, and ours cannot leak out) and queues page views. The rest
 * (widget/embed.js: the visitor session, sending page views, the chat frame
 * and the identity calls) loads when the browser is idle, or at once when the
 * visitor opens the chat or the page calls the API; the chat itself, an
 * iframe on the Microchat origin, loads only when the visitor opens it.
 * Minimising hides the iframe without destroying it, so the conversation
 * stays where it was.
 *
 * It works wherever the tag is pasted: under a strict Content-Security-Policy
 * (no inline style or script: its CSS is a constructed stylesheet), included
 * twice or in <head> without async (one launcher), in single-page apps (each
 * pushState, replaceState, popstate and hashchange to a new URL is a page
 * view), on Turbo/pjax sites that replace <body> (the launcher hangs off
 * <html>, so it and the open chat stay), and with storage blocked (what it
 * would keep is kept in memory for the visit).
 */
import type { Embed, EmbedStart, Listener, View } from "./embed-api";

(() => {
  const w = window as unknown as {
    __microchat?: boolean;
    Microchat?: unknown;
    __microchatEmbed?: (s: EmbedStart) => void;
  };
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

  // --- Page views ------------------------------------------------------------
  // Every page load is a page view, even when the chat is never opened. The
  // loader only queues them in storage (at most 20); widget/embed.js, loaded
  // when the browser is idle, holds the visitor session and sends the queue,
  // and sends the rest with a beacon when the page is left. What a page left
  // before it was sent, or sent only by that beacon, goes with the next
  // page's queue.
  const views = () => store.get<View[]>(VIEWS_KEY) ?? [];
  /** Puts `v` in the queue (in place of an earlier copy: the server keeps one row per id). */
  const queue = (v: View) =>
    store.set(VIEWS_KEY, [
      ...views()
        .filter((x) => x.id !== v.id)
        .slice(-19),
      v,
    ]);
  const title = () => document.title.slice(0, 300);
  let current: View;
  /** The title a view is sent with: the page's as it is now, while it is still the page shown. */
  const titled = (v: View): View => (v.id === current.id ? { ...v, title: title() } : v);
  /** A new page view: the first of this load, or an in-page navigation to another URL. */
  const visit = () => {
    // A page view's id: 22 characters of [0-9a-z], over 100 random bits.
    const id = Array.from(crypto.getRandomValues(new Uint32Array(4)), (n) => n.toString(36).padStart(7, "0"))
      .join("")
      .slice(0, 22);
    current = { id, url: location.href, title: title(), at: Date.now() };
    queue(current);
  };
  /** The page view shown until now ends: its time on page, and its title as it was. */
  const leave = () => queue({ ...titled(current), ms: Math.max(0, Date.now() - current.at) }); // a clock set back: 0
  visit();
  // Before embed.js's own pagehide listener (added later), which sends the queue.
  addEventListener("pagehide", leave);
  // Single-page apps: a navigation to another URL is a page view. It is sent a
  // second later, so it carries the title the app gives the new page.
  let later: ReturnType<typeof setTimeout> | undefined;
  const navigated = () => {
    if (location.href === current.url) return;
    leave();
    visit();
    clearTimeout(later);
    later = setTimeout(() => void loadEmbed().then((e) => e.flush()), 1000);
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

  // --- The launcher -----------------------------------------------------------
  const host = document.createElement("div");
  host.setAttribute("data-microchat", "");
  const root = host.attachShadow({ mode: "open" });
  /** Adds `css` to the shadow root: a constructed stylesheet is not inline style, so a site's CSP needs no 'unsafe-inline'. */
  const addCss = (css: string) => {
    if (root.adoptedStyleSheets) {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(css);
      root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
    } else {
      const style = document.createElement("style");
      style.textContent = css;
      root.append(style);
    }
  };
  // prettier-ignore
  addCss(":host{all:initial}" +
    ".l{position:fixed;right:20px;bottom:20px;width:60px;height:60px;border-radius:50%;border:0;cursor:pointer;" +
    "background:#2563eb;color:#fff;box-shadow:0 6px 20px rgba(0,0,0,.25);z-index:2147483646;display:grid;place-items:center}" +
    ".l:focus-visible{outline:3px solid #1d4ed8;outline-offset:2px;box-shadow:0 0 0 2px #fff,0 6px 20px rgba(0,0,0,.25)}" +
    ".g{display:contents}.l svg{width:28px;height:28px}");
  const launcher = document.createElement("button");
  launcher.className = "l";
  launcher.type = "button";
  // Static markup of our own (no page or user data), so innerHTML is safe here.
  const icon = (path: string) =>
    `<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><path d="${path}"/></svg>`;
  const glyph = document.createElement("span");
  glyph.className = "g";
  launcher.append(glyph);
  root.append(launcher);

  /** What the visitor asked for: the launcher shows it at once, even while the chat is still on its way. */
  let wanted = false;
  const draw = (open: boolean) => {
    launcher.setAttribute("aria-expanded", String(open));
    launcher.setAttribute("aria-label", open ? "Minimise chat" : "Open chat");
    glyph.innerHTML = icon(open ? "M6 9l6 6 6-6" : "M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z");
  };
  const want = (open: boolean) => {
    wanted = open;
    draw(open);
    tab.set(OPEN_KEY, open); // a reload of this tab reopens it
  };
  draw(false);

  // --- The rest, after the page ------------------------------------------------
  // The visitor session, sending page views, the chat frame and the identity
  // calls are in widget/embed.js, loaded (a script from our origin, as this
  // one is) when the browser is idle, or at once when the visitor opens the
  // chat or the page calls the API. It hands back its functions through a
  // hook that is used once and removed.
  const listeners: Record<string, Listener[]> = {};
  let embed: Promise<Embed> | null = null;
  const loadEmbed = (): Promise<Embed> =>
    (embed ??= new Promise((resolve) => {
      w.__microchatEmbed = (start) => {
        delete w.__microchatEmbed;
        resolve(
          start({
            origin,
            siteKey,
            root,
            launcher,
            addCss,
            store,
            tab,
            keys: { session: SESSION_KEY, views: VIEWS_KEY },
            views,
            titled,
            listeners,
            wanted: () => wanted,
            want,
          }),
        );
      };
      const script = document.createElement("script");
      script.src = `${origin}/widget/embed.js`;
      script.async = true;
      document.head.append(script);
    }));
  // When the browser is idle, on every page: embed.js sends the queued page views.
  const idle = (fn: () => void) =>
    "requestIdleCallback" in window ? requestIdleCallback(fn, { timeout: 3000 }) : setTimeout(fn, 200);
  idle(() => void loadEmbed().then((e) => e.flush()));
  const show = (open: boolean) => {
    want(open);
    return loadEmbed().then((e) => e.sync());
  };

  launcher.addEventListener("click", () => void show(!wanted));

  // Off <body>: Turbo and pjax replace the body, and the launcher and open chat stay.
  const mount = () => {
    document.documentElement.append(host);
    // A page that empties <html> itself gets the launcher back (the chat reloads with its history).
    new MutationObserver(() => {
      if (host.isConnected) return;
      void embed?.then((e) => e.remounted());
      document.documentElement.append(host);
    }).observe(document.documentElement, { childList: true });
    if (tab.get<boolean>(OPEN_KEY)) void show(true);
  };
  if (document.body) mount();
  else addEventListener("DOMContentLoaded", mount);

  // --- The JavaScript API: window.Microchat (documented in README, "JavaScript API") ---
  w.Microchat = {
    open: () => void show(true),
    close: () => void show(false),
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
    setUser: (user: Parameters<Embed["setUser"]>[0]) => loadEmbed().then((e) => e.setUser(user)),
    /**
     * Logs the visitor out (call it when the site's user logs out): the
     * token is revoked on the server, the chat's socket closes, what this
     * browser kept of the visitor is cleared, and the chat starts afresh
     * and empty. Resolves to whether the server confirmed the revocation.
     */
    logout: () => loadEmbed().then((h) => h.logout()),
  };
})();
