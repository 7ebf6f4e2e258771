/**
 * Who the visitor is: a visitor session (random id + server-signed token for
 * their own conversation only). The loader keeps it in the host page's
 * storage, so a reload or another page of the same site shows the same
 * conversation, and hands it to us by postMessage when we ask (never in our
 * URL); we tell it when we make a new one or the server rotates the token.
 *
 * The token is sent as a bearer header, never put in a URL: the socket gets a
 * short-lived single-use ticket instead (`socketPath`). A token the server
 * refused (expired, logged out, replaced by a login, its conversation
 * deleted) is never used again.
 */
import type { SocketTicket, VisitorSession } from "../../worker/protocol";
import { param, sessionFromHost, toHost } from "./host";

/** The site key the widget was embedded with. */
export const siteKey = param("k") ?? "";

/** A value from this origin's localStorage, or null (missing, unreadable or storage blocked). */
export function load<T>(key: string): T | null {
  try {
    const raw = localStorage.getItem(key);
    return raw ? (JSON.parse(raw) as T) : null;
  } catch {
    return null;
  }
}

/** Stores a value; null removes it. */
export function save(key: string, value: unknown): void {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, JSON.stringify(value));
  } catch {
    // Storage full or blocked: the chat still works for this page view.
  }
}

let session: VisitorSession | null = null;
let pending: Promise<VisitorSession> | null = null;
/** The last token the server refused: the loader may still hold it, but it is not taken again. */
let refused: string | null = null;

/** The session, if there is one yet (there is none before the first connect of a new visitor). */
export const currentSession = (): VisitorSession | null => session;

/** Takes a session (from the server or the loader) and tells the loader, which keeps it. */
function adopt(next: VisitorSession, tellHost: boolean): VisitorSession {
  session = next;
  if (tellHost) toHost("session", { session: next });
  return next;
}

/** A failed request, with the HTTP status. */
type HttpError = Error & { status?: number };

async function api<T>(path: string, init: RequestInit): Promise<T> {
  const res = await fetch(path, init);
  if (!res.ok) {
    const body = (await res.json().catch(() => null)) as { error?: { message?: string } } | null;
    const err: HttpError = new Error(body?.error?.message ?? `HTTP ${res.status}`);
    err.status = res.status;
    throw err;
  }
  return (await res.json()) as T;
}

/**
 * The session: the loader's, or (when it has none, or only the one the
 * server refused) a new one, made on first use (a visitor who only looks
 * never gets one).
 */
export function ensureSession(): Promise<VisitorSession> {
  if (session) return Promise.resolve(session);
  // One request at a time, however many parts ask (the socket, an upload).
  pending ??= (async () => {
    const held = await sessionFromHost();
    if (held && held.token !== refused) return adopt(held, false);
    const made = await api<VisitorSession>("/api/visitor/session", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ siteKey }),
    });
    // The loader records page views under this identity from now on.
    return adopt(made, true);
  })().finally(() => (pending = null));
  return pending;
}

/**
 * Forgets the session the server refused; the next connect takes the
 * loader's if that is another (say a login in another tab gave it a fresh
 * token), else makes a new one (and a new, empty conversation).
 */
export function forgetSession(): void {
  refused = session?.token ?? refused;
  session = null;
}

/**
 * The visitor socket's path for the next attempt, with a fresh ticket (and
 * the rotated token, when the server hands one back).
 * A refused token (expired, logged out, replaced, the secret rotated) or a
 * deleted conversation calls `onGone` and fails this attempt; the next one
 * starts afresh.
 */
export async function socketPath(onSession: (s: VisitorSession) => void, onGone: () => void): Promise<string> {
  try {
    const s = await ensureSession();
    onSession(s);
    const answer = await api<SocketTicket>("/api/visitor/ticket", {
      method: "POST",
      headers: { Authorization: `Bearer ${s.token}` },
    });
    if (answer.session && session === s) adopt(answer.session, true);
    return `/ws/visitor?ticket=${encodeURIComponent(answer.ticket)}`;
  } catch (err) {
    const status = (err as HttpError).status;
    if (status === 401 || status === 410) onGone();
    throw err;
  }
}
