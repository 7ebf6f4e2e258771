/** DOM helpers of the widget's chat: find an element of frame.html, build one, show a status line. */

/** The element of frame.html with this id (they all exist: the page is ours). */
export const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;

/** A new element with a class and, when given, its text (always as text, never as HTML). */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** Shows `text` in a status box, or hides the box for null. */
export function say(box: HTMLElement, text: string | null): void {
  box.hidden = text === null;
  box.textContent = text ?? "";
}

/** "14:05" in the visitor's own format. */
export function time(at: number): string {
  return new Date(at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}
