/**
 * A formatted mail, shown safely. Mail HTML is never put into the panel's
 * document: it is shown only inside `<iframe sandbox="allow-same-origin">`
 * (no script, no navigation, no forms, no popups) whose document starts with
 * a CSP that forbids every load but inline style. The server already
 * sanitised the HTML; the sandbox and the CSP are the second wall in case it
 * missed something.
 *
 * Why allow-same-origin: it lets the panel read the frame's document to size
 * the frame to the mail. Without allow-scripts nothing in the frame can run,
 * so the frame cannot use that origin itself (the dangerous pair is
 * allow-scripts with allow-same-origin, which lets a frame lift its own
 * sandbox; allow-scripts is never given).
 */
import { onCleanup } from "solid-js";

/**
 * Must come first in the frame's document so it applies before anything else
 * is parsed. (The doctype before it is no element: it only keeps the frame in
 * standards mode, where the page is as tall as its content, not the frame.)
 */
const FRAME_CSP = `<!doctype html><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`;
const FRAME_STYLE =
  "<style>body{margin:12px;font:14px/1.45 system-ui,sans-serif;color:#111827;overflow-wrap:anywhere}img{max-width:100%;height:auto}</style>";
/** The sandbox of the formatted-mail frame: never with allow-scripts (see the header). */
const FRAME_SANDBOX = "allow-same-origin";
/** Heights a formatted mail's frame takes: its content's, within these (then it scrolls inside), in px. */
const FRAME_MIN_PX = 48;
const FRAME_MAX_PX = 640;

/** The `srcdoc` for a sanitised mail body. */
function formattedDocument(html: string): string {
  return FRAME_CSP + FRAME_STYLE + html;
}

/**
 * Sizes the frame to its document, up to FRAME_MAX_PX, and again whenever
 * the frame's width changes (the text wraps differently). Reading the
 * document needs allow-same-origin; the frame's own scripts stay off.
 */
function fitToContent(frame: HTMLIFrameElement): () => void {
  const fit = () => {
    const root = frame.contentDocument?.documentElement;
    if (!root) return;
    // The frame's own border is part of its height (border-box), so add it to the page's height.
    const height = Math.ceil(root.getBoundingClientRect().height) + frame.offsetHeight - frame.clientHeight;
    const px = `${Math.min(FRAME_MAX_PX, Math.max(FRAME_MIN_PX, height))}px`;
    if (frame.style.height !== px) frame.style.height = px;
  };
  let width = 0;
  const resized = new ResizeObserver(([entry]) => {
    if (!entry || entry.contentRect.width === width) return;
    width = entry.contentRect.width;
    fit();
  });
  frame.addEventListener("load", fit);
  resized.observe(frame);
  return () => {
    frame.removeEventListener("load", fit);
    resized.disconnect();
  };
}

/** The sandboxed frame of a mail's sanitised HTML, as tall as the mail (up to FRAME_MAX_PX). */
export function EmailFrame(props: { html: string; subject: string }) {
  return (
    <iframe
      class="email-frame"
      sandbox={FRAME_SANDBOX}
      title={`Formatted email: ${props.subject}`}
      ref={(frame) => onCleanup(fitToContent(frame))}
      srcdoc={formattedDocument(props.html)}
      data-testid="email-frame"
    />
  );
}
