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
  Message,
  ServerFrame,
  SocketTicket,
  VisitorSession,
} from "../../worker/protocol";

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
let session: VisitorSession | null = load<VisitorSession>(SESSION_KEY);
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

function render(): void {
  const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  const items: HTMLLIElement[] = [];
  if (hasMore) {
    const more = document.createElement("li");
    more.className = "more";
    more.textContent = loadingOlder ? "Loading earlier messages…" : "Scroll up for earlier messages";
    items.push(more);
  }
  for (const m of [...messages.values()].sort((a, b) => a.seq - b.seq)) {
    if (m.kind === "event") {
      const li = document.createElement("li");
      li.className = "ev";
      li.textContent = m.text;
      items.push(li);
    } else {
      const li = bubble(m, m.author.role, m.author.role === "operator" ? m.author.name : null);
      li.dataset.seq = String(m.seq);
      items.push(li);
    }
  }
  for (const p of outbox) {
    const li = bubble(p, "visitor", null, "pending");
    li.dataset.clientId = p.clientId;
    items.push(li);
  }
  log.replaceChildren(...items);
  empty.hidden = items.length > 0;
  offerProfile();
  if (atBottom) log.scrollTop = log.scrollHeight;
}

const profileForm = $<HTMLFormElement>("profile");
const PROFILE_SKIP_KEY = `microchat:profile-skipped:${siteKey}`;
let known = false;

/** Offers the name/email form once the visitor has written and is still anonymous. */
function offerProfile(): void {
  const wrote = [...messages.values()].some((m) => m.author.role === "visitor") || outbox.length > 0;
  profileForm.hidden = known || !wrote || load<boolean>(PROFILE_SKIP_KEY) === true;
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
  profileForm.hidden = true;
});

function setState(state: ConversationState): void {
  known = state.visitor.name !== null || state.visitor.email !== null;
  const names = state.operators.map((o) => o.name);
  $("sub").textContent =
    names.length > 0 ? `You're chatting with ${names.join(", ")}` : "We usually reply in a few minutes";
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
    if ((err as { status?: number }).status === 401) {
      // The token is no longer valid (for example the secret was rotated): start afresh.
      session = null;
      localStorage.removeItem(SESSION_KEY);
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
      setState(frame.state);
      offerProfile();
      return;
    case "error":
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
  render();
  log.scrollTop = log.scrollHeight;
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
log.addEventListener("scroll", () => {
  if (log.scrollTop < 60 && hasMore && !loadingOlder) {
    const first = Math.min(...messages.keys());
    if (Number.isFinite(first)) {
      loadingOlder = true;
      send({ type: "history", beforeSeq: first });
      render();
    }
  }
});
$("minimise").addEventListener("click", () => parent.postMessage({ microchat: "minimise" }, hostOrigin));
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
input.focus();
