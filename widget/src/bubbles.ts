/**
 * The log's items as DOM: a text bubble, a file (a picture inline, anything
 * else a download card), an upload with its progress bar, an event line.
 *
 * Everything a person typed or named is set with textContent, never as HTML.
 */
import type { FileRef, Message } from "../../worker/protocol";
import { el, time } from "./dom";
import { fileLabel } from "./lib/file-label";
import type { Pending } from "./outbox";
import { download, fileUrl, type Upload } from "./uploads";

/** What a bubble needs from the rest of the chat. */
export interface BubbleHooks {
  /** A picture loaded and grew its bubble. */
  grew(): void;
  error(text: string): void;
}

/** The document icon of a file card: drawn, so it shows where no emoji font is installed. */
const FILE_ICON = ["M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8Z", "M14 2v6h6", "M8 13h8", "M8 17h5"];

function fileIcon(): HTMLSpanElement {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  for (const d of FILE_ICON) {
    const path = document.createElementNS(ns, "path");
    path.setAttribute("d", d);
    svg.append(path);
  }
  const box = el("span", "ic");
  box.setAttribute("aria-hidden", "true");
  box.append(svg);
  return box;
}

/** An `<li class="m role">` with the author's name first, when given. */
function item(role: string, name: string | null, extra = ""): HTMLLIElement {
  const li = el("li", `m ${role}${extra}`);
  if (name) li.append(el("span", "n", name));
  return li;
}

/** A text bubble; `state` marks one still in the outbox. */
export function bubble(
  m: { text: string; at: number },
  role: string,
  name: string | null,
  state?: "pending" | "failed",
): HTMLLIElement {
  const li = item(role, name, state ? ` ${state}` : "");
  li.append(m.text, el("span", "t", state === "pending" ? "Sending…" : state === "failed" ? "Not sent" : time(m.at)));
  return li;
}

/** A message of ours not acknowledged yet. */
export function pendingBubble(p: Pending): HTMLLIElement {
  const li = bubble(p, "visitor", null, "pending");
  li.dataset.clientId = p.clientId;
  return li;
}

function fileBubble(file: FileRef, role: string, name: string | null, at: number, hooks: BubbleHooks): HTMLLIElement {
  const li = item(role, name, " file");
  if (file.image) {
    const img = el("img");
    img.alt = file.name;
    img.title = `${file.name} — open full size`;
    img.tabIndex = 0;
    // A picture grows its bubble when it loads: keep the newest message in view.
    img.addEventListener("load", hooks.grew);
    // One that cannot be shown (gone, or not really a picture) becomes the download card, named as any file is.
    const asCard = () => img.replaceWith(fileCard(file, hooks));
    img.addEventListener("error", asCard);
    void fileUrl(file).then((url) => (img.src = url), asCard);
    const openFull = () => void fileUrl(file).then((url) => window.open(url, "_blank", "noopener"));
    img.addEventListener("click", openFull);
    img.addEventListener("keydown", (e) => e.key === "Enter" && openFull());
    li.append(img);
  } else {
    li.append(fileCard(file, hooks));
  }
  li.append(el("span", "t", time(at)));
  return li;
}

/** A file as a download button: its name and kind. */
function fileCard(file: FileRef, hooks: BubbleHooks): HTMLButtonElement {
  const card = el("button", "card");
  card.type = "button";
  const icon = fileIcon();
  const meta = el("span", "meta");
  // A pause between the name and the kind, for screen readers ("invoice.pdf, PDF document · 77 B").
  meta.append(el("span", "fn", file.name), el("span", "sr", ", "), el("span", "fs", fileLabel(file)));
  // Named by what it shows (WCAG 2.5.3, label in name), with the action said first to screen readers.
  card.append(el("span", "sr", "Download "), icon, meta);
  card.addEventListener("click", () =>
    download(file, () => hooks.error("The file could not be downloaded. Please try again.")),
  );
  return card;
}

/** A file on its way, with a progress bar. */
export function uploadBubble(u: Upload): HTMLLIElement {
  const percent = Math.round(u.progress * 100);
  const li = el("li", "m visitor pending");
  li.append(fileIcon(), u.name);
  li.dataset.clientId = u.clientId;
  const bar = el("div", "bar");
  bar.setAttribute("role", "progressbar");
  bar.setAttribute("aria-label", `Uploading ${u.name}`);
  bar.setAttribute("aria-valuenow", String(percent));
  const fill = el("span");
  fill.style.width = `${percent}%`;
  bar.append(fill);
  li.append(bar, el("span", "t", `Uploading… ${percent}%`));
  return li;
}

/** Each stored message's element, built once: a re-render never reloads a picture or shifts the log. */
const built = new WeakMap<Message, HTMLLIElement>();

/** The element of a stored message. */
export function messageItem(m: Message, hooks: BubbleHooks): HTMLLIElement {
  let li = built.get(m);
  if (li) return li;
  if (m.kind === "event") {
    li = el("li", "ev", m.text);
  } else {
    const name = m.author.role === "operator" ? m.author.name : null;
    li =
      m.kind === "file" && m.file
        ? fileBubble(m.file, m.author.role, name, m.at, hooks)
        : bubble(m, m.author.role, name);
    li.dataset.seq = String(m.seq);
  }
  built.set(m, li);
  return li;
}
