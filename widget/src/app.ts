/**
 * The chat inside the widget's iframe (loaded only when the visitor opens it).
 *
 * Identity: a visitor session (random id + server-signed token) kept in this
 * origin's localStorage, so a reload or another page of the same site shows
 * the same conversation. Messages typed while offline wait in an outbox, also
 * in localStorage, and are resent with the same client id until the server
 * acknowledges them: the server stores each client id once, so a resend never
 * duplicates and a reload never loses a message.
 *
 * Everything a person typed is rendered with textContent, never as HTML.
 */
import type {
  ClientFrame,
  ConversationState,
  FileRef,
  Message,
  ServerFrame,
  SocketTicket,
  UploadResponse,
  VisitorSession,
} from "../../worker/protocol";
import { fileLabel } from "./lib/file-label";

interface Pending {
  clientId: string;
  text: string;
  at: number;
}

const params = new URLSearchParams(location.hash.slice(1));
const siteKey = params.get("k") ?? "";
/** The host page's origin: the only window our postMessages go to. */
const hostOrigin = (() => {
  try {
    return new URL(params.get("p") ?? "").origin;
  } catch {
    return location.origin;
  }
})();
const SESSION_KEY = `microchat:session:${siteKey}`;
const OUTBOX_KEY = `microchat:outbox:${siteKey}`;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const log = $<HTMLOListElement>("log");
const input = $<HTMLTextAreaElement>("input");
const form = $<HTMLFormElement>("composer");
const banner = $<HTMLDivElement>("banner");
const errorBox = $<HTMLDivElement>("error");
const empty = $<HTMLDivElement>("empty");

const messages = new Map<number, Message>();
let outbox: Pending[] = load<Pending[]>(OUTBOX_KEY) ?? [];
/** The loader passes the visitor session it holds; else (older loaders) we keep our own. */
let session: VisitorSession | null = (() => {
  try {
    const fromLoader = params.get("s");
    if (fromLoader) {
      const s = JSON.parse(fromLoader) as VisitorSession;
      if (typeof s.token === "string") return s;
    }
  } catch {
    // fall through
  }
  return load<VisitorSession>(SESSION_KEY);
})();
let socket: WebSocket | null = null;
let lastSeq = 0;
let hasMore = false;
let loadingOlder = false;
let retry = 0;
let visible = true;
let unread = 0;
let pingTimer: ReturnType<typeof setInterval> | undefined;

function load<T>(key: string): T | null {
  try {
    const raw = localStorage.getItem(key);
    return raw ? (JSON.parse(raw) as T) : null;
  } catch {
    return null;
  }
}

function save(key: string, value: unknown): void {
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch {
    // Storage full or blocked: the chat still works for this page view.
  }
}

function showBanner(text: string | null): void {
  banner.hidden = text === null;
  banner.textContent = text ?? "";
}

function showError(text: string | null): void {
  errorBox.hidden = text === null;
  errorBox.textContent = text ?? "";
}

