/**
 * The message log on screen: stored messages, then uploads and messages
 * still on their way; the banner (connection) and error lines; and where the
 * log is scrolled.
 */
import type { Message } from "../../worker/protocol";
import { $, el, say } from "./dom";
import * as messages from "./messages";
import * as outbox from "./outbox";
import { inFlight } from "./uploads";
import { messageItem, pendingBubble, uploadBubble } from "./bubbles";

const log = $<HTMLOListElement>("log");
const empty = $("empty");
const banner = $("banner");
const errorBox = $("error");

/** The connection line under the header; null hides it. */
export const showBanner = (text: string | null): void => say(banner, text);
/** The error line under the composer; null hides it. */
export const showError = (text: string | null): void => say(errorBox, text);

/**
 * Whether the log follows the newest message: true until the visitor scrolls
 * up to read, and again once they are back at the bottom or send something.
 * Kept as state rather than measured at each render because the log has no
 * size while the chat is minimised (the iframe is display:none).
 */
let pinned = true;
/** Where follow() last put the log: the scroll event that causes says nothing about the visitor. */
let followedTo = -1;

/** Keeps the newest message in view, unless the visitor scrolled up to read. */
export function follow(): void {
  if (!pinned) return;
  log.scrollTop = log.scrollHeight;
  followedTo = log.scrollTop;
}

/** The visitor sent something: show the newest message again. */
export function pin(): void {
  pinned = true;
}

// The log changes size when the chat is reopened after minimise, when a card
// (survey, email prompt, notice) appears above the composer, or the window
// is resized: stay at the newest message.
new ResizeObserver(follow).observe(log);

const hooks = { grew: follow, error: showError };

/** Draws the log from the messages, uploads and outbox held; `after` runs before following. */
export function render(after?: () => void): void {
  const items: HTMLLIElement[] = [];
  if (messages.hasMore()) {
    items.push(
      el("li", "more", messages.loadingOlder() ? "Loading earlier messages…" : "Scroll up for earlier messages"),
    );
  }
  let prev: Message | undefined;
  for (const m of messages.sorted()) {
    const li = messageItem(m, hooks);
    // An operator's name heads each run of their messages (kept for screen readers on the rest).
    const same = prev && prev.kind !== "event" && m.kind !== "event" && prev.author.id === m.author.id;
    li.classList.toggle("cont", !!same && prev?.author.role === m.author.role);
    prev = m;
    items.push(li);
  }
  for (const u of inFlight()) items.push(uploadBubble(u));
  for (const p of outbox.pending()) items.push(pendingBubble(p));
  log.replaceChildren(...items);
  empty.hidden = items.length > 0;
  after?.();
  follow();
}

/** Draws the log after older messages were added above, keeping what the visitor reads in place. */
export function renderOlder(after?: () => void): void {
  const before = log.scrollHeight;
  render(after);
  log.scrollTop += log.scrollHeight - before;
}

/** Watches the log's scrolling; `onTop` runs when the visitor nears the oldest message held. */
export function watchScroll(onTop: () => void): void {
  log.addEventListener("scroll", () => {
    // A hidden log (the chat minimised) has no size and says nothing about where the visitor was.
    // Our own scroll says nothing either: the content may have grown again before its event.
    if (log.clientHeight > 0 && log.scrollTop !== followedTo) {
      pinned = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    }
    if (log.scrollTop < 60) onTop();
  });
}
