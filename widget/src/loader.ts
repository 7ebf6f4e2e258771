/**
 * The widget loader: the only code a host page loads up front.
 *
 *   <script src="https://chat.example.com/widget.js" data-site-key="demo" async></script>
 *
 * It draws a launcher button inside a shadow root (host CSS cannot
 * reach it, and ours cannot leak out) and loads the chat itself, an iframe
 * on the Microchat origin, only when the visitor opens it. Minimising hides
 * the iframe without destroying it, so the conversation stays where it was.
 */
(() => {
  const script = document.currentScript as HTMLScriptElement | null;
  if (!script || (window as unknown as { __microchat?: boolean }).__microchat) return;
  (window as unknown as { __microchat?: boolean }).__microchat = true;
  const siteKey = script.dataset.siteKey ?? "";
  const origin = new URL(script.src).origin;
  const OPEN_KEY = "microchat:open";

  const host = document.createElement("div");
  host.setAttribute("data-microchat", "");
  const root = host.attachShadow({ mode: "open" });
  const style = document.createElement("style");
  style.textContent = `
    :host{all:initial}
    .l{position:fixed;right:20px;bottom:20px;width:60px;height:60px;border-radius:50%;border:0;cursor:pointer;
      background:#2563eb;color:#fff;box-shadow:0 6px 20px rgba(0,0,0,.25);z-index:2147483646;display:grid;place-items:center}
    .l:focus-visible{outline:3px solid #93c5fd;outline-offset:3px}
    .l svg{width:28px;height:28px}
    .b{position:absolute;top:-2px;right:-2px;min-width:20px;height:20px;border-radius:10px;background:#dc2626;color:#fff;
      font:600 12px/20px system-ui,sans-serif;text-align:center;padding:0 5px;box-sizing:border-box}
    .b[hidden]{display:none}
    .f{position:fixed;right:20px;bottom:92px;width:380px;height:min(600px,calc(100vh - 120px));border:0;border-radius:14px;
      box-shadow:0 12px 40px rgba(0,0,0,.25);z-index:2147483647;background:#fff}
    .f[hidden]{display:none}
    @media (max-width:480px){.f{right:0;bottom:0;width:100vw;height:100%;border-radius:0}}`;
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
  glyph.style.display = "contents";
  glyph.innerHTML = CHAT_ICON;
  launcher.append(glyph);
  const badge = document.createElement("span");
  badge.className = "b";
  badge.hidden = true;
  launcher.append(badge);
  root.append(style, launcher);

  let frame: HTMLIFrameElement | null = null;

  function setOpen(open: boolean): void {
    if (open && !frame) {
      frame = document.createElement("iframe");
      frame.className = "f";
      frame.title = "Chat";
      frame.setAttribute("allow", "clipboard-write");
      // The site key travels in the fragment, which is never sent to a server or logged.
      frame.src = `${origin}/widget/frame.html#k=${encodeURIComponent(siteKey)}&p=${encodeURIComponent(location.href)}`;
      root.append(frame);
    }
    if (frame) frame.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    launcher.setAttribute("aria-label", open ? "Minimise chat" : "Open chat");
    glyph.innerHTML = open ? CLOSE_ICON : CHAT_ICON;
    try {
      sessionStorage.setItem(OPEN_KEY, open ? "1" : "0");
    } catch {
      // Storage may be blocked; the chat still works.
    }
    if (open) badge.hidden = true;
    frame?.contentWindow?.postMessage({ microchat: open ? "opened" : "minimised" }, origin);
  }

  launcher.addEventListener("click", () => setOpen(!frame || frame.hidden));
  window.addEventListener("message", (e) => {
    if (e.origin !== origin || !frame || e.source !== frame.contentWindow) return;
    const data = e.data as { microchat?: string; count?: number } | null;
    if (data?.microchat === "minimise") {
      setOpen(false);
      launcher.focus();
    } else if (data?.microchat === "unread" && typeof data.count === "number") {
      badge.textContent = data.count > 9 ? "9+" : String(data.count);
      badge.hidden = data.count === 0 || !frame.hidden;
    }
  });

  const mount = () => {
    document.body.append(host);
    let wasOpen = false;
    try {
      wasOpen = sessionStorage.getItem(OPEN_KEY) === "1";
    } catch {
      // ignore
    }
    if (wasOpen) setOpen(true);
  };
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
  // A host page may open the chat from its own button.
  (window as unknown as { Microchat?: unknown }).Microchat = { open: () => setOpen(true), close: () => setOpen(false) };
})();