function time(at: number): string {
  return new Date(at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

// ---------------------------------------------------------------------------
// Rendering

function bubble(
  m: { text: string; at: number },
  role: string,
  name: string | null,
  state?: "pending" | "failed",
): HTMLLIElement {
  const li = document.createElement("li");
  li.className = `m ${role}${state ? ` ${state}` : ""}`;
  if (name) {
    const n = document.createElement("span");
    n.className = "n";
    n.textContent = name;
    li.append(n);
  }
  li.append(document.createTextNode(m.text));
  const t = document.createElement("span");
  t.className = "t";
  t.textContent = state === "pending" ? "Sending…" : state === "failed" ? "Not sent" : time(m.at);
  li.append(t);
  return li;
}

// ---------------------------------------------------------------------------
// Files and pictures (the paper clip)

interface Upload {
  clientId: string;
  name: string;
  size: number;
  progress: number;
}

let uploads: Upload[] = [];
/** Object URLs of files already fetched, by file id (fetched with the bearer token, never a token in a URL). */
const blobs = new Map<string, Promise<string>>();

function fileUrl(file: FileRef): Promise<string> {
  let url = blobs.get(file.id);
  if (!url) {
    url = fetch(`/api/visitor/files/${encodeURIComponent(file.id)}?inline=1`, {
      headers: { Authorization: `Bearer ${session?.token ?? ""}` },
    }).then(async (res) => {
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      return URL.createObjectURL(await res.blob());
    });
    url.catch(() => blobs.delete(file.id));
    blobs.set(file.id, url);
  }
  return url;
}

function download(file: FileRef): void {
  fileUrl(file)
    .then((url) => {
      const a = document.createElement("a");
      a.href = url;
      a.download = file.name;
      a.click();
    })
    .catch(() => showError("The file could not be downloaded. Please try again."));
}

function fileBubble(file: FileRef, role: string, name: string | null, at: number): HTMLLIElement {
  const li = document.createElement("li");
  li.className = `m ${role} file`;
  if (name) {
    const n = document.createElement("span");
    n.className = "n";
    n.textContent = name;
    li.append(n);
  }
  if (file.image) {
    const img = document.createElement("img");
    img.alt = file.name;
    img.title = `${file.name} — open full size`;
    img.tabIndex = 0;
    // A picture grows its bubble when it loads: keep the newest message in view.
    img.addEventListener("load", follow);
    void fileUrl(file).then(
      (url) => (img.src = url),
      () => (img.alt = `${file.name} (could not load)`),
    );
    const openFull = () => void fileUrl(file).then((url) => window.open(url, "_blank", "noopener"));
    img.addEventListener("click", openFull);
    img.addEventListener("keydown", (e) => e.key === "Enter" && openFull());
    li.append(img);
  } else {
    const card = document.createElement("button");
    card.type = "button";
    card.className = "card";
    // Named by what it shows (WCAG 2.5.3, label in name), with the action said first to screen readers.
    const verb = document.createElement("span");
    verb.className = "sr";
    verb.textContent = "Download ";
    const ic = document.createElement("span");
    ic.className = "ic";
    ic.setAttribute("aria-hidden", "true");
    ic.textContent = "📄";
    const meta = document.createElement("span");
    meta.className = "meta";
    const fn = document.createElement("span");
    fn.className = "fn";
    fn.textContent = file.name;
    const fs = document.createElement("span");
    fs.className = "fs";
    fs.textContent = fileLabel(file);
    // A pause between the name and the kind, for screen readers ("invoice.pdf, PDF document · 77 B").
    const pause = document.createElement("span");
    pause.className = "sr";
    pause.textContent = ", ";
    meta.append(fn, pause, fs);
    card.append(verb, ic, meta);
    card.addEventListener("click", () => download(file));
    li.append(card);
  }
  const t = document.createElement("span");
  t.className = "t";
  t.textContent = time(at);
  li.append(t);
  return li;
}

function uploadBubble(u: Upload): HTMLLIElement {
  const li = document.createElement("li");
  li.className = "m visitor pending";
  li.dataset.clientId = u.clientId;
  li.append(document.createTextNode(`📎 ${u.name}`));
  const bar = document.createElement("div");
  bar.className = "bar";
  bar.setAttribute("role", "progressbar");
  bar.setAttribute("aria-label", `Uploading ${u.name}`);
  bar.setAttribute("aria-valuenow", String(Math.round(u.progress * 100)));
  const fill = document.createElement("span");
  fill.style.width = `${Math.round(u.progress * 100)}%`;
  bar.append(fill);
  li.append(bar);
  const t = document.createElement("span");
  t.className = "t";
  t.textContent = `Uploading… ${Math.round(u.progress * 100)}%`;
  li.append(t);
  return li;
}

/** Uploads one file with progress; the message appears once the server has stored it. */
async function upload(file: File): Promise<void> {
  showError(null);
  let s: VisitorSession;
  try {
    s = await ensureSession();
  } catch {
    showError("Could not connect. Please try again.");
    return;
  }
  const u: Upload = { clientId: crypto.randomUUID(), name: file.name || "file", size: file.size, progress: 0 };
  uploads.push(u);
  pinned = true;
  render();
  const body = new FormData();
  body.set("file", file);
  body.set("clientId", u.clientId);
  const xhr = new XMLHttpRequest();
  xhr.open("POST", "/api/visitor/files");
  xhr.setRequestHeader("Authorization", `Bearer ${s.token}`);
  xhr.upload.addEventListener("progress", (e) => {
    if (e.lengthComputable) {
      u.progress = e.loaded / e.total;
      render();
    }
  });
  const finish = (error: string | null, message?: Message) => {
    uploads = uploads.filter((x) => x !== u);
    if (message) addMessages([message]);
    if (error) showError(error);
    render();
  };
  xhr.addEventListener("load", () => {
    let parsed: unknown = null;
    try {
      parsed = JSON.parse(xhr.responseText);
    } catch {
      // handled below
    }
    if (xhr.status === 200 || xhr.status === 201) return finish(null, (parsed as UploadResponse).message);
    const message = (parsed as { error?: { message?: string } } | null)?.error?.message;
    finish(`${file.name}: ${message ?? `upload failed (HTTP ${xhr.status})`}`);
  });
  xhr.addEventListener("error", () => finish(`${file.name}: the upload failed. Check your connection and try again.`));
  xhr.send(body);
}

const fileInput = $<HTMLInputElement>("file");
$("attach").addEventListener("click", () => fileInput.click());
fileInput.addEventListener("change", () => {
  for (const f of fileInput.files ?? []) void upload(f);
  fileInput.value = "";
});

const dropZone = $<HTMLDivElement>("drop");
let dragDepth = 0;
document.addEventListener("dragenter", (e) => {
  if (!e.dataTransfer?.types.includes("Files")) return;
  dragDepth++;
  dropZone.hidden = false;
});
document.addEventListener("dragleave", () => {
  dragDepth = Math.max(0, dragDepth - 1);
  if (dragDepth === 0) dropZone.hidden = true;
});
document.addEventListener("dragover", (e) => e.preventDefault());
document.addEventListener("drop", (e) => {
  e.preventDefault();
  dragDepth = 0;
  dropZone.hidden = true;
  for (const f of e.dataTransfer?.files ?? []) void upload(f);
});

/**
 * Whether the log follows the newest message: true until the visitor scrolls
 * up to read, and again once they are back at the bottom or send something.
 * Kept as state rather than measured at each render because the log has no
 * size while the chat is minimised (the iframe is display:none).
 */
let pinned = true;
/** Where follow() last put the log: the scroll event that causes says nothing about the visitor. */
let followedTo = -1;

function follow(): void {
  if (!pinned) return;
  log.scrollTop = log.scrollHeight;
  followedTo = log.scrollTop;
}

// The log changes size when the chat is reopened after minimise, when a card
// (survey, email prompt, notice) appears above the composer, or the window
// is resized: stay at the newest message.
new ResizeObserver(follow).observe(log);

/** Each stored message's element, built once: a re-render never reloads a picture or shifts the log. */
const built = new WeakMap<Message, HTMLLIElement>();

function messageItem(m: Message): HTMLLIElement {
  let li = built.get(m);
  if (li) return li;
  if (m.kind === "event") {
    li = document.createElement("li");
    li.className = "ev";
    li.textContent = m.text;
  } else {
    const name = m.author.role === "operator" ? m.author.name : null;
    li = m.kind === "file" && m.file ? fileBubble(m.file, m.author.role, name, m.at) : bubble(m, m.author.role, name);
    li.dataset.seq = String(m.seq);
  }
  built.set(m, li);
  return li;
}

function render(): void {
  const items: HTMLLIElement[] = [];
  if (hasMore) {
    const more = document.createElement("li");
    more.className = "more";
    more.textContent = loadingOlder ? "Loading earlier messages…" : "Scroll up for earlier messages";
    items.push(more);
  }
  let prev: Message | undefined;
  for (const m of [...messages.values()].sort((a, b) => a.seq - b.seq)) {
    const li = messageItem(m);
    // An operator's name heads each run of their messages (kept for screen readers on the rest).
    const same = prev && prev.kind !== "event" && m.kind !== "event" && prev.author.id === m.author.id;
    li.classList.toggle("cont", !!same && prev?.author.role === m.author.role);
    prev = m;
    items.push(li);
  }
  for (const u of uploads) items.push(uploadBubble(u));
  for (const p of outbox) {
    const li = bubble(p, "visitor", null, "pending");
    li.dataset.clientId = p.clientId;
    items.push(li);
  }
  log.replaceChildren(...items);
  empty.hidden = items.length > 0;
  offerProfile();
  follow();
}

const profileForm = $<HTMLFormElement>("profile");
const PROFILE_SKIP_KEY = `microchat:profile-skipped:${siteKey}`;
let known = false;

/** Whether anyone can answer now: null until the server's first welcome says. */
let available: boolean | null = null;
let knownEmail: string | null = null;
let operators: ConversationState["operators"] = [];

/**
 * Says one consistent thing about who can answer: the header's subtitle, and
 * when nobody is online, one email prompt (or, once the email is known, one
 * line saying where the reply goes). Otherwise offers the name/email card
 * once the visitor has written and is still anonymous.
 */
function offerProfile(): void {
  const wrote = [...messages.values()].some((m) => m.author.role === "visitor") || outbox.length > 0;
  const skipped = load<boolean>(PROFILE_SKIP_KEY) === true;
  const away = available === false;
  $("sub").textContent =
    available === null
      ? "Connecting…"
      : away
        ? "No one is online right now"
        : operators.length > 0
          ? `You're chatting with ${operators.map((o) => o.name).join(", ")}`
          : "We usually reply in a few minutes";
  $("empty-text").textContent = away
    ? "Leave a message and we'll get back to you."
    : "Ask us anything. We're here to help.";
  // One card above the composer at a time: the survey first, then this.
  profileForm.hidden = !surveyForm.hidden || skipped || (away ? knownEmail !== null : known || !wrote);
  $("profile-text").textContent = away
    ? "Leave your email and we'll reply there."
    : "Leave your name and email so we can get back to you.";
  const note = $("away");
  note.hidden = !away || !profileForm.hidden || (knownEmail === null && !skipped);
  note.textContent = knownEmail ? `We'll reply to ${knownEmail} by email.` : "We'll answer here when someone is back.";
  // A card that goes away under the keyboard's focus hands it to the message box.
  for (const card of [profileForm, surveyForm]) {
    if (card.hidden && card.contains(document.activeElement)) input.focus();
  }
}

profileForm.addEventListener("submit", (e) => {
  e.preventDefault();
  const name = $<HTMLInputElement>("pname").value.trim();
  const email = $<HTMLInputElement>("pemail").value.trim();
  if (!name && !email) return;
  const frame: ClientFrame = { type: "profile" };
  if (name) frame.name = name;
  if (email) frame.email = email;
  send(frame);
});
$("pskip").addEventListener("click", () => {
  save(PROFILE_SKIP_KEY, true);
  offerProfile();
});

// ---------------------------------------------------------------------------
// Satisfaction survey (offered after the last operator leaves)

const surveyForm = $<HTMLFormElement>("survey");
const surveyThanks = $<HTMLDivElement>("survey-thanks");
const stars = [...surveyForm.querySelectorAll<HTMLButtonElement>(".stars button")];
let surveyId: string | null = null;
let rating = 0;

function paintStars(): void {
  for (const b of stars) {
    const n = Number(b.dataset.rating);
    b.classList.toggle("on", n <= rating);
    b.setAttribute("aria-checked", String(n === rating));
    b.tabIndex = n === (rating || 1) ? 0 : -1;
  }
  $<HTMLButtonElement>("survey-submit").disabled = rating === 0;
  $("survey-more").hidden = rating === 0;
}

function showSurvey(offer: ConversationState["survey"]): void {
  if (offer && offer.id !== surveyId) {
    surveyId = offer.id;
    rating = 0;
    $<HTMLTextAreaElement>("survey-comment").value = "";
    $("survey-title").textContent =
      offer.operators.length > 0 ? `How was your chat with ${offer.operators.join(", ")}?` : "How was your chat?";
    paintStars();
  }
  if (!offer) surveyId = null;
  surveyForm.hidden = !offer;
  offerProfile();
}

for (const b of stars) {
  b.addEventListener("click", () => {
    rating = Number(b.dataset.rating);
    paintStars();
  });
  b.addEventListener("keydown", (e) => {
    // Arrow keys move the choice, as in any radio group.
    const delta =
      e.key === "ArrowRight" || e.key === "ArrowUp" ? 1 : e.key === "ArrowLeft" || e.key === "ArrowDown" ? -1 : 0;
    if (!delta) return;
    e.preventDefault();
    rating = Math.min(5, Math.max(1, (rating || 1) + (rating ? delta : 0)));
    paintStars();
    stars[rating - 1]!.focus();
  });
}
surveyForm.addEventListener("submit", (e) => {
  e.preventDefault();
  if (!surveyId || rating === 0) return;
  const comment = $<HTMLTextAreaElement>("survey-comment").value.trim();
  const frame: ClientFrame = { type: "rate", surveyId, rating };
  if (comment) frame.comment = comment;
  send(frame);
  surveyForm.hidden = true;
  offerProfile();
  surveyThanks.hidden = false;
  setTimeout(() => (surveyThanks.hidden = true), 4000);
});
$("survey-dismiss").addEventListener("click", () => {
  if (surveyId) send({ type: "dismissSurvey", surveyId });
  surveyForm.hidden = true;
  offerProfile();
});

/** `live`: a change as it happens (not the welcome's snapshot). */
function setState(state: ConversationState, live = false): void {
  // Availability is told at welcome; an operator joining now is evidently online.
  if (live && state.operators.some((o) => !operators.some((p) => p.id === o.id))) available = true;
  operators = state.operators;
  known = state.visitor.name !== null || state.visitor.email !== null;
  knownEmail = state.visitor.email;
  showSurvey(state.survey);
}

function notifyUnread(): void {
  parent.postMessage({ microchat: "unread", count: unread }, hostOrigin);
}

// ---------------------------------------------------------------------------
// Connection

async function api<T>(path: string, init: RequestInit): Promise<T> {
  const res = await fetch(path, init);
  if (!res.ok) {
    const body = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
    const err = new Error(body?.error?.message ?? `HTTP ${res.status}`) as Error & { status?: number };
    err.status = res.status;
    throw err;
  }
  return (await res.json()) as T;
}

async function ensureSession(): Promise<VisitorSession> {
  if (session) return session;
  session = await api<VisitorSession>("/api/visitor/session", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ siteKey }),
  });
  save(SESSION_KEY, session);
  // The loader records page views under this identity from now on.
  parent.postMessage({ microchat: "session", session }, hostOrigin);
  return session;
}

function send(frame: ClientFrame): void {
  if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
}

function flushOutbox(): void {
  for (const p of outbox) send({ type: "send", clientId: p.clientId, text: p.text });
}

let connecting = false;
let reconnectTimer: ReturnType<typeof setTimeout> | undefined;
let lastHeard = 0;

/** Opens the socket unless one is open or on its way. */
async function connect(): Promise<void> {
  if (connecting || socket) return;
  connecting = true;
  clearTimeout(reconnectTimer);
  try {
    await open();
  } finally {
    connecting = false;
  }
}

async function open(): Promise<void> {
  let ticket: SocketTicket;
  try {
    const s = await ensureSession();
    $("title").textContent = s.workspaceName;
    ticket = await api<SocketTicket>("/api/visitor/ticket", {
      method: "POST",
      headers: { Authorization: `Bearer ${s.token}` },
    });
  } catch (err) {
    const status = (err as { status?: number }).status;
    if (status === 401 || status === 410) {
      // The token is no longer valid (the secret was rotated) or the
      // conversation was deleted: start a fresh, empty one.
      startAfresh();
      retry = 0;
    }
    return scheduleReconnect();
  }
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(`${proto}//${location.host}/ws/visitor?ticket=${encodeURIComponent(ticket.ticket)}`);
  socket = ws;
  ws.addEventListener("open", () => {
    retry = 0;
    showBanner(null);
    send({ type: "hello", lastSeq });
    lastHeard = Date.now();
    clearInterval(pingTimer);
    // Keep-alive, and detection of a connection that died without a close:
    // the server answers every ping, so 45 s of silence means it is gone.
    pingTimer = setInterval(() => {
      if (Date.now() - lastHeard > 45_000) return drop(ws);
      if (ws.readyState === WebSocket.OPEN) ws.send('{"type":"ping"}');
    }, 15_000);
  });
  ws.addEventListener("message", (e) => {
    lastHeard = Date.now();
    onFrame(JSON.parse(e.data as string) as ServerFrame | { type: "pong" });
  });
  ws.addEventListener("close", () => drop(ws));
}

/** Forgets a socket that closed or went silent, and plans the next attempt. */
function drop(ws: WebSocket): void {
  if (socket !== ws) return;
  socket = null;
  clearInterval(pingTimer);
  try {
    ws.close();
  } catch {
    // already closed
  }
  scheduleReconnect();
}

/** Forgets the visitor's conversation locally; the next connect makes a new one. */
function startAfresh(): void {
  session = null;
  try {
    localStorage.removeItem(SESSION_KEY);
  } catch {
    // ignore
  }
  messages.clear();
  lastSeq = 0;
  hasMore = false;
  render();
}

function scheduleReconnect(): void {
  retry++;
  showBanner(navigator.onLine ? "Reconnecting…" : "You're offline. Messages will be sent when you're back.");
  const delay = Math.min(10_000, 500 * 2 ** Math.min(retry - 1, 5)) * (0.75 + Math.random() / 2);
  clearTimeout(reconnectTimer);
  reconnectTimer = setTimeout(() => void connect(), delay);
}

function onFrame(frame: ServerFrame | { type: "pong" }): void {
  switch (frame.type) {
    case "welcome":
      available = frame.available ?? true;
      if (lastSeq === 0) hasMore = frame.hasMore;
      addMessages(frame.messages);
      setState(frame.state);
      flushOutbox();
      break;
    case "messages":
      addMessages(frame.messages);
      break;
    case "message":
      addMessages([frame.message]);
      if (frame.message.author.role === "operator") {
        available = true; // someone is answering right now
        // For Microchat.on("message", fn) on the host page.
        parent.postMessage(
          {
            microchat: "message",
            message: { text: frame.message.text, author: frame.message.author.name, at: frame.message.at },
          },
          hostOrigin,
        );
      }
      if (!visible && frame.message.author.role === "operator") {
        unread++;
        notifyUnread();
      }
      break;
    case "ack": {
      const sent = outbox.find((p) => p.clientId === frame.clientId);
      if (sent && session) {
        addMessages([
          {
            seq: frame.seq,
            clientId: sent.clientId,
            kind: "text",
            author: { role: "visitor", id: session.visitorId, name: "" },
            text: sent.text,
            at: frame.at,
          },
        ]);
      }
      outbox = outbox.filter((p) => p.clientId !== frame.clientId);
      save(OUTBOX_KEY, outbox);
      break;
    }
    case "history":
      loadingOlder = false;
      hasMore = frame.hasMore;
      addMessages(frame.messages, true);
      return;
    case "state":
      setState(frame.state, true);
      return;
    case "error":
      if (frame.code === "deleted") {
        startAfresh();
        return;
      }
      if (frame.code === "rate_limited" && frame.clientId) {
        // Too fast: the message stays in the outbox and goes again after the wait. Nothing is lost.
        const p = outbox.find((x) => x.clientId === frame.clientId);
        if (p) setTimeout(() => send({ type: "send", clientId: p.clientId, text: p.text }), frame.retryAfterMs ?? 1000);
        showError(frame.message);
        setTimeout(() => showError(null), frame.retryAfterMs ?? 1000);
        break;
      }
      if (frame.clientId) {
        // A refused message will not be accepted by resending: take it out of the outbox.
        outbox = outbox.filter((p) => p.clientId !== frame.clientId);
        save(OUTBOX_KEY, outbox);
      }
      showError(frame.message);
      break;
    case "pong":
      return;
  }
  render();
}

function addMessages(list: Message[], older = false): void {
  for (const m of list) {
    messages.set(m.seq, m);
    if (m.seq > lastSeq) lastSeq = m.seq;
    // Our own message came back (e.g. acked on another tab): drop its pending copy.
    outbox = outbox.filter((p) => p.clientId !== m.clientId);
  }
  if (older) {
    const before = log.scrollHeight;
    render();
    log.scrollTop += log.scrollHeight - before;
  }
}

// ---------------------------------------------------------------------------
// Input

function submit(): void {
  const text = input.value.trim();
  if (!text) return;
  showError(null);
  const p: Pending = { clientId: crypto.randomUUID(), text, at: Date.now() };
  outbox.push(p);
  save(OUTBOX_KEY, outbox);
  input.value = "";
  autosize();
  pinned = true;
  render();
  send({ type: "send", clientId: p.clientId, text: p.text });
}

function autosize(): void {
  input.style.height = "auto";
  input.style.height = `${Math.min(input.scrollHeight, 120)}px`;
}

form.addEventListener("submit", (e) => {
  e.preventDefault();
  submit();
});
input.addEventListener("keydown", (e) => {
  // Enter sends; Shift+Enter makes a new line; never while an IME is composing.
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    submit();
  }
});
input.addEventListener("input", autosize);
input.addEventListener("paste", (e) => {
  // A pasted picture (a screenshot) is sent like an attached one.
  const files = [...(e.clipboardData?.files ?? [])];
  if (files.length > 0) {
    e.preventDefault();
    for (const f of files) void upload(f);
  }
});
log.addEventListener("scroll", () => {
  // A hidden log (the chat minimised) has no size and says nothing about where the visitor was.
  // Our own scroll says nothing either: the content may have grown again before its event.
  if (log.clientHeight > 0 && log.scrollTop !== followedTo) {
    pinned = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  }
  if (log.scrollTop < 60 && hasMore && !loadingOlder) {
    const first = Math.min(...messages.keys());
    if (Number.isFinite(first)) {
      loadingOlder = true;
      send({ type: "history", beforeSeq: first });
      render();
    }
  }
});
const minimise = () => parent.postMessage({ microchat: "minimise" }, hostOrigin);
$("minimise").addEventListener("click", minimise);
document.addEventListener("keydown", (e) => {
  if (e.key === "Escape" && !e.isComposing) minimise();
});
window.addEventListener("message", (e) => {
  if (e.source !== parent || e.origin !== hostOrigin) return;
  const data = e.data as { microchat?: string } | null;
  if (data?.microchat === "opened") {
    visible = true;
    unread = 0;
    notifyUnread();
    input.focus();
  } else if (data?.microchat === "minimised") {
    visible = false;
  }
});
window.addEventListener("offline", () => {
  // The browser knows the network is gone: say so now rather than after a timeout.
  if (socket) drop(socket);
});
window.addEventListener("online", () => {
  retry = 0;
  void connect();
});

render();
void connect();
// The composer is disabled in frame.html until now, when every handler is
// bound: before, an Enter would have been a newline and nothing sent. Should
// text be in the box anyway (a browser restoring a draft), it is kept, and if
// it ends with an Enter that came before the handler, it is sent now.
for (const el of form.elements) (el as HTMLButtonElement).disabled = false;
if (input.value.endsWith("\n")) submit();
else autosize();
input.focus();
